"""Passkeys over HTTP: register one after signing in, sign in with it without a password, list
and remove them, and the clinic's requirement for clinicians. A software authenticator
(tests/authenticator.py) plays the browser and the phone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server.data.models import AuditEvent, Passkey, PasskeyChallenge, User
from tests.authenticator import (
    SoftAuthenticator,
    b64url,
    login_options,
    passkey_login,
    register_passkey,
)
from tests.conftest import PASSWORD, Browser, TokenClient, database

PASSKEYS = "/api/v1/auth/passkeys"
LOGIN = "/api/v1/auth/passkey-login"


def audit_of(app, action: str) -> list[AuditEvent]:
    with database(app) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def try_login(app, credential: dict):
    return Browser(app).post(LOGIN, json={"credential": credential})


@pytest.fixture
def alice(world):
    """Patient A signed in, with one passkey registered: (her browser, her authenticator)."""
    browser = world.as_patient_a()
    response, authenticator = register_passkey(browser, "Alice's phone")
    assert response.status_code == 201, response.json
    return browser, authenticator


# ---------------------------------------------------------------- registering


def test_a_signed_in_patient_registers_a_passkey_and_sees_it_listed(world):
    browser = world.as_patient_a()

    response, _ = register_passkey(browser, "  My phone ")

    assert response.status_code == 201, response.json
    assert set(response.json) == {"id", "name", "created_at", "last_used_at"}
    assert response.json["name"] == "My phone"
    assert response.json["last_used_at"] is None
    listed = browser.get(PASSKEYS).json["items"]
    assert [(p["id"], p["name"]) for p in listed] == [(response.json["id"], "My phone")]
    assert len(audit_of(world.app, "passkey.create")) == 1


def test_the_creation_options_name_this_site_and_the_user_and_ask_for_a_verified_passkey(world):
    browser = world.as_clinician_x()

    options = browser.post(f"{PASSKEYS}/registration/options").json

    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == "doc.x@example.org"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["timeout"] == 300_000
    assert options["excludeCredentials"] == []


def test_a_second_registration_excludes_the_passkeys_already_registered(alice):
    browser, authenticator = alice

    options = browser.post(f"{PASSKEYS}/registration/options").json

    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(authenticator.credential_id)]


def test_the_same_passkey_cannot_be_registered_twice(alice):
    browser, authenticator = alice

    again, _ = register_passkey(browser, "again", authenticator=authenticator)

    assert again.status_code == 409
    assert len(browser.get(PASSKEYS).json["items"]) == 1


def test_registration_against_a_challenge_the_server_never_gave_is_refused(world):
    browser = world.as_patient_a()
    credential = SoftAuthenticator().create(
        {"challenge": b64url(b"x" * 32), "user": {"id": b64url(b"u")}, "rp": {"id": "localhost"}}
    )

    response = browser.post(PASSKEYS, json={"name": "phone", "credential": credential})

    assert response.status_code == 422
    assert "credential" in response.json["errors"]["json"]
    assert browser.get(PASSKEYS).json["items"] == []


def test_a_registration_challenge_works_once(world):
    browser = world.as_patient_a()
    options = browser.post(f"{PASSKEYS}/registration/options").json
    first = browser.post(
        PASSKEYS, json={"name": "one", "credential": SoftAuthenticator().create(options)}
    )

    second = browser.post(
        PASSKEYS, json={"name": "two", "credential": SoftAuthenticator().create(options)}
    )

    assert first.status_code == 201
    assert second.status_code == 422
    assert [p["name"] for p in browser.get(PASSKEYS).json["items"]] == ["one"]


def test_registration_from_another_origin_is_refused(world):
    browser = world.as_patient_a()
    options = browser.post(f"{PASSKEYS}/registration/options").json
    credential = SoftAuthenticator().create(options, origin="https://evil.example")

    response = browser.post(PASSKEYS, json={"name": "phone", "credential": credential})

    assert response.status_code == 422
    assert browser.get(PASSKEYS).json["items"] == []


def test_a_challenge_given_to_another_user_cannot_register_a_passkey_for_me(world):
    bobs_options = world.as_patient_b().post(f"{PASSKEYS}/registration/options").json
    alice = world.as_patient_a()

    response = alice.post(
        PASSKEYS, json={"name": "x", "credential": SoftAuthenticator().create(bobs_options)}
    )

    assert response.status_code == 422
    assert alice.get(PASSKEYS).json["items"] == []


@pytest.mark.parametrize(
    "credential",
    [{}, {"id": "x"}, {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}],
)
def test_a_malformed_registration_credential_is_a_422(world, credential):
    browser = world.as_patient_a()

    response = browser.post(PASSKEYS, json={"name": "phone", "credential": credential})

    assert response.status_code == 422


def test_nobody_signed_out_can_start_a_registration(app):
    assert Browser(app).post(f"{PASSKEYS}/registration/options").status_code == 401


def test_a_bearer_token_cannot_manage_passkeys(world):
    client = TokenClient(world.app, world.token_for(world.clinician_x))

    assert client.post(f"{PASSKEYS}/registration/options").status_code == 403
    assert client.get(PASSKEYS).status_code == 403


# ---------------------------------------------------------------- signing in


@pytest.mark.usefixtures("each_session_store")
def test_a_patient_signs_in_with_their_passkey_and_no_password(app, world, alice):
    _, authenticator = alice
    browser = Browser(app)

    response = passkey_login(browser, authenticator)

    assert response.status_code == 200, response.json
    assert response.json["user"]["email"] == "alice@example.org"
    assert browser.get("/api/v1/auth/me").json["user"]["id"] == response.json["user"]["id"]
    # The session works for writes too: the CSRF token of the answer is the session's.
    assert browser.post("/api/v1/auth/logout").status_code == 204
    (record,) = audit_of(app, "auth.passkey_login")
    assert record.actor_id == response.json["user"]["id"]
    with database(app) as session:
        assert session.scalar(select(Passkey.last_used_at)) is not None


@pytest.mark.usefixtures("each_session_store")
def test_a_clinician_signs_in_with_a_passkey(app, world):
    _, authenticator = register_passkey(world.as_clinician_x())

    response = passkey_login(Browser(app), authenticator)

    assert response.status_code == 200
    assert response.json["user"]["role"] == "clinician"


def test_the_request_options_ask_for_a_verified_discoverable_passkey(app):
    options = login_options(Browser(app))

    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []


def test_a_sign_in_against_a_challenge_the_server_never_gave_is_refused(app, alice):
    _, authenticator = alice

    response = try_login(app, authenticator.get({"challenge": b64url(b"y" * 32)}))

    assert response.status_code == 401
    assert audit_of(app, "auth.passkey_login_failed")[0].detail["reason"] == "unknown_challenge"


def test_a_replayed_assertion_does_not_sign_in_again(app, alice):
    _, authenticator = alice
    credential = authenticator.get(login_options(Browser(app)))

    first = try_login(app, credential)
    replay = try_login(app, credential)

    assert first.status_code == 200
    assert replay.status_code == 401


def test_a_login_challenge_works_once_even_with_a_fresh_signature(app, alice):
    _, authenticator = alice
    options = login_options(Browser(app))

    first = try_login(app, authenticator.get(options))
    second = try_login(app, authenticator.get(options))  # newly signed, higher count

    assert first.status_code == 200
    assert second.status_code == 401


def test_an_expired_challenge_does_not_sign_in(app, alice):
    _, authenticator = alice
    options = login_options(Browser(app))
    with database(app) as session:
        session.execute(
            update(PasskeyChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()

    assert try_login(app, authenticator.get(options)).status_code == 401


def test_an_assertion_made_on_another_origin_does_not_sign_in(app, alice):
    _, authenticator = alice
    credential = authenticator.get(login_options(Browser(app)), origin="https://evil.example")

    response = try_login(app, credential)

    assert response.status_code == 401
    assert audit_of(app, "auth.passkey_login_failed")[0].detail["reason"] == "not_verified"


def test_a_passkey_nobody_registered_does_not_sign_in(app, alice):
    stranger = SoftAuthenticator()
    stranger.user_handle = alice[1].user_handle

    response = try_login(app, stranger.get(login_options(Browser(app))))

    assert response.status_code == 401
    assert audit_of(app, "auth.passkey_login_failed")[0].detail["reason"] == "unknown_passkey"


def test_my_passkey_cannot_sign_in_as_another_user(app, world, alice):
    _, authenticator = alice
    bob = world.account_of(world.patient_b)

    response = try_login(
        app, authenticator.get(login_options(Browser(app)), user_handle=bob.id.encode())
    )

    assert response.status_code == 401
    assert audit_of(app, "auth.passkey_login_failed")[0].detail["reason"] == "wrong_user"


def test_a_signature_by_another_key_does_not_sign_in(app, alice):
    _, authenticator = alice
    impostor = SoftAuthenticator()
    impostor.credential_id = authenticator.credential_id  # a known id, but not the key
    impostor.user_handle = authenticator.user_handle

    assert try_login(app, impostor.get(login_options(Browser(app)))).status_code == 401


def test_a_sign_count_that_goes_back_is_refused_as_a_possible_clone(app, alice):
    _, authenticator = alice
    assert passkey_login(Browser(app), authenticator, sign_count=5).status_code == 200

    cloned = passkey_login(Browser(app), authenticator, sign_count=5)
    older = passkey_login(Browser(app), authenticator, sign_count=3)

    assert (cloned.status_code, older.status_code) == (401, 401)
    reasons = [r.detail["reason"] for r in audit_of(app, "auth.passkey_login_failed")]
    assert reasons == ["sign_count_regressed", "sign_count_regressed"]
    assert passkey_login(Browser(app), authenticator, sign_count=6).status_code == 200


@pytest.mark.usefixtures("each_session_store")
def test_the_passkey_of_a_deactivated_clinician_does_not_sign_in(app, world):
    _, authenticator = register_passkey(world.as_clinician_x())
    world.as_admin_x().post(f"/api/v1/clinicians/{world.clinician_x.id}/deactivate")

    assert passkey_login(Browser(app), authenticator).status_code == 401


@pytest.mark.parametrize("credential", [{}, {"id": "x", "rawId": "x", "response": 3}])
def test_a_malformed_assertion_is_a_401_and_audited(app, credential):
    response = try_login(app, credential)

    assert response.status_code == 401
    assert audit_of(app, "auth.passkey_login_failed")[0].detail["reason"] == "malformed"


def test_failed_passkey_sign_ins_are_limited_per_address_like_passwords(app, alice, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "3 per 15 minutes")
    _, authenticator = alice
    for _ in range(3):
        bad = authenticator.get(login_options(Browser(app)), origin="https://evil.example")
        assert try_login(app, bad).status_code == 401

    refused = passkey_login(Browser(app), authenticator)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert audit_of(app, "auth.passkey_login_failed")[-1].detail["reason"] == "rate_limited"


def test_wrong_passwords_do_not_lock_the_owner_out_of_their_passkey(app, world, alice):
    for _ in range(10):
        Browser(app).login("alice@example.org", "not the password at all")
    assert Browser(app).login("alice@example.org").status_code == 429

    assert passkey_login(Browser(app), alice[1]).status_code == 200


def test_challenges_are_limited_per_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSKEY_CHALLENGES_PER_ADDRESS", "2 per 15 minutes")
    browser = Browser(app)
    login_options(browser)
    login_options(browser)

    assert browser.post(f"{LOGIN}/options").status_code == 429


# ---------------------------------------------------------------- removing


def test_a_removed_passkey_no_longer_signs_in(app, alice):
    browser, authenticator = alice
    (passkey,) = browser.get(PASSKEYS).json["items"]

    assert browser.delete(f"{PASSKEYS}/{passkey['id']}").status_code == 204

    assert browser.get(PASSKEYS).json["items"] == []
    assert passkey_login(Browser(app), authenticator).status_code == 401
    assert len(audit_of(app, "passkey.remove")) == 1


def test_another_users_passkey_id_answers_like_an_unknown_one(app, world, alice):
    browser, _ = alice
    (passkey,) = browser.get(PASSKEYS).json["items"]
    bob = world.as_patient_b()

    theirs = bob.delete(f"{PASSKEYS}/{passkey['id']}")
    unknown = bob.delete(f"{PASSKEYS}/{uuid.uuid4()}")

    assert theirs.status_code == 404
    assert theirs.json == unknown.json
    assert len(browser.get(PASSKEYS).json["items"]) == 1


def test_each_user_lists_only_their_own_passkeys(world, alice):
    assert world.as_patient_b().get(PASSKEYS).json["items"] == []


# ---------------------------------------------------------------- the clinic's requirement


@pytest.fixture
def required(world):
    """Clinic X requires passkeys of its clinicians."""
    response = world.as_admin_x().patch(
        "/api/v1/clinic", json={"require_passkey_for_clinicians": True}
    )
    assert response.status_code == 200, response.json
    return world


def test_the_setting_is_off_by_default_and_shown_to_clinicians(world):
    assert world.as_clinician_x().get("/api/v1/clinic").json["require_passkey_for_clinicians"] is (
        False
    )
    assert "require_passkey_for_clinicians" not in world.as_patient_a().get("/api/v1/clinic").json


def test_only_an_admin_changes_the_setting(world):
    response = world.as_clinician_x().patch(
        "/api/v1/clinic", json={"require_passkey_for_clinicians": True}
    )

    assert response.status_code == 403
    assert world.as_clinician_x().get("/api/v1/clinic").json["require_passkey_for_clinicians"] is (
        False
    )


def test_a_clinician_with_a_passkey_cannot_sign_in_with_a_password_alone(app, required):
    _, authenticator = register_passkey(required.as_clinician_x())

    refused = Browser(app).login("doc.x@example.org")

    assert refused.status_code == 403
    assert "passkey" in refused.json["message"]
    assert passkey_login(Browser(app), authenticator).status_code == 200
    reasons = [r.detail.get("reason") for r in audit_of(app, "auth.login_failed")]
    assert reasons == ["passkey_required"]


def test_a_wrong_password_still_gets_the_usual_401_when_a_passkey_is_required(app, required):
    register_passkey(required.as_clinician_x())

    assert Browser(app).login("doc.x@example.org", "wrong password here").status_code == 401


def test_a_clinician_without_a_passkey_signs_in_and_is_asked_to_register_one(app, required):
    browser = Browser(app)

    response = browser.login("doc.x@example.org")

    assert response.status_code == 200
    assert response.json["user"]["passkey_needed"] is True
    register_passkey(browser)
    assert browser.get("/api/v1/auth/me").json["user"]["passkey_needed"] is False


def test_patients_and_other_clinics_are_not_affected(app, required):
    register_passkey(required.as_patient_a())
    register_passkey(required.as_clinician_y())

    assert Browser(app).login("alice@example.org").status_code == 200
    assert Browser(app).login("doc.y@example.org").status_code == 200
    assert Browser(app).login("alice@example.org").json["user"]["passkey_needed"] is False


def test_a_clinician_cannot_remove_their_last_passkey_while_it_is_required(app, required):
    browser = Browser(app)
    browser.login("doc.x@example.org", PASSWORD)
    register_passkey(browser, "one")
    second, _ = register_passkey(browser, "two")

    assert browser.delete(f"{PASSKEYS}/{second.json['id']}").status_code == 204
    (last,) = browser.get(PASSKEYS).json["items"]
    refused = browser.delete(f"{PASSKEYS}/{last['id']}")

    assert refused.status_code == 409
    assert len(browser.get(PASSKEYS).json["items"]) == 1


def test_an_admin_removes_a_clinicians_passkeys_after_a_lost_device(app, required):
    _, authenticator = register_passkey(required.as_clinician_x())
    assert Browser(app).login("doc.x@example.org").status_code == 403

    removed = required.as_admin_x().delete(f"/api/v1/clinicians/{required.clinician_x.id}/passkeys")

    assert removed.status_code == 204
    signed_in = Browser(app).login("doc.x@example.org")
    assert signed_in.status_code == 200
    assert signed_in.json["user"]["passkey_needed"] is True
    assert passkey_login(Browser(app), authenticator).status_code == 401
    (record,) = audit_of(app, "passkey.remove")
    assert record.actor_id == required.admin_x.id
    assert record.detail["user_id"] == required.clinician_x.id


@pytest.mark.parametrize("who", ["clinician X", "admin of clinic Y"])
def test_only_an_admin_of_the_clinic_removes_a_clinicians_passkeys(app, world, who):
    register_passkey(world.as_clinician_x())
    client = world.as_clinician_x() if who == "clinician X" else None
    if client is None:
        with database(app) as session:
            session.get(User, world.clinician_y.id).is_admin = True
            session.commit()
        client = world.as_clinician_y()

    response = client.delete(f"/api/v1/clinicians/{world.clinician_x.id}/passkeys")

    assert response.status_code == (403 if who == "clinician X" else 404)
    with database(app) as session:
        assert len(session.scalars(select(Passkey)).all()) == 1


def test_the_operator_removes_a_sole_admins_passkeys_from_the_command_line(app, required):
    register_passkey(required.as_admin_x())
    assert Browser(app).login("admin.x@example.org").status_code == 403

    result = app.test_cli_runner().invoke(args=["remove-passkeys", "Admin.X@example.org"])

    assert result.exit_code == 0, result.output
    assert "Removed 1 passkey of admin.x@example.org" in result.output
    assert Browser(app).login("admin.x@example.org").status_code == 200
    (record,) = audit_of(app, "passkey.remove")
    assert (record.actor_id, record.clinic_id) == (None, required.clinic_x.id)


def test_the_command_line_says_when_no_account_has_the_email(app):
    result = app.test_cli_runner().invoke(args=["remove-passkeys", "nobody@example.org"])

    assert result.exit_code != 0
    assert "No account has the email" in result.output


# ---------------------------------------------------------------- the relying party


def test_the_public_url_names_the_relying_party_and_the_origin(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "TIDEMARK_PUBLIC_URL", "https://tidemark.example.org")
    browser = world.as_patient_a()
    options = browser.post(f"{PASSKEYS}/registration/options").json
    authenticator = SoftAuthenticator()

    at_localhost = browser.post(
        PASSKEYS, json={"name": "x", "credential": authenticator.create(options)}
    )
    options = browser.post(f"{PASSKEYS}/registration/options").json
    at_public_url = browser.post(
        PASSKEYS,
        json={
            "name": "phone",
            "credential": authenticator.create(options, origin="https://tidemark.example.org"),
        },
    )

    assert options["rp"]["id"] == "tidemark.example.org"
    assert at_localhost.status_code == 422
    assert at_public_url.status_code == 201, at_public_url.json


def test_an_explicit_rp_id_and_origin_win_over_the_public_url(app, alice, monkeypatch):
    _, authenticator = alice
    monkeypatch.setitem(app.config, "TIDEMARK_PUBLIC_URL", "https://tidemark.example.org")
    monkeypatch.setitem(app.config, "TIDEMARK_PASSKEY_RP_ID", "example.org")
    monkeypatch.setitem(app.config, "TIDEMARK_PASSKEY_ORIGIN", "https://app.example.org")

    options = login_options(Browser(app))
    at_public_url = passkey_login(
        Browser(app), authenticator, origin="https://tidemark.example.org"
    )
    at_origin = passkey_login(Browser(app), authenticator, origin="https://app.example.org")

    assert options["rpId"] == "example.org"
    assert (at_public_url.status_code, at_origin.status_code) == (401, 200)
