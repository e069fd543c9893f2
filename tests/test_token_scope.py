"""Bearer tokens have a scope ("read" may only GET) and never administer: every admin action
needs a signed-in session, so a stolen token cannot mint lasting access."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.data.models import ApiToken, AuditEvent, Clinic, User
from tests.conftest import PASSWORD, Browser, TokenClient, database, entry_body

TOKENS = "/api/v1/auth/tokens"


def _token(world, user, **body) -> dict:
    response = world.browser(user).post(
        TOKENS, json={"name": "script", "expires_in_days": 30, **body}
    )
    assert response.status_code == 201, response.json
    return response.json


def test_an_admins_token_cannot_create_a_new_admin(app, world):
    client = TokenClient(app, _token(world, world.admin_x)["token"])

    response = client.post(
        "/api/v1/clinicians",
        json={
            "email": "mallory@example.org",
            "display_name": "Mallory",
            "password": "a password mallory knows",
            "is_admin": True,
        },
    )

    assert response.status_code == 403
    assert "signed-in session" in response.json["message"]
    with database(app) as session:
        assert session.scalar(select(User).where(User.email == "mallory@example.org")) is None
    assert Browser(app).login("mallory@example.org", "a password mallory knows").status_code == 401


def _a_token_id(world):
    return _token(world, world.admin_x)["id"]


# Every administrative action, with a body that a signed-in admin would have succeeded with.
ADMIN_ACTIONS = {
    "add a clinician": (
        "POST",
        lambda w: "/api/v1/clinicians",
        {"email": "new@example.org", "display_name": "New", "password": PASSWORD},
        201,
    ),
    "deactivate a clinician": (
        "POST",
        lambda w: f"/api/v1/clinicians/{w.clinician_x.id}/deactivate",
        None,
        200,
    ),
    "activate a clinician": (
        "POST",
        lambda w: f"/api/v1/clinicians/{w.clinician_x.id}/activate",
        None,
        200,
    ),
    "create a token": ("POST", lambda w: TOKENS, {"name": "child", "expires_in_days": 1}, 201),
    "revoke a token": ("DELETE", lambda w: f"{TOKENS}/{_a_token_id(w)}", None, 204),
    "change clinic settings": ("PATCH", lambda w: "/api/v1/clinic", {"name": "Renamed"}, 200),
    "import a document": ("POST", lambda w: "/api/v1/import", "export", 200),
}


def _body(world, body):
    if body == "export":
        return world.as_admin_x().get("/api/v1/export").get_json(force=True)
    return body


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
@pytest.mark.parametrize("scope", ["write", "read"])
def test_a_token_never_administers(app, world, action, scope):
    method, path_of, body, _ = ADMIN_ACTIONS[action]
    path, body = path_of(world), _body(world, body)
    client = TokenClient(app, _token(world, world.admin_x, scope=scope)["token"])
    with database(app) as session:
        clinic_name = session.get(Clinic, world.clinic_x.id).name
        tokens_before = session.scalar(select(func.count(ApiToken.id)))

    response = client.request(method, path, json=body)

    assert response.status_code == 403, response.json
    assert response.json["code"] == 403
    with database(app) as session:
        assert session.get(User, world.clinician_x.id).active
        assert session.scalar(select(User).where(User.email == "new@example.org")) is None
        assert session.get(Clinic, world.clinic_x.id).name == clinic_name
        assert session.scalar(select(func.count(ApiToken.id))) == tokens_before
        assert all(t.revoked_at is None for t in session.scalars(select(ApiToken)))


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
def test_the_same_actions_succeed_for_a_signed_in_admin(app, world, action):
    method, path_of, body, status = ADMIN_ACTIONS[action]
    path, body = path_of(world), _body(world, body)
    if action == "activate a clinician":
        assert world.as_admin_x().post(f"/api/v1/clinicians/{world.clinician_x.id}/deactivate")

    response = world.as_admin_x().request(method, path, json=body)

    assert response.status_code == status, response.get_data(as_text=True)


def test_a_token_is_a_write_token_unless_asked(app, world):
    browser = world.as_clinician_x()
    created = browser.post(TOKENS, json={"name": "default", "expires_in_days": 3})

    assert created.json["scope"] == "write"
    assert browser.get(TOKENS).json["items"][0]["scope"] == "write"


def test_the_token_list_shows_each_tokens_scope(app, world):
    browser = world.as_clinician_x()
    browser.post(TOKENS, json={"name": "reader", "expires_in_days": 3, "scope": "read"})
    browser.post(TOKENS, json={"name": "writer", "expires_in_days": 3, "scope": "write"})

    items = browser.get(TOKENS).json["items"]

    assert {item["name"]: item["scope"] for item in items} == {
        "reader": "read",
        "writer": "write",
    }


@pytest.mark.parametrize("scope", ["admin", "", "READ", None, 1])
def test_an_unknown_scope_is_refused(app, world, scope):
    response = world.as_clinician_x().post(
        TOKENS, json={"name": "x", "expires_in_days": 3, "scope": scope}
    )

    assert response.status_code == 422
    assert "scope" in response.json["errors"]["json"]


def test_a_read_token_reads(app, world):
    client = TokenClient(app, _token(world, world.clinician_x, scope="read")["token"])

    assert client.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200
    assert client.get("/api/v1/patients").status_code == 200
    assert client.get("/api/v1/export").status_code == 200


def test_a_read_token_cannot_store_an_entry(app, world):
    client = TokenClient(app, _token(world, world.clinician_x, scope="read")["token"])
    body = entry_body()

    response = client.post(f"/api/v1/patients/{world.patient_a.id}/entries", json=body)

    assert response.status_code == 403
    assert "read" in response.json["message"]
    assert (
        world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/entries").json["items"]
        == []
    )


def test_a_write_token_stores_an_entry(app, world):
    client = TokenClient(app, _token(world, world.clinician_x, scope="write")["token"])

    response = client.post(f"/api/v1/patients/{world.patient_a.id}/entries", json=entry_body())

    assert response.status_code == 201


def test_a_read_token_refusal_is_audited_nowhere_as_a_change(app, world):
    client = TokenClient(app, _token(world, world.clinician_x, scope="read")["token"])

    client.patch(f"/api/v1/patients/{world.patient_a.id}", json={"display_name": "Changed"})

    with database(app) as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert "patient.update" not in actions
    assert (
        world.as_clinician_x()
        .get(f"/api/v1/patients/{world.patient_a.id}")
        .json["patient"]["display_name"]
        == "Alice A"
    )
