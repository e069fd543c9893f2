"""Sessions live on the server: sign-out ends every copy of the cookie, timeouts, rotation,
the list of one's own sessions and signing out everywhere else, and password changes. Each
test runs with sessions in the database and in Redis."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent
from tests.conftest import PASSWORD, Browser, TokenClient, database, entry_body
from tests.stored_sessions import everything_stored, live_sessions, move_sessions

pytestmark = pytest.mark.usefixtures("each_session_store")

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
SESSIONS = "/api/v1/auth/sessions"
PASSWORD_CHANGE = "/api/v1/auth/password"
COOKIE = "tidemark_session"
NEW_PASSWORD = "a brand new password"


def copy_of(app, browser: Browser) -> Browser:
    """Another client holding a copy of this browser's cookie (and its CSRF token)."""
    copy = Browser(app)
    copy.client.set_cookie(COOKIE, browser.client.get_cookie(COOKIE).value)
    copy.csrf_token = browser.csrf_token
    return copy


# ---------------------------------------------------------------- sign-out


def test_a_copy_of_the_cookie_taken_before_sign_out_is_refused_afterwards(app, world):
    browser = world.as_patient_a()
    stolen = copy_of(app, browser)
    assert stolen.get("/api/v1/patients/me/entries").status_code == 200

    assert browser.post(LOGOUT).status_code == 204

    assert stolen.get("/api/v1/patients/me/entries").status_code == 401
    assert stolen.post("/api/v1/patients/me/entries", json=entry_body()).status_code == 401
    assert stolen.get(ME).status_code == 401


def test_signing_out_one_browser_leaves_the_others_signed_in(app, world):
    phone, laptop = world.as_patient_a(), world.as_patient_a()

    phone.post(LOGOUT)

    assert phone.get(ME).status_code == 401
    assert laptop.get(ME).status_code == 200


def test_the_server_stores_only_a_hash_of_the_cookies_random_session_id(app, world):
    browser = world.as_clinician_x()
    value = browser.client.get_cookie(COOKIE).value
    secret = app.session_interface.get_signing_serializer(app).loads(value)["sid"]

    (row,) = live_sessions(app, world.clinician_x.id)
    assert len(secret) >= 40
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in everything_stored(app)


# ---------------------------------------------------------------- rotation


def test_each_sign_in_starts_a_new_session_and_the_previous_id_stops_working(app, world):
    browser = world.as_clinician_x()
    before = copy_of(app, browser)
    (first,) = live_sessions(app, world.clinician_x.id)

    assert browser.login(world.clinician_x.email).status_code == 200

    assert browser.get(ME).status_code == 200
    assert before.get(ME).status_code == 401
    (second,) = live_sessions(app, world.clinician_x.id)
    assert (second.id, second.secret_hash) != (first.id, first.secret_hash)


def test_signing_in_as_someone_else_ends_the_previous_session(app, world):
    browser = world.as_patient_a()
    before = copy_of(app, browser)

    browser.login(world.clinician_x.email)

    assert browser.get(ME).json["user"]["id"] == world.clinician_x.id
    assert before.get(ME).status_code == 401


def test_an_ordinary_request_does_not_reissue_the_cookie(app, world):
    browser = world.as_patient_a()

    response = browser.get("/api/v1/patients/me/entries")

    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]


def test_the_cookie_expires_with_its_server_session_and_not_later(app, world):
    response = Browser(app).login(world.clinician_x.email)
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]
    expires = next(p for p in cookie.split(";") if p.strip().lower().startswith("expires="))
    cookie_expiry = datetime.strptime(expires.split("=", 1)[1].strip(), "%a, %d %b %Y %H:%M:%S GMT")

    (row,) = live_sessions(app, world.clinician_x.id)
    assert cookie_expiry.replace(tzinfo=UTC) == row.expires_at


# ---------------------------------------------------------------- timeouts


def test_a_clinician_session_lasts_twelve_hours_and_a_patients_thirty_days(app, world):
    world.as_clinician_x(), world.as_patient_a()

    (clinician,) = live_sessions(app, world.clinician_x.id)
    (patient,) = live_sessions(app, world.account_of(world.patient_a).id)
    assert clinician.expires_at - clinician.created_at == timedelta(hours=12)
    assert patient.expires_at - patient.created_at == timedelta(days=30)


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_a_session_past_its_absolute_expiry_is_refused_however_busy(app, world, who):
    user = world.clinician_x if who == "clinician" else world.account_of(world.patient_a)
    browser = world.browser(user)

    move_sessions(app, user.id, expires_at=timedelta(days=31))

    assert browser.get(ME).status_code == 401


