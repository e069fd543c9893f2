"""Planned sessions and cancellation (API.md, planned sessions and the monitoring record)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent
from tests.conftest import database, entry_body
from tests.test_sessions import add_session, entries_path, linked_sessions, sessions_path, submit

HOUR = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def cancel(clinician, pid: str, sid: str):
    return clinician.patch(f"{sessions_path(pid)}/{sid}", json={"status": "cancelled"})


def listed(browser, pid: str) -> dict[str, dict]:
    response = browser.get(sessions_path(pid))
    assert response.status_code == 200, response.json
    return {item["id"]: item for item in response.json["items"]}


@pytest.fixture
def clinician(world):
    return world.as_clinician_x()


@pytest.fixture
def pid(world) -> str:
    return world.patient_a.id


# ---------------------------------------------------------------- status


def test_a_session_ahead_is_planned_and_one_that_started_is_done(world, clinician, pid):
    planned = add_session(clinician, pid, now() + timedelta(days=2))
    done = add_session(clinician, pid, now() - HOUR)

    assert (planned["status"], done["status"]) == ("planned", "done")
    sessions = listed(world.as_patient_a(), "me")
    assert sessions[planned["id"]]["status"] == "planned"
    assert sessions[done["id"]]["status"] == "done"
    detail = clinician.get(f"{sessions_path(pid)}/{planned['id']}").json
    assert (detail["status"], detail["cancelled_at"], detail["cancelled_by_id"]) == (
        "planned",
        None,
        None,
    )


def test_moving_a_planned_session_into_the_past_makes_it_done(clinician, pid):
    session = add_session(clinician, pid, now() + timedelta(days=2))

    response = clinician.patch(
        f"{sessions_path(pid)}/{session['id']}",
        json={"started_at": (now() - timedelta(days=1)).isoformat()},
    )

    assert response.json["status"] == "done"


# ---------------------------------------------------------------- cancelling


def test_a_clinician_cancels_a_planned_session(app, world, clinician, pid):
    session = add_session(clinician, pid, now() + timedelta(days=3), notes="first dose")

    response = cancel(clinician, pid, session["id"])

    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    assert response.json["cancelled_by_id"] == world.clinician_x.id
    cancelled_at = datetime.fromisoformat(response.json["cancelled_at"])
    assert abs(cancelled_at - now()) < timedelta(minutes=1)
    assert response.json["notes"] == "first dose"  # kept, and shown
    assert listed(world.as_patient_a(), "me")[session["id"]]["status"] == "cancelled"
    with database(app) as db_session:
        [event] = db_session.scalars(
            select(AuditEvent).where(AuditEvent.action == "session.cancel")
        ).all()
        assert (event.actor_id, event.patient_id) == (world.clinician_x.id, pid)
        assert event.detail["session_id"] == session["id"]


def test_a_session_that_did_not_take_place_can_be_cancelled_afterwards(clinician, pid):
    session = add_session(clinician, pid, now() - timedelta(days=1))

    assert cancel(clinician, pid, session["id"]).json["status"] == "cancelled"


def test_cancelling_again_keeps_the_first_cancellation(world, clinician, pid):
    session = add_session(clinician, pid, now() + timedelta(days=3))
    first = cancel(clinician, pid, session["id"]).json

    again = cancel(world.as_admin_x(), pid, session["id"])

    assert again.status_code == 200, again.json
    assert (again.json["cancelled_at"], again.json["cancelled_by_id"]) == (
        first["cancelled_at"],
        world.clinician_x.id,
    )


@pytest.mark.parametrize("status", ["planned", "done", "postponed", ""])
def test_only_cancelled_may_be_set_and_a_cancelled_session_stays_cancelled(clinician, pid, status):
    session = add_session(clinician, pid, now() + timedelta(days=3))
    assert cancel(clinician, pid, session["id"]).status_code == 200

    response = clinician.patch(f"{sessions_path(pid)}/{session['id']}", json={"status": status})

    assert response.status_code == 422, response.json
    assert "cancelled" in response.json["errors"]["json"]["status"][0]
    assert listed(clinician, pid)[session["id"]]["status"] == "cancelled"


def test_a_status_of_planned_on_a_held_session_is_refused_too(clinician, pid):
    session = add_session(clinician, pid, now() - timedelta(days=1))

    response = clinician.patch(f"{sessions_path(pid)}/{session['id']}", json={"status": "planned"})

    assert response.status_code == 422
    assert "status" in response.json["errors"]["json"]
    assert listed(clinician, pid)[session["id"]]["status"] == "done"


def test_a_status_is_not_accepted_when_a_session_is_added(clinician, pid):
    response = clinician.post(
        sessions_path(pid),
        json={
            "started_at": (now() + HOUR).isoformat(),
            "treatment": "ketamine_iv",
            "status": "cancelled",
        },
    )

    assert response.status_code == 422
    assert "status" in response.json["errors"]["json"]


def test_a_cancelled_sessions_notes_may_still_be_edited(clinician, pid):
    session = add_session(clinician, pid, now() + timedelta(days=3))
    cancel(clinician, pid, session["id"])

    response = clinician.patch(
        f"{sessions_path(pid)}/{session['id']}", json={"notes": "patient unwell, rebooked"}
    )

    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["notes"]) == (
        "cancelled",
        "patient unwell, rebooked",
    )


def test_a_patient_may_not_cancel_a_session(app, world, clinician, pid):
    session = add_session(clinician, pid, now() + timedelta(days=3))

    response = cancel(world.as_patient_a(), "me", session["id"])

    assert response.status_code == 403
    assert listed(clinician, pid)[session["id"]]["status"] == "planned"


def test_a_clinician_of_another_clinic_may_not_cancel_a_session(world, clinician, pid):
    session = add_session(clinician, pid, now() + timedelta(days=3))

    response = cancel(world.as_clinician_y(), pid, session["id"])

    assert response.status_code == 404
    assert listed(clinician, pid)[session["id"]]["status"] == "planned"


def test_another_patients_session_cannot_be_cancelled_through_this_patient(world, clinician):
    session = add_session(clinician, world.patient_b.id, now() + timedelta(days=3))

    response = cancel(clinician, world.patient_a.id, session["id"])

    assert response.status_code == 404


def test_a_session_with_a_monitoring_record_cannot_be_cancelled(clinician, pid):
    session = add_session(clinician, pid, now() - 3 * HOUR)
    record = {
        "vitals": [{"at": (now() - 3 * HOUR).isoformat(), "systolic": 130, "diastolic": 80}],
        "sedation": "none",
        "dissociation": "mild",
        "respiratory_depression": False,
        "adverse_events": [],
    }
    path = f"{sessions_path(pid)}/{session['id']}/monitoring"
    assert clinician.put(path, json=record).status_code == 200

    response = cancel(clinician, pid, session["id"])

    assert response.status_code == 409
    assert "monitoring record" in response.json["message"]
    assert listed(clinician, pid)[session["id"]]["status"] == "done"


# ---------------------------------------------------------------- a cancelled session links nothing


def test_entries_linked_to_a_cancelled_session_are_relinked_to_the_one_that_replaces_it(
    world, clinician, pid
):
    patient = world.as_patient_a()
    first = add_session(clinician, pid, now() + 5 * HOUR)
    pre = submit(patient, "me", "pre_session", now() - HOUR)
    assert linked_sessions(clinician, pid)[pre["id"]] == first["id"]
    rebooked = add_session(clinician, pid, now() + 20 * HOUR)  # farther: not the nearest

    cancel(clinician, pid, first["id"])

    assert linked_sessions(clinician, pid)[pre["id"]] == rebooked["id"]


def test_an_entry_that_named_a_cancelled_session_is_released_and_linked_by_time(
    world, clinician, pid
):
    patient = world.as_patient_a()
    session = add_session(clinician, pid, now() + 5 * HOUR)
    named = submit(patient, "me", "pre_session", now() - HOUR, session_id=session["id"])

    cancel(clinician, pid, session["id"])

    assert linked_sessions(clinician, pid)[named["id"]] is None
    rebooked = add_session(clinician, pid, now() + 30 * HOUR)
    assert linked_sessions(clinician, pid)[named["id"]] == rebooked["id"]


def test_a_new_entry_is_never_linked_to_a_cancelled_session(world, clinician, pid):
    session = add_session(clinician, pid, now() + 5 * HOUR)
    cancel(clinician, pid, session["id"])

    pre = submit(world.as_patient_a(), "me", "pre_session", now() - HOUR)

    assert pre["session_id"] is None


def test_an_entry_may_not_name_a_cancelled_session(world, clinician, pid):
    session = add_session(clinician, pid, now() + 5 * HOUR)
    cancel(clinician, pid, session["id"])
    body = entry_body(
        context="pre_session", taken_at=(now() - HOUR).isoformat(), session_id=session["id"]
    )

    response = world.as_patient_a().post(entries_path("me"), json=body)

    assert response.status_code == 422
    assert response.json["errors"]["json"]["session_id"] == ["This session was cancelled."]


def test_a_cancelled_session_has_no_pair_in_the_summary(world, clinician, pid):
    kept = add_session(clinician, pid, now() - timedelta(days=3))
    off = add_session(clinician, pid, now() - timedelta(days=2))
    cancel(clinician, pid, off["id"])

    summary = clinician.get(f"/api/v1/patients/{pid}/summary?instrument=phq9").json

    assert [pair["session"]["id"] for pair in summary["sessions"]] == [kept["id"]]


def test_a_cancelled_first_session_does_not_stop_a_later_baseline_entry(world, clinician, pid):
    patient = world.as_patient_a()
    submit(patient, "me", "baseline", now() - timedelta(days=20), answers=[3] * 8 + [0])
    off = add_session(clinician, pid, now() - timedelta(days=10))
    later = submit(patient, "me", "baseline", now() - timedelta(days=5))
    summary_path = f"/api/v1/patients/{pid}/summary?instrument=phq9"
    assert clinician.get(summary_path).json["baseline"]["total"] == 24  # rule 2, before it

    cancel(clinician, pid, off["id"])

    summary = clinician.get(summary_path).json
    assert (summary["baseline"]["id"], summary["baseline_rule"]) == (later["id"], 2)


def test_a_cancelled_session_today_asks_for_no_pre_session_check_in(world, clinician, pid):
    patient = world.as_patient_a()
    session = add_session(clinician, pid, now() + 2 * timedelta(minutes=1))

    def due_contexts() -> list[str]:
        return [d["context"] for d in patient.get("/api/v1/patients/me").json["due"]]

    if "pre_session" not in due_contexts():
        pytest.skip("two minutes ahead is already tomorrow in the patient's time zone")

    cancel(clinician, pid, session["id"])

    assert "pre_session" not in due_contexts()


def test_the_panel_does_not_count_a_cancelled_session(world, clinician, pid):
    add_session(clinician, pid, now() - timedelta(days=3))
    off = add_session(clinician, pid, now() + timedelta(days=3))
    cancel(clinician, pid, off["id"])

    rows = clinician.get("/api/v1/patients").json["items"]

    [row] = [row for row in rows if row["patient"]["id"] == pid]
    assert row["sessions_count"] == 1


def test_the_panel_follows_the_baseline_a_cancellation_changes(world, clinician, pid):
    patient = world.as_patient_a()
    submit(patient, "me", "baseline", now() - timedelta(days=20), answers=[3] * 8 + [0])
    off = add_session(clinician, pid, now() - timedelta(days=10))
    submit(patient, "me", "baseline", now() - timedelta(days=5), answers=[2] * 8 + [0])

    def panel_baseline() -> int:
        rows = clinician.get("/api/v1/patients").json["items"]
        [row] = [row for row in rows if row["patient"]["id"] == pid]
        return row["baseline"]["total"]

    assert panel_baseline() == 24

    cancel(clinician, pid, off["id"])

    assert panel_baseline() == 16  # the snapshot was refreshed with the cancellation
