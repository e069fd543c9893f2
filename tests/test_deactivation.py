"""Deactivating an account ends its sessions and revokes its tokens for good; activating it
again lets its owner sign in afresh and brings none of them back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent
from tests.conftest import Browser, TokenClient, database, make_patient

pytestmark = pytest.mark.usefixtures("each_session_store")

PATIENTS = "/api/v1/patients"
CLINICIANS = "/api/v1/clinicians"
ME = "/api/v1/auth/me"


def test_a_deactivated_patient_is_signed_out_everywhere_and_cannot_sign_in(app, world):
    phone = world.as_patient_a()

    response = world.as_clinician_x().post(f"{PATIENTS}/{world.patient_a.id}/deactivate")

    assert response.status_code == 200
    assert response.json["active"] is False
    assert phone.get(ME).status_code == 401
    assert Browser(app).login("alice@example.org").status_code == 401
    assert world.as_patient_b().get(ME).status_code == 200


def test_an_activated_patient_signs_in_again_but_old_sessions_stay_ended(app, world):
    phone = world.as_patient_a()
    clinician = world.as_clinician_x()
    clinician.post(f"{PATIENTS}/{world.patient_a.id}/deactivate")

    response = clinician.post(f"{PATIENTS}/{world.patient_a.id}/activate")

    assert response.status_code == 200
    assert response.json["active"] is True
    assert phone.get(ME).status_code == 401
    assert Browser(app).login("alice@example.org").status_code == 200


def test_a_deactivated_patient_shows_as_inactive_to_the_clinic(app, world):
    clinician = world.as_clinician_x()
    clinician.post(f"{PATIENTS}/{world.patient_a.id}/deactivate")

    detail = clinician.get(f"{PATIENTS}/{world.patient_a.id}").json["patient"]
    panel = clinician.get(PATIENTS).json["items"]

    assert detail["active"] is False
    assert {row["patient"]["id"]: row["patient"]["active"] for row in panel} == {
        world.patient_a.id: False,
        world.patient_b.id: True,
    }


def test_a_deactivated_patients_codes_stop_working_and_no_new_one_is_issued(app, world):
    with database(app):
        pid = make_patient(world.clinic_x, "Dana D", enrolled=False).id
    clinician = world.as_clinician_x()
    code = clinician.post(f"{PATIENTS}/{pid}/enrollment").json["code"]
    reset_code = clinician.post(f"{PATIENTS}/{world.patient_a.id}/enrollment").json["code"]

    clinician.post(f"{PATIENTS}/{pid}/deactivate")
    clinician.post(f"{PATIENTS}/{world.patient_a.id}/deactivate")

    enrolled = Browser(app).post(
        "/api/v1/auth/enroll",
        json={"code": code, "email": "dana@example.org", "password": "a long password"},
    )
    reset = Browser(app).post(
        "/api/v1/auth/reset", json={"code": reset_code, "new_password": "a long password"}
    )
    assert enrolled.status_code == 422
    assert reset.status_code == 422
    assert clinician.post(f"{PATIENTS}/{pid}/enrollment").status_code == 409
    clinician.post(f"{PATIENTS}/{pid}/activate")
    assert clinician.post(f"{PATIENTS}/{pid}/enrollment").status_code == 201


def test_patient_deactivation_and_activation_are_audited(app, world):
    world.as_patient_a()
    clinician = world.as_clinician_x()
    clinician.post(f"{PATIENTS}/{world.patient_a.id}/deactivate")
    clinician.post(f"{PATIENTS}/{world.patient_a.id}/activate")

    with database(app) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["patient.deactivate", "patient.activate"]))
            .order_by(AuditEvent.at, AuditEvent.action.desc())
        ).all()
    assert [(e.action, e.patient_id, e.actor_id) for e in events] == [
        ("patient.deactivate", world.patient_a.id, world.clinician_x.id),
        ("patient.activate", world.patient_a.id, world.clinician_x.id),
    ]
    assert events[0].detail["sessions_ended"] == 1


def test_a_clinician_of_another_clinic_cannot_deactivate_a_patient(app, world):
    response = world.as_clinician_y().post(f"{PATIENTS}/{world.patient_a.id}/deactivate")

    assert response.status_code == 404
    assert Browser(app).login("alice@example.org").status_code == 200


# ---------------------------------------------------------------- clinicians


def test_a_deactivated_clinicians_sessions_end_and_tokens_stop_working(app, world):
    laptop = world.as_clinician_x()
    script = TokenClient(app, world.token_for(world.clinician_x))

    world.as_admin_x().post(f"{CLINICIANS}/{world.clinician_x.id}/deactivate")

    assert laptop.get(ME).status_code == 401
    assert script.get(PATIENTS).status_code == 401


def test_activating_a_clinician_again_brings_back_no_session_and_no_token(app, world):
    laptop = world.as_clinician_x()
    script = TokenClient(app, world.token_for(world.clinician_x))
    admin = world.as_admin_x()
    admin.post(f"{CLINICIANS}/{world.clinician_x.id}/deactivate")

    assert admin.post(f"{CLINICIANS}/{world.clinician_x.id}/activate").status_code == 200

    assert laptop.get(ME).status_code == 401
    assert script.get(PATIENTS).status_code == 401
    again = Browser(app)
    assert again.login("doc.x@example.org").status_code == 200
    tokens = again.get("/api/v1/auth/tokens").json["items"]
    assert [token["revoked"] for token in tokens] == [True]
    assert again.get(PATIENTS).status_code == 200
