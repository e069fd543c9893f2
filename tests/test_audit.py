"""The audit trail: sign-ins, enrollment and every clinician's read of a patient's data."""

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent
from tests.conftest import PASSWORD, Browser, TokenClient, database, entry_body


def _events(app, **where) -> list[dict]:
    """Audit records matching column == value, as plain dicts."""
    with database(app) as session:
        statement = select(AuditEvent)
        for column, value in where.items():
            statement = statement.where(getattr(AuditEvent, column) == value)
        return [
            {
                "id": event.id,
                "action": event.action,
                "actor_id": event.actor_id,
                "actor_role": event.actor_role,
                "patient_id": event.patient_id,
                "ip": event.ip,
                "detail": event.detail,
            }
            for event in session.scalars(statement)
        ]


def _new_events(app, patient_id: str, before: list[dict]) -> list[dict]:
    seen = {event["id"] for event in before}
    return [event for event in _events(app, patient_id=patient_id) if event["id"] not in seen]


@pytest.fixture
def entry_id(world) -> str:
    """An entry of patient A, submitted by the patient."""
    body = entry_body()
    response = world.as_patient_a().post("/api/v1/patients/me/entries", json=body)
    assert response.status_code == 201, response.json
    return body["id"]


READ_PATHS = ["", "/entries", "/entries/{eid}", "/schedule"]


# ---------------------------------------------------------------- sign-in and enrollment


def test_a_successful_sign_in_is_audited_with_the_actor_and_address(app, world):
    assert Browser(app).login("doc.x@example.org").status_code == 200

    [event] = _events(app, action="auth.login")

    assert (event["actor_id"], event["actor_role"]) == (world.clinician_x.id, "clinician")
    assert event["ip"] == "127.0.0.1"
    assert event["patient_id"] is None


@pytest.mark.parametrize("email", ["doc.x@example.org", "nobody@example.org"])
def test_a_failed_sign_in_is_audited_without_an_actor_and_with_the_email(app, world, email):
    response = Browser(app).post(
        "/api/v1/auth/login", json={"email": email, "password": "not " + PASSWORD}
    )
    assert response.status_code == 401

    [event] = _events(app, action="auth.login_failed")

    assert event["actor_id"] is None
    assert event["detail"]["email"] == email
    assert event["ip"] == "127.0.0.1"
    assert _events(app, action="auth.login") == []


def test_every_failed_sign_in_in_a_row_is_audited(app, world):
    browser = Browser(app)
    for _ in range(10):
        browser.post(
            "/api/v1/auth/login", json={"email": "doc.x@example.org", "password": "wrong pass"}
        )

    failed = _events(app, action="auth.login_failed")

    assert len(failed) == 10
    assert _events(app, action="auth.login") == []


def test_enrollment_is_audited_with_the_patient(app, world):
    created = world.as_clinician_x().post("/api/v1/patients", json={"display_name": "Dana D"})
    pid = created.json["patient"]["id"]

    enrolled = Browser(app).post(
        "/api/v1/auth/enroll",
        json={
            "code": created.json["enrollment"]["code"],
            "email": "dana@example.org",
            "password": "a long enough one",
        },
    )
    assert enrolled.status_code == 201

    [event] = _events(app, action="patient.enroll")
    assert event["patient_id"] == pid
    assert event["ip"] == "127.0.0.1"
    assert event["actor_id"] == enrolled.json["user"]["id"]


def test_a_refused_enrollment_is_not_audited_as_an_enrollment(app, world):
    Browser(app).post(
        "/api/v1/auth/enroll",
        json={"code": "ABCD-EFGH-JKMN", "email": "x@example.org", "password": "long enough!"},
    )

    assert _events(app, action="patient.enroll") == []


# ---------------------------------------------------------------- reads of patient data


@pytest.mark.parametrize("path", READ_PATHS)
def test_a_clinicians_read_of_patient_data_writes_one_record(app, world, entry_id, path):
    clinician = world.as_clinician_x()
    pid = world.patient_a.id
    before = _events(app, patient_id=pid)

    response = clinician.get(f"/api/v1/patients/{pid}{path.format(eid=entry_id)}")

    assert response.status_code == 200
    [event] = _new_events(app, pid, before)
    assert (event["actor_id"], event["actor_role"]) == (world.clinician_x.id, "clinician")
    assert event["action"]
    assert event["ip"] == "127.0.0.1"


@pytest.mark.parametrize("path", READ_PATHS)
def test_a_patient_reading_their_own_data_writes_no_read_record(app, world, entry_id, path):
    patient = world.as_patient_a()
    pid = world.patient_a.id
    before = _events(app, patient_id=pid)

    for own in ("me", pid):
        response = patient.get(f"/api/v1/patients/{own}{path.format(eid=entry_id)}")
        assert response.status_code == 200

    assert _new_events(app, pid, before) == []


@pytest.mark.parametrize("path", READ_PATHS)
def test_a_refused_read_writes_no_record_for_that_patient(app, world, entry_id, path):
    other_clinic = world.as_clinician_y()
    pid = world.patient_a.id
    before = _events(app, patient_id=pid)

    response = other_clinic.get(f"/api/v1/patients/{pid}{path.format(eid=entry_id)}")

    assert response.status_code == 404
    assert _new_events(app, pid, before) == []


def test_a_patient_refused_another_patients_data_writes_no_record(app, world, entry_id):
    pid = world.patient_a.id
    before = _events(app, patient_id=pid)

    response = world.as_patient_b().get(f"/api/v1/patients/{pid}/entries/{entry_id}")

    assert response.status_code == 404
    assert _new_events(app, pid, before) == []


@pytest.mark.parametrize("path", READ_PATHS)
def test_a_clinicians_read_by_bearer_token_is_audited_with_the_token(app, world, entry_id, path):
    created = world.as_clinician_x().post(
        "/api/v1/auth/tokens", json={"name": "script", "expires_in_days": 1}
    )
    assert created.status_code == 201
    client = TokenClient(app, created.json["token"])
    pid = world.patient_a.id
    before = _events(app, patient_id=pid)

    response = client.get(f"/api/v1/patients/{pid}{path.format(eid=entry_id)}")

    assert response.status_code == 200
    [event] = _new_events(app, pid, before)
    assert event["actor_id"] == world.clinician_x.id
    assert event["detail"]["token_id"] == created.json["id"]