def test_a_clinician_idle_for_more_than_thirty_minutes_is_signed_out(app, world):
    browser = world.as_clinician_x()

    move_sessions(app, world.clinician_x.id, last_seen_at=timedelta(minutes=31))

    assert browser.get(ME).status_code == 401
    # and the session stays ended: it does not come back
    move_sessions(app, world.clinician_x.id, last_seen_at=-timedelta(minutes=31))
    assert browser.get(ME).status_code == 401


def test_a_clinician_active_within_thirty_minutes_stays_signed_in(app, world):
    browser = world.as_clinician_x()

    move_sessions(app, world.clinician_x.id, last_seen_at=timedelta(minutes=29))

    assert browser.get(ME).status_code == 200


def test_a_patient_has_no_idle_timeout(app, world):
    browser = world.as_patient_a()

    move_sessions(app, world.account_of(world.patient_a).id, last_seen_at=timedelta(days=20))

    assert browser.get(ME).status_code == 200


def test_the_idle_timeout_is_configurable(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "TIDEMARK_CLINICIAN_IDLE_MINUTES", 5)
    browser = world.as_clinician_x()

    move_sessions(app, world.clinician_x.id, last_seen_at=timedelta(minutes=6))

    assert browser.get(ME).status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(app, world):
    browser = world.as_clinician_x()
    move_sessions(app, world.clinician_x.id, last_seen_at=timedelta(seconds=20))
    (before,) = live_sessions(app, world.clinician_x.id)

    browser.get(ME)
    (unchanged,) = live_sessions(app, world.clinician_x.id)
    move_sessions(app, world.clinician_x.id, last_seen_at=timedelta(minutes=2))
    browser.get(ME)
    (seen,) = live_sessions(app, world.clinician_x.id)

    assert unchanged.last_seen_at == before.last_seen_at
    assert seen.last_seen_at > unchanged.last_seen_at - timedelta(minutes=2)
    assert datetime.now(UTC) - seen.last_seen_at < timedelta(minutes=1)


# ---------------------------------------------------------------- the list, and ending sessions


def test_the_list_shows_my_live_sessions_and_marks_this_one(app, world):
    laptop = world.as_clinician_x()
    phone = Browser(app)
    phone.client.environ_base["HTTP_USER_AGENT"] = "Phone browser " + "x" * 300
    phone.login(world.clinician_x.email)
    world.as_admin_x()  # someone else's session is never listed
    ended = world.as_clinician_x()
    ended.post(LOGOUT)

    listed = laptop.get(SESSIONS)

    assert listed.status_code == 200
    items = listed.json["items"]
    assert len(items) == 2
    assert set(items[0]) == {"id", "created_at", "last_seen_at", "user_agent", "current"}
    assert [item["current"] for item in items].count(True) == 1
    phone_item = next(item for item in items if not item["current"])
    assert phone_item["user_agent"].startswith("Phone browser ")
    assert len(phone_item["user_agent"]) == 200
    assert listed.json["next_cursor"] is None


