"""Signing in and out with a session cookie: the answer, CSRF, password hashes, sign-in limits."""

import pytest

from server.data.extensions import db
from server.data.models import Patient, User
from tests.conftest import PASSWORD, READY_CRISIS, Browser, database

pytestmark = pytest.mark.usefixtures("each_session_store")

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"


def _fail_login(browser: Browser, email: str):
    return browser.post(LOGIN, json={"email": email, "password": "not the password at all"})


def _assert_too_many(response) -> None:
    assert response.status_code == 429, response.json
    assert response.json["code"] == 429
    assert response.json["status"] == "Too Many Requests"
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), retry_after
    assert 0 < int(retry_after) <= 15 * 60


def _session_cookie(response) -> str:
    cookies = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("tidemark_session=")
    ]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_a_clinician_signs_in_and_gets_their_user_and_a_csrf_token(app, world):
    response = Browser(app).login("doc.x@example.org")

    assert response.status_code == 200
    assert response.json["user"] == {
        "id": world.clinician_x.id,
        "role": "clinician",
        "is_admin": False,
        "email": "doc.x@example.org",
        "display_name": "Dr Test",
        "clinic": {
            "id": world.clinic_x.id,
            "name": "Clinic X",
            "crisis": READY_CRISIS,
        },
        "patient_id": None,
        "passkey_needed": False,
    }
    assert isinstance(response.json["csrf_token"], str) and response.json["csrf_token"]


def test_a_patient_signs_in_and_their_user_names_their_patient_record(app, world):
    response = Browser(app).login("alice@example.org")

    assert response.status_code == 200
    user = response.json["user"]
    assert (user["role"], user["is_admin"], user["patient_id"]) == (
        "patient",
        False,
        world.patient_a.id,
    )
    assert user["clinic"]["id"] == world.clinic_x.id
    assert user["clinic"]["name"] == "Clinic X"
    assert user["clinic"]["crisis"] == READY_CRISIS  # the numbers to dial, offline too


def test_an_admin_is_marked_as_admin(app, world):
    response = Browser(app).login("admin.x@example.org")

    assert response.json["user"]["is_admin"] is True


