"""Patients, schedules, baselines and flags over HTTP: exact refusals, what is kept, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, BaselineChoice, Patient
from tests.conftest import database, entry_body, make_patient

PATIENTS = "/api/v1/patients"


@pytest.fixture
def clinician(world):
    return world.as_clinician_x()


def audited(app, action: str) -> int:
    with database(app) as session:
        return session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def test_a_duplicate_external_id_on_create_is_a_bare_422_naming_it(app, world, clinician):
    assert (
        clinician.post(PATIENTS, json={"display_name": "One", "external_id": "MRN-1"}).status_code
        < 300
    )

    response = clinician.post(PATIENTS, json={"display_name": "Two", "external_id": "MRN-1"})

    assert response.status_code == 422
    assert response.json == {
        "code": 422,
        "status": "Unprocessable Entity",
        "errors": {"json": {"external_id": ["Already used by another patient of this clinic."]}},
    }
    assert audited(app, "patient.create") == 1
    with database(app) as session:
        names = session.scalars(
            select(Patient.display_name).where(Patient.external_id.is_not(None))
        )
        assert list(names) == ["One"]


def test_editing_a_patient_to_another_patients_external_id_is_a_422_and_changes_nothing(
    app, world, clinician
):
    assert (
        clinician.patch(
            f"{PATIENTS}/{world.patient_b.id}", json={"external_id": "MRN-9"}
        ).status_code
        < 300
    )

    response = clinician.patch(
        f"{PATIENTS}/{world.patient_a.id}", json={"external_id": "MRN-9", "display_name": "New"}
    )

    assert response.status_code == 422
    assert response.json == {
        "code": 422,
        "status": "Unprocessable Entity",
        "errors": {"json": {"external_id": ["Already used by another patient of this clinic."]}},
    }
    assert audited(app, "patient.update") == 1
    with database(app) as session:
        patient = session.get(Patient, world.patient_a.id)
        assert (patient.display_name, patient.external_id) == ("Alice A", None)


def test_editing_a_patient_answers_the_patient_and_audits_the_fields(app, world, clinician):
    response = clinician.patch(
        f"{PATIENTS}/{world.patient_a.id}", json={"timezone": "Asia/Tokyo", "display_name": "Al"}
    )

    assert response.status_code == 200, response.json
    assert response.json["display_name"] == "Al"
    assert response.json["timezone"] == "Asia/Tokyo"
    assert response.json["enrolled"] is True
    with database(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.update"))
        assert event.detail == {"fields": ["display_name", "timezone"]}


def test_reissuing_the_code_of_an_enrolled_patient_issues_a_reset_code_audited(
    app, world, clinician
):
    response = clinician.post(f"{PATIENTS}/{world.patient_a.id}/enrollment")

    assert response.status_code == 201
    assert response.json["purpose"] == "reset"
    assert audited(app, "patient.enrollment_reissued") == 0
    assert audited(app, "patient.reset_issued") == 1


def test_reissuing_the_code_of_a_patient_not_yet_enrolled_is_audited(app, world, clinician):
    with database(app):
        pid = make_patient(world.clinic_x, "Newcomer", enrolled=False).id

    response = clinician.post(f"{PATIENTS}/{pid}/enrollment")

    assert response.status_code == 201, response.json
    assert audited(app, "patient.enrollment_reissued") == 1


def test_a_schedule_naming_an_instrument_twice_is_a_422_and_keeps_the_old_schedule(
    app, world, clinician
):
    twice = {
        "instruments": [
            {"instrument": "phq9", "every_days": 7},
            {"instrument": "phq9", "every_days": 14},
        ],
        "pre_session": False,
    }

    response = clinician.put(f"{PATIENTS}/{world.patient_a.id}/schedule", json=twice)

    assert response.status_code == 422
    assert response.json == {
        "code": 422,
        "status": "Unprocessable Entity",
        "errors": {"json": {"instruments": ["Each instrument at most once."]}},
    }
    assert audited(app, "schedule.update") == 0
    assert clinician.get(f"{PATIENTS}/{world.patient_a.id}/schedule").json == {
        "instruments": [{"instrument": "phq9", "every_days": 14}],
        "pre_session": True,
    }


def test_a_replaced_schedule_is_answered_kept_and_audited(app, world, clinician):
    weekly = {"instruments": [{"instrument": "gad7", "every_days": 7}], "pre_session": False}

    response = clinician.put(f"{PATIENTS}/{world.patient_a.id}/schedule", json=weekly)

    assert response.status_code == 200, response.json
    assert response.json == weekly
    detail = clinician.get(f"{PATIENTS}/{world.patient_a.id}").json
    assert detail["schedule"] == weekly
    assert [(d["instrument"], d["context"]) for d in detail["due"]] == [("gad7", "routine")]
    assert audited(app, "schedule.update") == 1


def test_a_baseline_for_an_unknown_instrument_is_a_404_with_its_message(world, clinician):
    response = clinician.delete(f"{PATIENTS}/{world.patient_a.id}/baseline/bdi")

    assert response.status_code == 404
    assert response.json == {"code": 404, "status": "Not Found", "message": "No such instrument."}


def test_a_baseline_from_another_instrument_is_a_422_naming_entry_id(app, world, clinician):
    gad7 = clinician.post(f"{PATIENTS}/{world.patient_a.id}/entries", json=entry_body("gad7")).json

    response = clinician.put(
        f"{PATIENTS}/{world.patient_a.id}/baseline/phq9", json={"entry_id": gad7["id"]}
    )

    assert response.status_code == 422
    assert response.json == {
        "code": 422,
        "status": "Unprocessable Entity",
        "errors": {"json": {"entry_id": ["No such PHQ-9 entry to choose."]}},
    }
    assert audited(app, "baseline.set") == 0
    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(BaselineChoice)) == 0


def test_resolving_a_resolved_flag_is_a_409_with_its_message(world, clinician):
    flagged = entry_body(answers=[1, 1, 1, 1, 1, 1, 1, 1, 1])
    clinician.post(f"{PATIENTS}/{world.patient_a.id}/entries", json=flagged)
    flag = clinician.get("/api/v1/flags").json["items"][0]
    assert (
        clinician.post(f"/api/v1/flags/{flag['id']}/resolve", json={"note": "Called"}).status_code
        < 300
    )

    again = clinician.post(f"/api/v1/flags/{flag['id']}/resolve", json={"note": "Again"})

    assert again.status_code == 409
    assert again.json == {
        "code": 409,
        "status": "Conflict",
        "message": "This flag is already resolved.",
    }


def test_the_summary_and_the_panel_give_the_same_reason_for_a_missing_outcome(app, world):
    clinician = world.as_clinician_x()
    with database(app):
        ids = {
            name: make_patient(world.clinic_x, name, enrolled=False).id
            for name in ("None", "One", "Low", "Good", "Post")
        }

    def enter(name, answers, taken_at, context="routine"):
        body = entry_body(answers=answers, taken_at=taken_at, context=context)
        response = clinician.post(f"{PATIENTS}/{ids[name]}/entries", json=body)
        assert response.status_code == 201, response.json

    enter("One", [2, 2, 2, 2, 2, 2, 2, 2, 0], "2026-01-01T09:00:00+00:00")
    enter("Low", [1, 1, 1, 1, 1, 0, 0, 0, 0], "2026-01-01T09:00:00+00:00")
    enter("Low", [1, 0, 0, 0, 0, 0, 0, 0, 0], "2026-01-15T09:00:00+00:00")
    enter("Good", [2, 2, 2, 2, 2, 2, 2, 2, 0], "2026-01-01T09:00:00+00:00")
    enter("Good", [1, 1, 1, 0, 0, 0, 0, 0, 0], "2026-01-15T09:00:00+00:00")
    enter("Post", [1, 1, 1, 0, 0, 0, 0, 0, 0], "2026-01-15T09:00:00+00:00", "post_session")

    rows = clinician.get(PATIENTS, query_string={"limit": 1000}).json["items"]
    panel = {row["patient"]["id"]: row["outcome_unavailable"] for row in rows}
    summary = {
        pid: clinician.get(f"{PATIENTS}/{pid}/summary").json["outcome_unavailable"]
        for pid in ids.values()
    }

    assert summary == {pid: panel[pid] for pid in ids.values()}
    assert summary == {
        ids["None"]: "no_entries",
        ids["One"]: "no_follow_up",
        ids["Low"]: "baseline_below_minimum",
        ids["Good"]: None,
        ids["Post"]: "no_follow_up",
    }
