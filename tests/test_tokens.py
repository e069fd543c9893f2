"""Bearer tokens for clinicians' scripts: shown once, stored hashed, revocable, expiring."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server.data.models import ApiToken, Entry, User
from tests.conftest import Browser, TokenClient, database, entry_body

TOKENS = "/api/v1/auth/tokens"


def _create_token(browser: Browser, name: str = "nightly export", days: int = 30) -> dict:
    response = browser.post(TOKENS, json={"name": name, "expires_in_days": days})
    assert response.status_code == 201, response.json
    return response.json


def test_a_clinician_creates_a_token_and_sees_its_secret_once(app, world):
    before = datetime.now(UTC).replace(microsecond=0)

    response = world.as_clinician_x().post(TOKENS, json={"name": "nightly", "expires_in_days": 7})

    assert response.status_code == 201
    assert set(response.json) == {"id", "name", "token", "expires_at", "scope"}
    assert response.json["name"] == "nightly"
    assert len(response.json["token"]) >= 32
    expires_at = datetime.fromisoformat(response.json["expires_at"])
    assert abs(expires_at - (before + timedelta(days=7))) < timedelta(minutes=1)


def test_the_token_list_never_shows_the_secret(app, world):
    browser = world.as_clinician_x()
    created = _create_token(browser)

    response = browser.get(TOKENS)

    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [created["id"]]
    assert response.json["items"][0]["name"] == "nightly export"
    assert "token" not in response.json["items"][0]
    assert created["token"] not in response.get_data(as_text=True)


def test_a_clinician_lists_only_their_own_tokens(app, world):
    _create_token(world.as_clinician_x())

    response = world.as_admin_x().get(TOKENS)

    assert response.json["items"] == []


def test_a_token_reads_a_patient_of_the_clinic(app, world):
    client = TokenClient(app, _create_token(world.as_clinician_x())["token"])

    response = client.get(f"/api/v1/patients/{world.patient_a.id}")

    assert response.status_code == 200
    assert response.json["patient"]["id"] == world.patient_a.id


def test_a_token_stores_an_entry_without_any_csrf_header(app, world):
    client = TokenClient(app, _create_token(world.as_clinician_x())["token"])
    body = entry_body()

    response = client.post(f"/api/v1/patients/{world.patient_a.id}/entries", json=body)

    assert response.status_code == 201, response.json
    assert response.json["entered_by"] == {"id": world.clinician_x.id, "role": "clinician"}
    with database(app) as session:
        assert session.get(Entry, body["id"]) is not None


def test_a_token_does_not_reach_another_clinics_patient(app, world):
    client = TokenClient(app, _create_token(world.as_clinician_y())["token"])

    response = client.get(f"/api/v1/patients/{world.patient_a.id}")

    assert response.status_code == 404


def test_a_token_cannot_create_tokens(app, world):
    client = TokenClient(app, _create_token(world.as_clinician_x())["token"])

    response = client.post(TOKENS, json={"name": "child", "expires_in_days": 1})

    assert response.status_code == 403
    assert response.json["code"] == 403
    with database(app) as session:
        assert session.scalar(select(ApiToken).where(ApiToken.name == "child")) is None


def test_a_patient_cannot_create_tokens(app, world):
    response = world.as_patient_a().post(TOKENS, json={"name": "mine", "expires_in_days": 1})

    assert response.status_code == 403


def test_creating_a_token_needs_a_sign_in(app, world):
    response = Browser(app).post(TOKENS, json={"name": "anon", "expires_in_days": 1})

    assert response.status_code == 401


@pytest.mark.parametrize("days", [0, 366, -1, True, 1.5, "30", None])
def test_an_out_of_range_or_non_integer_lifetime_is_refused(app, world, days):
    response = world.as_clinician_x().post(TOKENS, json={"name": "bad", "expires_in_days": days})

    assert response.status_code == 422
    assert "expires_in_days" in response.json["errors"]["json"]


@pytest.mark.parametrize("days", [1, 365])
def test_the_lifetime_limits_are_inclusive(app, world, days):
    response = world.as_clinician_x().post(TOKENS, json={"name": "edge", "expires_in_days": days})

    assert response.status_code == 201


def test_a_revoked_token_stops_working(app, world):
    browser = world.as_clinician_x()
    created = _create_token(browser)
    client = TokenClient(app, created["token"])
    assert client.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200

    response = browser.delete(f"{TOKENS}/{created['id']}")

    assert response.status_code == 204
    refused = client.get(f"/api/v1/patients/{world.patient_a.id}")
    assert refused.status_code == 401
    assert refused.json["code"] == 401


@pytest.mark.parametrize("other", ["admin_x", "clinician_y"])
def test_another_clinician_cannot_revoke_my_token(app, world, other):
    created = _create_token(world.as_clinician_x())

    response = world.browser(getattr(world, other)).delete(f"{TOKENS}/{created['id']}")

    assert response.status_code == 404
    client = TokenClient(app, created["token"])
    assert client.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200


def test_an_expired_token_is_refused(app, world):
    created = _create_token(world.as_clinician_x())
    with database(app) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()

    response = TokenClient(app, created["token"]).get(f"/api/v1/patients/{world.patient_a.id}")

    assert response.status_code == 401


def test_a_deactivated_clinicians_token_is_refused(app, world):
    created = _create_token(world.as_clinician_x())
    with database(app) as session:
        session.get(User, world.clinician_x.id).active = False
        session.commit()

    response = TokenClient(app, created["token"]).get(f"/api/v1/patients/{world.patient_a.id}")

    assert response.status_code == 401


def test_only_a_hash_of_the_token_is_stored(app, world):
    created = _create_token(world.as_clinician_x())
    secret = created["token"]

    with database(app) as session:
        row = session.get(ApiToken, created["id"])
        assert row.token_hash != secret
        stored = session.execute(select(ApiToken.__table__)).all()

    assert stored
    assert all(secret not in str(value) for values in stored for value in values)


def test_a_garbage_bearer_token_is_refused_even_beside_a_valid_session_cookie(app, world):
    browser = world.as_clinician_x()
    assert browser.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200

    response = browser.get(
        f"/api/v1/patients/{world.patient_a.id}",
        headers={"Authorization": "Bearer tmk_not-a-real-token"},
    )

    assert response.status_code == 401