def test_the_session_cookie_is_http_only_and_same_site_lax(app, world):
    response = Browser(app).login("doc.x@example.org")

    attributes = [part.strip().lower() for part in _session_cookie(response).split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


@pytest.mark.parametrize("email", ["DOC.X@EXAMPLE.ORG", "Doc.X@Example.org"])
def test_the_email_is_case_insensitive(app, world, email):
    response = Browser(app).login(email)

    assert response.status_code == 200
    assert response.json["user"]["id"] == world.clinician_x.id


def test_a_wrong_password_and_an_unknown_email_give_the_same_401(app, world):
    wrong_password = _fail_login(Browser(app), "doc.x@example.org")
    unknown_email = Browser(app).login("nobody@example.org")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json == unknown_email.json
    assert wrong_password.json["message"]
    assert "tidemark_session=" not in " ".join(wrong_password.headers.getlist("Set-Cookie"))


def test_a_failed_sign_in_leaves_the_client_signed_out(app, world):
    browser = Browser(app)
    _fail_login(browser, "doc.x@example.org")

    assert browser.get(ME).status_code == 401


def test_a_deactivated_user_cannot_sign_in(app, world):
    with database(app) as session:
        session.get(User, world.clinician_x.id).active = False
        session.commit()

    response = Browser(app).login("doc.x@example.org")

    assert response.status_code == 401
    assert response.json == Browser(app).login("nobody@example.org").json


def test_a_deactivated_users_session_stops_working(app, world):
    browser = world.as_clinician_x()
    with database(app) as session:
        session.get(User, world.clinician_x.id).active = False
        session.commit()

    assert browser.get(ME).status_code == 401


def test_me_answers_the_signed_in_user_and_a_csrf_token(app, world):
    browser = world.as_clinician_x()

    response = browser.get(ME)

    assert response.status_code == 200
    assert response.json["user"] == browser.user
    assert isinstance(response.json["csrf_token"], str) and response.json["csrf_token"]


def test_the_csrf_token_from_me_is_accepted_on_an_unsafe_request(app, world):
    browser = world.browser(world.clinician_x, csrf=False)
    token = browser.get(ME).json["csrf_token"]

    response = browser.post(
        "/api/v1/patients", json={"display_name": "Via Me"}, headers={"X-CSRF-Token": token}
    )

    assert response.status_code == 201


def test_me_answers_401_when_not_signed_in(app, world):
    response = Browser(app).get(ME)

    assert response.status_code == 401
    assert response.json["code"] == 401


def test_logout_ends_the_session(app, world):
    browser = world.as_clinician_x()

    response = browser.post(LOGOUT)

    assert response.status_code == 204
    assert browser.get(ME).status_code == 401


def test_logout_without_the_csrf_header_is_refused_and_the_session_still_works(app, world):
    browser = world.browser(world.clinician_x, csrf=False)

    response = browser.post(LOGOUT)

    assert response.status_code == 403
    assert response.json["code"] == 403
    assert browser.get(ME).status_code == 200


def test_an_unsafe_request_with_a_wrong_csrf_token_is_refused_and_changes_nothing(app, world):
    browser = world.as_clinician_x()

    response = browser.post(
        "/api/v1/patients",
        json={"display_name": "Forged"},
        headers={"X-CSRF-Token": "not-the-token"},
    )

    assert response.status_code == 403
    assert response.json["code"] == 403
    with database(app) as session:
        assert session.scalar(db.select(Patient).where(Patient.display_name == "Forged")) is None


def test_an_unsafe_request_without_a_csrf_token_is_refused(app, world):
    browser = world.browser(world.clinician_x, csrf=False)

    response = browser.post("/api/v1/patients", json={"display_name": "No Token"})

    assert response.status_code == 403


def test_the_stored_password_hash_is_argon2id(app, world):
    with database(app) as session:
        stored = session.get(User, world.clinician_x.id).password_hash

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


# ---------------------------------------------------------------- sign-in limits


def test_the_eleventh_attempt_after_ten_failures_is_refused_even_with_the_right_password(
    app, world
):
    browser = Browser(app)
    for _ in range(10):
        assert _fail_login(browser, "doc.x@example.org").status_code == 401

    response = browser.login("doc.x@example.org")

    _assert_too_many(response)
    assert response.json["message"]
    assert browser.get(ME).status_code == 401


def test_the_account_limit_counts_failures_whatever_the_case_of_the_email(app, world):
    browser = Browser(app)
    for index in range(10):
        email = "DOC.X@example.org" if index % 2 else "doc.x@EXAMPLE.org"
        assert _fail_login(browser, email).status_code == 401

    _assert_too_many(browser.login("doc.x@example.org"))


def test_successful_sign_ins_do_not_count_toward_the_account_limit(app, world):
    browser = Browser(app)
    for _ in range(9):
        assert _fail_login(browser, "doc.x@example.org").status_code == 401
    for _ in range(3):
        assert Browser(app).login("doc.x@example.org").status_code == 200

    response = _fail_login(browser, "doc.x@example.org")

    assert response.status_code == 401


def test_fifty_failures_from_one_address_across_many_emails_block_that_address(app, world):
    browser = Browser(app)
    for index in range(50):
        assert _fail_login(browser, f"someone-{index}@example.org").status_code == 401

    _assert_too_many(browser.login("doc.x@example.org"))


def test_the_address_limit_does_not_block_another_address(app, world):
    browser = Browser(app)
    for index in range(50):
        _fail_login(browser, f"someone-{index}@example.org")

    elsewhere = browser.client.post(
        LOGIN,
        json={"email": "doc.x@example.org", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )

    assert elsewhere.status_code == 200


def test_the_limit_for_one_account_does_not_block_another_account(app, world):
    browser = Browser(app)
    for _ in range(10):
        _fail_login(browser, "doc.x@example.org")
    _assert_too_many(browser.login("doc.x@example.org"))

    response = Browser(app).login("admin.x@example.org")

    assert response.status_code == 200
