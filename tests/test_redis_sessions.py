"""Sessions in Redis (TIDEMARK_SESSION_STORE=redis://...): each expires there at its
absolute lifetime, and every app instance that shares the Redis sees the same sessions (the
rest of the behaviour is tested with both stores, see each_session_store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server import create_app
from server.data.extensions import db
from server.services.auth_sessions import EXTENSION, RedisSessions
from tests.conftest import TEST_CONFIG, TEST_SESSION_REDIS_URL, Browser, session_key_prefix
from tests.stored_sessions import live_sessions

ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"
SESSIONS = "/api/v1/auth/sessions"
COOKIE = "tidemark_session"

pytestmark = pytest.mark.parametrize("each_session_store", ["redis"], indirect=True)


@pytest.fixture
def other_instance(app, each_session_store):
    """Another app (another worker or host): the same database, the same Redis."""
    other = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "TIDEMARK_SESSION_STORE": TEST_SESSION_REDIS_URL,
            "TIDEMARK_SESSION_KEY_PREFIX": session_key_prefix(),
        }
    )
    yield other
    with other.app_context():
        db.engine.dispose()
    other.extensions[EXTENSION].client.close()


def same_cookie_on(app, browser: Browser) -> Browser:
    """A client of `app` holding this browser's cookie and CSRF token."""
    other = Browser(app)
    other.client.set_cookie(COOKIE, browser.client.get_cookie(COOKIE).value)
    other.csrf_token = browser.csrf_token
    return other


def remaining_ttl(store: RedisSessions, secret_hash: str) -> timedelta:
    return timedelta(milliseconds=store.client.pttl(store.key(secret_hash)))


@pytest.mark.parametrize(("who", "hours"), [("clinician", 12), ("patient", 30 * 24)])
def test_a_session_expires_in_redis_at_its_absolute_lifetime(
    app, world, each_session_store, who, hours
):
    user = world.clinician_x if who == "clinician" else world.account_of(world.patient_a)
    world.browser(user)

    (stored,) = live_sessions(app, user.id)
    ttl = remaining_ttl(each_session_store, stored.secret_hash)
    assert stored.expires_at - stored.created_at == timedelta(hours=hours)
    # the key expires when the session does: what is left of its lifetime, never more
    assert timedelta(0) < ttl <= stored.expires_at - datetime.now(UTC) + timedelta(seconds=1)
    assert ttl > timedelta(hours=hours) - timedelta(minutes=5)
    index_ttl = timedelta(
        milliseconds=each_session_store.client.pttl(each_session_store.index(user.id))
    )
    assert index_ttl >= ttl - timedelta(seconds=1)


def test_a_request_does_not_extend_the_sessions_ttl(app, world, each_session_store):
    browser = world.as_clinician_x()
    (stored,) = live_sessions(app, world.clinician_x.id)
    key = each_session_store.key(stored.secret_hash)
    expiry = each_session_store.client.pexpiretime(key)

    each_session_store.client.hset(
        key, "last_seen_at", (stored.last_seen_at - timedelta(minutes=5)).isoformat()
    )
    assert browser.get(ME).status_code == 200  # seen now: last_seen_at is written

    assert each_session_store.client.pexpiretime(key) == expiry
    (seen,) = live_sessions(app, world.clinician_x.id)
    assert seen.last_seen_at > stored.last_seen_at - timedelta(minutes=5)


def test_a_session_redis_expired_signs_the_browser_out_and_leaves_the_list(
    app, world, each_session_store
):
    laptop, phone = world.as_patient_a(), world.as_patient_a()
    phone_id = next(i["id"] for i in phone.get(SESSIONS).json["items"] if i["current"])
    (phone_session,) = [s for s in live_sessions(app) if s.id == phone_id]

    each_session_store.client.expire(each_session_store.key(phone_session.secret_hash), 0)

    assert phone.get(ME).status_code == 401
    assert [i["current"] for i in laptop.get(SESSIONS).json["items"]] == [True]
    index = each_session_store.index(phone_session.user_id)
    assert each_session_store.client.hexists(index, phone_id) is False


def test_a_session_started_on_one_instance_works_on_another(app, world, other_instance):
    browser = world.as_clinician_x()
    elsewhere = same_cookie_on(other_instance, browser)

    assert elsewhere.get(ME).json["user"]["id"] == world.clinician_x.id
    (listed,) = elsewhere.get(SESSIONS).json["items"]
    assert listed["current"] is True
    assert listed["id"] == browser.get(SESSIONS).json["items"][0]["id"]


def test_signing_out_on_one_instance_ends_the_session_on_the_other(app, world, other_instance):
    browser = world.as_patient_a()
    elsewhere = same_cookie_on(other_instance, browser)
    assert browser.get(ME).status_code == 200

    assert elsewhere.post(LOGOUT).status_code == 204

    assert browser.get(ME).status_code == 401


def test_sign_out_everywhere_else_reaches_sessions_of_every_instance(app, world, other_instance):
    here = world.as_clinician_x()
    there = Browser(other_instance)
    assert there.login(world.clinician_x.email).status_code == 200

    assert here.delete(SESSIONS).status_code == 204

    assert there.get(ME).status_code == 401
    assert here.get(ME).status_code == 200


def test_deactivation_on_one_instance_ends_sessions_made_on_another(app, world, other_instance):
    there = Browser(other_instance)
    assert there.login(world.clinician_x.email).status_code == 200

    response = world.as_admin_x().post(f"/api/v1/clinicians/{world.clinician_x.id}/deactivate")

    assert response.status_code in (200, 204), response.get_data(as_text=True)
    assert there.get(ME).status_code == 401
    assert live_sessions(app, world.clinician_x.id) == []
