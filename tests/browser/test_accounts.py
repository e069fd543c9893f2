"""Accounts in the real PWA: sign-out leaves nothing behind the Back button, a reset code from
the clinician lets a patient in, the password is changed and other devices signed out from the
account screen, and the clinic deactivates a patient and resets a clinician."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, describe_violations, screenshot
from tests.conftest import PASSWORD, Browser

ALICE = "alice@example.org"
NEW_PASSWORD = "four words to remember"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def desk(chromium, live_server):
    """A clinician's browser at desktop size, beside the patient's phone; fails on JS errors."""
    context = chromium.new_context(viewport=DESKTOP, base_url=live_server, service_workers="allow")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page: Page, email: str, password: str = PASSWORD, heading: str = "Hello, Alice A"):
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def an_entry_for_alice(world) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "instrument": "phq9",
        "answers": [2, 2, 1, 1, 2, 1, 1, 1, 0],
        "taken_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "context": "routine",
        "note": "slept badly all week",
    }
    assert world.as_patient_a().post("/api/v1/patients/me/entries", json=body).status_code == 201


# ---------------------------------------------------------------- sign-out and Back


def test_after_sign_out_the_back_button_shows_no_patient_data(page, world):
    an_entry_for_alice(world)
    sign_in(page, ALICE)
    nav(page, "History")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your history")
    expect(page.locator("main")).to_contain_text("11")
    nav(page, "My data")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    for _ in range(3):
        page.go_back()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        expect(page.locator("main")).not_to_contain_text("Alice")
        expect(page.locator("main")).not_to_contain_text("Your history")
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    screenshot(page, "accounts-back-after-sign-out")


def test_after_sign_out_the_patients_api_answers_are_never_cached(page, world):
    sign_in(page, ALICE)
    answers = []
    page.on(
        "response",
        lambda response: answers.append(response) if "/api/v1/" in response.url else None,
    )
    nav(page, "History")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your history")

    assert answers
    assert all(r.headers.get("cache-control") == "no-store" for r in answers), [
        (r.url, r.headers.get("cache-control")) for r in answers
    ]
    cached = page.evaluate(
        """async () => {
            const names = await caches.keys();
            const urls = [];
            for (const name of names) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) urls.push(request.url);
            }
            return urls.filter((url) => url.includes('/api/'));
        }"""
    )
    assert cached == []


# ---------------------------------------------------------------- reset codes


def test_a_reset_code_issued_by_the_clinician_lets_the_patient_in(page, desk, world):
    old_phone = world.as_patient_a()
    sign_in(desk, "doc.x@example.org", heading="Patients")
    desk.goto(f"/#/patient?id={world.patient_a.id}")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Alice A")
    account = desk.get_by_role("region", name="Account", exact=True)
    account.get_by_role("button", name="Issue a reset code").click()
    code = account.locator("strong.code")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9-]{14}$"))
    link = account.get_by_role("link").get_attribute("href")
    expect(
        account.get_by_role("img", name=re.compile("QR code for the reset link"))
    ).to_be_visible()
    assert "?" not in link and urlsplit(link).fragment == f"reset={code.inner_text()}"
    screenshot(desk, "accounts-reset-code-issued")

    url = urlsplit(link)
    page.goto(f"{url.path}#{url.fragment}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password")
    expect(page.get_by_label("Reset code")).to_have_value(code.inner_text())
    assert "reset=" not in page.url  # taken off the address bar and the history
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    assert old_phone.get("/api/v1/auth/me").status_code == 401
    assert Browser(world.app).login(ALICE, NEW_PASSWORD).status_code == 200


def test_the_sign_in_screen_leads_to_the_reset_screen_and_a_typed_code_works(page, world):
    code = world.as_clinician_x().post(f"/api/v1/patients/{world.patient_a.id}/enrollment")
    page.goto("/#/signin")

    page.get_by_role("link", name="I have a reset code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password")
    page.get_by_label("Reset code").fill(code.json["code"].replace("-", "").lower())
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")


def test_a_used_reset_code_is_refused_on_screen(page, world):
    code = world.as_clinician_x().post(f"/api/v1/patients/{world.patient_a.id}/enrollment")
    assert (
        Browser(world.app)
        .post("/api/v1/auth/reset", json={"code": code.json["code"], "new_password": NEW_PASSWORD})
        .status_code
        == 200
    )
    page.goto("/#/reset")

    page.get_by_label("Reset code").fill(code.json["code"])
    page.get_by_label("New password").fill("yet another password")
    page.get_by_role("button", name="Set password and sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password")


def test_an_admin_gives_a_clinician_a_reset_code_from_the_admin_page(desk, world):
    sign_in(desk, "admin.x@example.org", heading="Patients")
    nav(desk, "Clinic admin")
    clinicians = desk.get_by_role("region", name="Clinicians", exact=True)

    clinicians.get_by_role("button", name="Reset code for Dr Test").first.click()

    code = clinicians.locator("strong.code")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9-]{14}$"))
    reset = Browser(world.app).post(
        "/api/v1/auth/reset", json={"code": code.inner_text(), "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 200
    assert reset.json["user"]["role"] == "clinician"


# ---------------------------------------------------------------- the account screen


def test_a_patient_changes_their_password_from_the_account_screen(page, world):
    other_phone = world.as_patient_a()
    sign_in(page, ALICE)
    nav(page, "Account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Account")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    expect(page.get_by_role("status").filter(has_text="Password changed")).to_be_visible()
    assert other_phone.get("/api/v1/auth/me").status_code == 401
    devices = page.get_by_role("region", name="Signed-in devices")
    expect(devices.get_by_role("listitem")).to_have_count(1)
    expect(devices).to_contain_text("(this device)")
    screenshot(page, "accounts-password-changed")
    nav(page, "History")  # still signed in here
    expect(page.get_by_role("heading", level=1)).to_have_text("Your history")
    assert Browser(world.app).login(ALICE, NEW_PASSWORD).status_code == 200


def test_a_wrong_current_password_is_shown_beside_its_field(page, world):
    sign_in(page, ALICE)
    nav(page, "Account")

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    expect(page.get_by_role("alert")).to_contain_text("not your current password")
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")


def test_sign_out_everywhere_else_from_the_devices_list(page, world):
    laptop = world.as_patient_a()
    sign_in(page, ALICE)
    nav(page, "Account")
    devices = page.get_by_role("region", name="Signed-in devices")
    expect(devices.get_by_role("listitem")).to_have_count(2)

    devices.get_by_role("button", name="Sign out everywhere else").click()

    expect(devices.get_by_role("listitem")).to_have_count(1)
    expect(devices).to_contain_text("You are not signed in anywhere else.")
    assert laptop.get("/api/v1/auth/me").status_code == 401


def test_a_clinician_changes_their_password_on_their_account_page(desk, world):
    sign_in(desk, "doc.x@example.org", heading="Patients")
    nav(desk, "Account")

    desk.get_by_label("Current password").fill(PASSWORD)
    desk.get_by_label("New password").fill(NEW_PASSWORD)
    desk.get_by_role("button", name="Change password").click()

    expect(desk.get_by_role("status").filter(has_text="Password changed")).to_be_visible()
    assert Browser(world.app).login("doc.x@example.org", NEW_PASSWORD).status_code == 200


# ---------------------------------------------------------------- deactivation


def test_a_clinician_deactivates_a_patient_who_is_then_signed_out(page, desk, world):
    sign_in(page, ALICE)
    sign_in(desk, "doc.x@example.org", heading="Patients")
    desk.goto(f"/#/patient?id={world.patient_a.id}")
    account = desk.get_by_role("region", name="Account", exact=True)

    account.get_by_role("button", name="Deactivate Alice A").click()

    expect(account.get_by_role("button", name="Activate Alice A")).to_be_visible()
    expect(desk.get_by_text("Deactivated: cannot sign in.", exact=False)).to_be_visible()
    nav(page, "History")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    account.get_by_role("button", name="Activate Alice A").click()
    expect(account.get_by_role("button", name="Deactivate Alice A")).to_be_visible()
    sign_in(page, ALICE)


# ---------------------------------------------------------------- accessibility


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_reset_and_account_screens_are_axe_clean(page, world, scheme):
    page.emulate_media(color_scheme=scheme)
    world.as_patient_a()  # another device in the list
    found = {}
    page.goto("/#/reset")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password")
    found["reset"] = axe_violations(page)
    sign_in(page, ALICE)
    nav(page, "Account")
    expect(page.get_by_role("button", name="Sign out everywhere else")).to_be_visible()
    found["account"] = axe_violations(page)
    screenshot(page, f"accounts-account-{scheme}")

    found = {name: violations for name, violations in found.items() if violations}
    report = "\n".join(f"{name}:\n{describe_violations(v)}" for name, v in found.items())
    assert not found, f"axe violations ({scheme}):\n{report}"