def test_the_list_comes_in_pages_newest_first_with_a_cursor(app, world):
    browsers = [world.as_patient_a() for _ in range(3)]

    first = browsers[0].get(SESSIONS, query_string={"limit": 2})
    second = browsers[0].get(
        SESSIONS, query_string={"limit": 2, "cursor": first.json["next_cursor"]}
    )

    assert first.status_code == 200 and second.status_code == 200
    assert first.json["next_cursor"] and second.json["next_cursor"] is None
    items = first.json["items"] + second.json["items"]
    assert len({item["id"] for item in items}) == 3
    order = [(item["created_at"], item["id"]) for item in items]
    assert order == sorted(order, reverse=True)
    bad = browsers[0].get(SESSIONS, query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.json["errors"]["query"]


def test_an_ended_session_is_not_found_when_ended_again(app, world):
    laptop, phone = world.as_patient_a(), world.as_patient_a()
    phone_id = next(i["id"] for i in phone.get(SESSIONS).json["items"] if i["current"])
    assert laptop.delete(f"{SESSIONS}/{phone_id}").status_code == 204

    assert laptop.delete(f"{SESSIONS}/{phone_id}").status_code == 404
    assert laptop.delete(f"{SESSIONS}/{'x' * 37}").status_code == 404


def test_sign_out_everywhere_else_ends_every_other_session(app, world):
    laptop, phone, tablet = (world.as_patient_a() for _ in range(3))

    response = laptop.delete(SESSIONS)

    assert response.status_code == 204
    assert laptop.get(ME).status_code == 200
    assert phone.get(ME).status_code == 401
    assert tablet.get(ME).status_code == 401
    assert len(laptop.get(SESSIONS).json["items"]) == 1


def test_ending_one_session_signs_that_browser_out(app, world):
    laptop, phone = world.as_patient_a(), world.as_patient_a()
    phone_id = next(i["id"] for i in phone.get(SESSIONS).json["items"] if i["current"])

    response = laptop.delete(f"{SESSIONS}/{phone_id}")

    assert response.status_code == 204
    assert phone.get(ME).status_code == 401
    assert laptop.get(ME).status_code == 200


def test_another_users_session_cannot_be_ended_and_is_not_found(app, world):
    alice, bob = world.as_patient_a(), world.as_patient_b()
    bobs_id = bob.get(SESSIONS).json["items"][0]["id"]

    response = alice.delete(f"{SESSIONS}/{bobs_id}")

    assert response.status_code == 404
    assert response.json == alice.delete(f"{SESSIONS}/{'0' * 36}").json
    assert bob.get(ME).status_code == 200


def test_a_token_cannot_list_or_end_sessions(app, world):
    browser = world.as_clinician_x()
    script = TokenClient(app, world.token_for(world.clinician_x))

    assert script.get(SESSIONS).status_code == 403
    assert script.delete(SESSIONS).status_code == 403
    assert browser.get(ME).status_code == 200


def test_ending_sessions_is_audited(app, world):
    laptop, _phone = world.as_patient_a(), world.as_patient_a()

    laptop.delete(SESSIONS)

    with database(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.sessions_end"))
    assert event.detail["sessions_ended"] == 1


# ---------------------------------------------------------------- password change


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(app, world):
    laptop, phone = world.as_clinician_x(), world.as_clinician_x()

    response = laptop.post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert phone.get(ME).status_code == 401
    assert laptop.get(ME).status_code == 200
    # the page's CSRF token still works after the change
    assert (
        laptop.post("/api/v1/auth/tokens", json={"name": "t", "expires_in_days": 1}).status_code
        == 201
    )


def test_after_a_password_change_only_the_new_password_signs_in(app, world):
    world.as_patient_a().post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert Browser(app).login("alice@example.org").status_code == 401
    assert Browser(app).login("alice@example.org", NEW_PASSWORD).status_code == 200


def test_a_password_change_gives_this_browser_a_new_session_id(app, world):
    browser = world.as_patient_a()
    before = copy_of(app, browser)

    browser.post(PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert browser.get(ME).status_code == 200
    assert before.get(ME).status_code == 401


def test_a_wrong_current_password_is_a_422_naming_it_and_changes_nothing(app, world):
    laptop, phone = world.as_patient_a(), world.as_patient_a()

    response = laptop.post(
        PASSWORD_CHANGE, json={"current_password": "not my password", "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 422
    assert "current_password" in response.json["errors"]["json"]
    assert phone.get(ME).status_code == 200
    assert Browser(app).login("alice@example.org").status_code == 200
    with database(app) as session:
        assert session.scalar(
            select(AuditEvent).where(AuditEvent.action == "auth.password_change_failed")
        )


def test_wrong_current_passwords_count_as_failed_sign_ins(app, world):
    browser = world.as_patient_a()
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}

    for _ in range(10):
        assert browser.post(PASSWORD_CHANGE, json=wrong).status_code == 422

    assert browser.post(PASSWORD_CHANGE, json=wrong).status_code == 429
    assert Browser(app).login("alice@example.org").status_code == 429


def test_a_new_password_must_be_ten_characters(app, world):
    response = world.as_patient_a().post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": "short"}
    )

    assert response.status_code == 422
    assert "new_password" in response.json["errors"]["json"]


def test_a_token_cannot_change_the_password(app, world):
    script = TokenClient(app, world.token_for(world.clinician_x))

    response = script.post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 403


def test_signed_out_nobody_can_change_a_password(app, world):
    response = Browser(app).post(
        PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 401


def test_no_stored_session_survives_sign_out_unended(app, world):
    browser = world.as_patient_a()
    browser.post(LOGOUT)

    assert live_sessions(app) == []
