"""services/patients: adding and editing patients, enrollment codes and schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, EnrollmentCode, Patient
from server.domain.errors import Conflict, Invalid
from server.services import patients
from tests.conftest import database, entry_body, make_patient
from tests.services.helpers import signed_in

TAKEN = {"external_id": ["Already used by another patient of this clinic."]}


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.at)))


def test_a_new_patient_gets_the_clinics_time_zone_and_a_code_and_is_audited(app, world):
    with signed_in(app, world.clinician_x) as session:
        clinician = session.merge(world.clinician_x)
        created = patients.create(clinician, {"display_name": "Cleo", "external_id": "MRN-1"})

        assert created.patient.timezone == "Europe/Berlin"
        assert created.patient.enrolled is False
        assert len(created.enrollment.code) == 14  # XXXX-XXXX-XXXX
        assert created.enrollment.url.endswith(f"/#code={created.enrollment.code}")
    with database(app) as session:
        assert session.get(Patient, created.patient.id).external_id == "MRN-1"
        assert actions(session) == ["patient.create"]


def test_a_new_patient_with_a_taken_external_id_is_invalid_and_nothing_is_kept(app, world):
    with signed_in(app, world.clinician_x) as session:
        clinician = session.merge(world.clinician_x)
        patients.create(clinician, {"display_name": "First", "external_id": "MRN-1"})
        with pytest.raises(Invalid) as refused:
            patients.create(clinician, {"display_name": "Second", "external_id": "MRN-1"})

    assert refused.value.fields == TAKEN
    assert refused.value.location == "json"
    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(EnrollmentCode)) == 1
        assert actions(session) == ["patient.create"]


def test_an_edit_to_a_taken_external_id_is_invalid_and_rolled_back(app, world):
    with signed_in(app, world.clinician_x) as session:
        patients.update(session.get(Patient, world.patient_b.id), {"external_id": "MRN-2"})
        alice = session.get(Patient, world.patient_a.id)
        with pytest.raises(Invalid) as refused:
            patients.update(alice, {"external_id": "MRN-2", "display_name": "Alicia"})

    assert refused.value.fields == TAKEN
    with database(app) as session:
        alice = session.get(Patient, world.patient_a.id)
        assert (alice.display_name, alice.external_id) == ("Alice A", None)
        assert actions(session) == ["patient.update"]


def test_a_new_code_voids_the_previous_one(app, world):
    with database(app):
        pid = make_patient(world.clinic_x, "Newcomer", enrolled=False).id
    with signed_in(app, world.clinician_x) as session:
        clinician = session.merge(world.clinician_x)
        patient = session.get(Patient, pid)
        patients.reissue_enrollment(patient, clinician)
        patients.reissue_enrollment(patient, clinician)

    with database(app) as session:
        codes = session.scalars(select(EnrollmentCode).where(EnrollmentCode.patient_id == pid))
        assert sorted(code.voided_at is None for code in codes) == [False, True]
        assert actions(session) == ["patient.enrollment_reissued"] * 2


def test_an_enrolled_patient_gets_a_reset_code_for_their_account(app, world):
    with signed_in(app, world.clinician_x) as session:
        clinician = session.merge(world.clinician_x)
        issued = patients.reissue_enrollment(session.get(Patient, world.patient_a.id), clinician)

    assert issued.purpose == "reset"
    with database(app) as session:
        (code,) = session.scalars(select(EnrollmentCode))
        assert (code.purpose, code.patient_id) == ("reset", world.patient_a.id)
        assert code.user_id == world.account_of(world.patient_a).id
        assert actions(session) == ["patient.reset_issued"]


def test_a_deactivated_patient_gets_no_new_code(app, world):
    with database(app) as session:
        session.get(Patient, world.patient_a.id).active = False
        session.commit()
    with signed_in(app, world.clinician_x) as session:
        clinician = session.merge(world.clinician_x)
        with pytest.raises(Conflict):
            patients.reissue_enrollment(session.get(Patient, world.patient_a.id), clinician)

    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(EnrollmentCode)) == 0


def test_a_patient_without_entries_is_due_a_phq9_since_they_were_added(app, world):
    with signed_in(app, world.clinician_x) as session:
        shown = patients.detail(session.get(Patient, world.patient_a.id))

        assert shown.schedule == {
            "instruments": [{"instrument": "phq9", "every_days": 14}],
            "pre_session": True,
        }
        assert [(d.instrument, d.context, d.overdue) for d in shown.due] == [
            ("phq9", "routine", True)
        ]
        assert shown.due[0].due_at == shown.patient.created_at
    with database(app) as session:
        assert actions(session) == ["patient.read"]


def test_what_is_due_follows_the_latest_entry_that_is_not_voided(app, world):
    clinician = world.as_clinician_x()
    pid = world.patient_a.id
    now = datetime.now(UTC).replace(microsecond=0)
    earlier, later = now - timedelta(days=5), now - timedelta(days=3)
    for taken_at in (earlier, later):
        body = entry_body(taken_at=taken_at.isoformat())
        response = clinician.post(f"/api/v1/patients/{pid}/entries", json=body)
        assert response.status_code == 201, response.json
    void = clinician.post(
        f"/api/v1/patients/{pid}/entries/{response.json['id']}/void", json={"reason": "typo"}
    )
    assert void.status_code == 200, void.json

    with signed_in(app, None) as session:
        [due] = patients.due_for(session.get(Patient, pid))

    assert (due.instrument, due.due_at, due.overdue) == (
        "phq9",
        earlier + timedelta(days=14),
        False,
    )


def test_a_patients_own_read_of_their_schedule_is_not_audited(app, world):
    with signed_in(app, world.account_of(world.patient_a)) as session:
        schedule = patients.schedule_of(session.get(Patient, world.patient_a.id))

    assert schedule["pre_session"] is True
    with database(app) as session:
        assert actions(session) == []


def test_a_schedule_naming_an_instrument_twice_is_invalid_and_not_kept(app, world):
    twice = {
        "instruments": [
            {"instrument": "gad7", "every_days": 7},
            {"instrument": "gad7", "every_days": 28},
        ],
        "pre_session": False,
    }
    with signed_in(app, world.clinician_x) as session:
        with pytest.raises(Invalid) as refused:
            patients.replace_schedule(session.get(Patient, world.patient_a.id), twice)

    assert refused.value.fields == {"instruments": ["Each instrument at most once."]}
    with database(app) as session:
        assert session.get(Patient, world.patient_a.id).schedule is None
        assert actions(session) == []


def test_a_replaced_schedule_is_kept_and_audited_with_its_content(app, world):
    weekly = {"instruments": [{"instrument": "gad7", "every_days": 7}], "pre_session": False}
    with signed_in(app, world.clinician_x) as session:
        assert patients.replace_schedule(session.get(Patient, world.patient_a.id), weekly) == weekly

    with database(app) as session:
        assert session.get(Patient, world.patient_a.id).schedule == weekly
        event = session.scalar(select(AuditEvent))
        assert (event.action, event.detail) == ("schedule.update", weekly)
