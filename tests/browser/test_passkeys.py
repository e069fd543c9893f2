"""Passkeys in a real Chromium with its virtual authenticator (DevTools' WebAuthn domain through
Playwright's CDP session): register one after signing in, sign out, sign in with it alone.

WebAuthn refuses IP addresses as relying-party ids, so these pages load from
http://localhost:<port> (a secure context, like 127.0.0.1) on the same live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from server.data.models import User
from tests.authenticator import register_passkey
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import PASSWORD, Browser, database, make_clinician

VIRTUAL_PHONE = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


@pytest.fixture
def phone(chromium, live_server):
    """A page on localhost with a platform authenticator that verifies the user: (page, cdp,
    the authenticator's id)."""
    context = chromium.new_context(
        viewport=PHONE,
        base_url=live_server.replace("127.0.0.1", "localhost"),
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_PHONE})
    yield page, cdp, added["authenticatorId"]
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in_with_password(page: Page, email: str, heading: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def add_passkey(page: Page, name: str) -> None:
    page.get_by_label("Name it").fill(name)
    page.get_by_role("button", name="Add a passkey on this device").click()
    expect(page.get_by_role("status")).to_contain_text(f'The passkey "{name}" was added')


def test_a_patient_registers_a_passkey_signs_out_and_signs_in_with_it_alone(app, world, phone):
    page, cdp, authenticator_id = phone
    sign_in_with_password(page, "alice@example.org", "Hello, Alice A")
    page.get_by_role("link", name="My data").click()
    page.get_by_role("link", name="Your passkeys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passkeys")
    expect(page.get_by_text("No passkeys yet.")).to_be_visible()

    add_passkey(page, "Alice's phone")

    expect(page.get_by_role("listitem").filter(has_text="Alice's phone")).to_contain_text(
        "not used yet"
    )
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert [c["isResidentCredential"] for c in held["credentials"]] == [True]
    screenshot(page, "passkeys-registered")

    page.get_by_role("link", name="Back to My data").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_label("Password")).to_have_value("")
    screenshot(page, "passkeys-sign-in")
    page.get_by_role("button", name="Use a passkey instead").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    browser = Browser(app)
    browser.login("alice@example.org")
    (passkey,) = browser.get("/api/v1/auth/passkeys").json["items"]
    assert passkey["name"] == "Alice's phone"
    assert passkey["last_used_at"] is not None
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert held["credentials"][0]["signCount"] >= 1


def test_a_clinician_whose_clinic_requires_a_passkey_is_asked_for_one_then_needs_it(
    app, world, phone
):
    page, _, _ = phone
    admin = world.as_admin_x()
    assert (
        admin.patch("/api/v1/clinic", json={"require_passkey_for_clinicians": True}).status_code
        == 200
    )

    page.goto("/#/signin")
    page.get_by_label("Email").fill("doc.x@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Passkeys")
    expect(page.get_by_text("Your clinic asks you to sign in with a passkey.")).to_be_visible()
    add_passkey(page, "Desk computer")
    expect(page.get_by_text("Your clinic asks you to sign in with a passkey.")).to_have_count(0)
    screenshot(page, "passkeys-clinician-required")

    page.get_by_role("link", name="Back to Account").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill("doc.x@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("passkey")

    page.get_by_role("button", name="Use a passkey instead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")


def test_an_admin_removes_the_passkeys_of_a_clinician_who_lost_their_device(
    app, world, phone, page
):
    clinician_page, cdp, lost_phone = phone
    with database(app) as session:
        session.get(User, world.clinician_x.id).display_name = "Dr Xavier"
        session.commit()
        colleague = make_clinician(session.get(User, world.admin_x.id).clinic, "yara@example.org")
        session.get(User, colleague.id).display_name = "Dr Yara"
        session.commit()
    admin_api = world.as_admin_x()
    assert (
        admin_api.patch("/api/v1/clinic", json={"require_passkey_for_clinicians": True}).status_code
        == 200
    )
    yara = Browser(app)
    assert yara.login("yara@example.org").status_code == 200
    assert register_passkey(yara, "Yara's key")[0].status_code == 201
    # Dr Xavier signs in with the password once, makes a passkey on the phone, then loses it.
    sign_in_with_password(clinician_page, "doc.x@example.org", "Passkeys")
    add_passkey(clinician_page, "Xavier's phone")
    clinician_page.get_by_role("link", name="Back to Account").click()
    clinician_page.get_by_role("button", name="Sign out").click()
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": lost_phone})
    clinician_page.get_by_label("Email").fill("doc.x@example.org")
    clinician_page.get_by_label("Password").fill(PASSWORD)
    clinician_page.get_by_role("button", name="Sign in", exact=True).click()
    expect(clinician_page.get_by_role("alert")).to_contain_text("passkey")

    # The admin removes Dr Xavier's passkeys in Clinic admin.
    # (the admin has no passkey yet either, so is asked for one first)
    sign_in_with_password(page, "admin.x@example.org", "Passkeys")
    page.get_by_role("link", name="Clinic admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic admin")
    chooser = page.get_by_label("Lost device: remove the passkeys of")
    expect(chooser.locator("option")).to_have_count(3)
    assert sorted(chooser.locator("option").all_text_contents()) == [
        "Choose a clinician",
        "Dr Xavier",
        "Dr Yara",
    ]
    page.get_by_role("button", name="Remove their passkeys").click()  # nobody chosen yet
    expect(chooser).to_be_focused()
    expect(page.get_by_role("status")).to_have_count(0)
    chooser.select_option(label="Dr Xavier")
    page.get_by_role("button", name="Remove their passkeys").click()
    expect(page.get_by_role("status")).to_have_text(
        "Dr Xavier has no passkeys now: they sign in with their password and make a new one."
    )
    screenshot(page, "passkeys-admin-lost-device")

    # Dr Xavier signs in with the password again, is asked for a passkey and makes a new one
    # on the new phone; Dr Yara's passkey was not touched.
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_PHONE})
    clinician_page.get_by_role("button", name="Sign in", exact=True).click()
    expect(clinician_page.get_by_role("heading", level=1)).to_have_text("Passkeys")
    expect(
        clinician_page.get_by_text("Your clinic asks you to sign in with a passkey.")
    ).to_be_visible()
    expect(clinician_page.get_by_text("Xavier's phone")).to_have_count(0)
    add_passkey(clinician_page, "Xavier's new phone")
    screenshot(clinician_page, "passkeys-after-lost-device")
    assert [p["name"] for p in yara.get("/api/v1/auth/passkeys").json["items"]] == ["Yara's key"]
