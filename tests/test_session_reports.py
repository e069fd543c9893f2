"""The patient's after-session report: POST .../sessions/{sid}/report, on the session, exported
and imported."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from sqlalchemy import func, select

from server.data.extensions import db
from server.data.models import AuditEvent, SessionReport
from tests.conftest import Browser, database, make_clinic, make_clinician

EFFECTS = {"nausea": 1, "dizziness": 0, "dissociation": 3, "headache": 2, "drowsiness": 1}


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0).isoformat()


def z(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_body(**overrides) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "taken_at": hours_ago(1),
        "side_effects": dict(EFFECTS),
        "note": "felt floaty for an hour, then fine",
    }
    body.update(overrides)
    return body


def add_session(world, pid: str | None = None, started_at: str | None = None) -> dict:
    response = world.as_clinician_x().post(
        f"/api/v1/patients/{pid or world.patient_a.id}/sessions",
        json={"started_at": started_at or hours_ago(4), "treatment": "ketamine_iv"},
    )
    assert response.status_code == 201, response.json
    return response.json


def report_path(session: dict, pid: str = "me") -> str:
    return f"/api/v1/patients/{pid}/sessions/{session['id']}/report"


def stored_reports(app) -> int:
    with database(app) as session:
        return session.scalar(select(func.count()).select_from(SessionReport))


@pytest.fixture
def session(world) -> dict:
    return add_session(world)


# ---------------------------------------------------------------- storing


def test_the_patient_reports_side_effects_and_gets_the_report_back(world, session):
    body = report_body()

    response = world.as_patient_a().post(report_path(session), json=body)

    assert response.status_code == 201, response.json
    report = response.json
    assert report["id"] == body["id"]
    assert report["session_id"] == session["id"]
    assert report["patient_id"] == world.patient_a.id
    assert report["side_effects"] == EFFECTS
    assert report["note"] == body["note"]
    assert report["taken_at"] == z(body["taken_at"])


def test_the_note_is_optional(world, session):
    body = report_body()
    del body["note"]

    response = world.as_patient_a().post(report_path(session), json=body)

    assert response.status_code == 201, response.json
    assert response.json["note"] is None


def test_the_patients_own_id_works_as_well_as_me(world, session):
    response = world.as_patient_a().post(
        report_path(session, world.patient_a.id), json=report_body()
    )

    assert response.status_code == 201, response.json


def test_a_replay_answers_200_with_the_same_report_and_stores_it_once(app, world, session):
    patient = world.as_patient_a()
    body = report_body()

    first = patient.post(report_path(session), json=body)
    again = patient.post(report_path(session), json=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert stored_reports(app) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"note": "another note"},
        {"note": None},
        {"side_effects": {**EFFECTS, "nausea": 2}},
        {"taken_at": hours_ago(2)},
    ],
    ids=["note", "no note", "a side effect", "time"],
)
def test_the_same_id_with_another_body_is_a_409(app, world, session, change):
    patient = world.as_patient_a()
    body = report_body()
    assert patient.post(report_path(session), json=body).status_code == 201

    response = patient.post(report_path(session), json={**body, **change})

    assert response.status_code == 409, response.json
    assert "id" in response.json["errors"]["json"]
    assert stored_reports(app) == 1


def test_the_same_id_on_another_session_is_a_409(world, session):
    other = add_session(world, started_at=hours_ago(30))
    patient = world.as_patient_a()
    body = report_body()
    assert patient.post(report_path(session), json=body).status_code == 201

    response = patient.post(report_path(other), json=body)

    assert response.status_code == 409


def test_the_same_id_from_another_patient_is_a_409_and_reveals_nothing(world, session):
    bobs = add_session(world, world.patient_b.id)
    body = report_body()
    assert world.as_patient_a().post(report_path(session), json=body).status_code == 201

    response = world.as_patient_b().post(report_path(bobs), json=body)

    assert response.status_code == 409
    assert "floaty" not in response.get_data(as_text=True)


def test_a_report_is_audited_as_the_patients_own(app, world, session):
    body = report_body()
    world.as_patient_a().post(report_path(session), json=body)

    with database(app) as db_session:
        [event] = db_session.scalars(
            select(AuditEvent).where(AuditEvent.action == "session_report.create")
        ).all()
        assert (event.patient_id, event.actor_role) == (world.patient_a.id, "patient")
        assert event.detail == {"report_id": body["id"], "session_id": session["id"]}


# ---------------------------------------------------------------- who may


def test_a_clinician_may_not_report_for_the_patient(app, world, session):
    response = world.as_clinician_x().post(
        report_path(session, world.patient_a.id), json=report_body()
    )

    assert response.status_code == 403
    assert stored_reports(app) == 0


def test_another_patients_session_is_not_found(app, world):
    bobs = add_session(world, world.patient_b.id)

    mine = world.as_patient_a().post(report_path(bobs), json=report_body())
    under_bob = world.as_patient_a().post(report_path(bobs, world.patient_b.id), json=report_body())

    assert (mine.status_code, under_bob.status_code) == (404, 404)
    assert stored_reports(app) == 0


def test_an_unknown_session_is_not_found(world):
    response = world.as_patient_a().post(report_path({"id": str(uuid.uuid4())}), json=report_body())

    assert response.status_code == 404


def test_signed_out_is_a_401(app, world, session):
    response = Browser(app).post(report_path(session, world.patient_a.id), json=report_body())

    assert response.status_code == 401


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("effects", "field"),
    [
        ({**EFFECTS, "nausea": 4}, "nausea"),
        ({**EFFECTS, "dizziness": -1}, "dizziness"),
        ({**EFFECTS, "headache": True}, "headache"),
        ({**EFFECTS, "drowsiness": 1.0}, "drowsiness"),
        ({**EFFECTS, "dissociation": "2"}, "dissociation"),
        ({**EFFECTS, "nausea": None}, "nausea"),
        ({k: v for k, v in EFFECTS.items() if k != "dissociation"}, "dissociation"),
        ({**EFFECTS, "vomiting": 1}, "vomiting"),
    ],
    ids=["above 3", "below 0", "boolean", "float", "string", "null", "missing", "unknown"],
)
def test_each_side_effect_is_a_whole_number_from_0_to_3_and_all_five_are_needed(
    app, world, session, effects, field
):
    response = world.as_patient_a().post(
        report_path(session), json=report_body(side_effects=effects)
    )

    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]["side_effects"]
    assert stored_reports(app) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"id": "not-a-uuid"}, "id"),
        ({"taken_at": "2026-03-01T10:00:00"}, "taken_at"),  # no offset
        ({"note": "x" * 2001}, "note"),
        ({"note": 5}, "note"),
        ({"side_effects": [1, 0, 3, 2, 1]}, "side_effects"),
    ],
    ids=["unknown field", "id", "no offset", "long note", "number note", "list"],
)
def test_a_malformed_report_is_a_422_naming_the_field(app, world, session, change, field):
    response = world.as_patient_a().post(report_path(session), json=report_body(**change))

    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert stored_reports(app) == 0


@pytest.mark.parametrize("missing", ["id", "taken_at", "side_effects"])
def test_id_time_and_side_effects_are_required(app, world, session, missing):
    body = report_body()
    del body[missing]

    response = world.as_patient_a().post(report_path(session), json=body)

    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]


def test_a_nul_in_the_note_is_a_422_naming_it(app, world, session):
    response = world.as_patient_a().post(
        report_path(session),
        data=json.dumps(report_body(note="bad \x00 text")),
        content_type="application/json",
    )

    assert response.status_code == 422, response.json
    assert "note" in response.json["errors"]["json"]
    assert stored_reports(app) == 0


def test_a_report_taken_before_its_session_started_is_a_422(app, world):
    later = add_session(world, started_at=hours_ago(1))

    response = world.as_patient_a().post(
        report_path(later), json=report_body(taken_at=hours_ago(2))
    )

    assert response.status_code == 422
    assert "taken_at" in response.json["errors"]["json"]
    assert stored_reports(app) == 0


def test_a_report_on_a_planned_session_is_a_422(world):
    planned = add_session(
        world, started_at=(datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    )

    response = world.as_patient_a().post(report_path(planned), json=report_body())

    assert response.status_code == 422
    assert "taken_at" in response.json["errors"]["json"]


def test_a_report_on_a_cancelled_session_is_a_422_and_stores_nothing(app, world, session):
    cancelled = world.as_clinician_x().patch(
        f"/api/v1/patients/{world.patient_a.id}/sessions/{session['id']}",
        json={"status": "cancelled"},
    )
    assert cancelled.status_code == 200, cancelled.json

    response = world.as_patient_a().post(report_path(session), json=report_body())

    assert response.status_code == 422
    assert "cancelled" in response.json["errors"]["path"]["sid"][0]
    assert stored_reports(app) == 0


def test_a_report_from_the_future_is_a_422(world, session):
    ahead = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0).isoformat()

    response = world.as_patient_a().post(report_path(session), json=report_body(taken_at=ahead))

    assert response.status_code == 422
    assert "taken_at" in response.json["errors"]["json"]


def test_a_report_a_few_seconds_ahead_of_the_server_clock_is_accepted(world, session):
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).replace(microsecond=0).isoformat()

    response = world.as_patient_a().post(report_path(session), json=report_body(taken_at=ahead))

    assert response.status_code == 201, response.json


def test_a_session_moved_after_a_queued_report_still_accepts_its_replay(world, session):
    patient = world.as_patient_a()
    body = report_body(taken_at=hours_ago(3))
    assert patient.post(report_path(session), json=body).status_code == 201
    moved = world.as_clinician_x().patch(
        f"/api/v1/patients/{world.patient_a.id}/sessions/{session['id']}",
        json={"started_at": hours_ago(2)},
    )
    assert moved.status_code == 200

    assert patient.post(report_path(session), json=body).status_code == 200


# ---------------------------------------------------------------- reading


def test_the_reports_are_on_the_session_oldest_first_for_patient_and_clinician(world, session):
    patient = world.as_patient_a()
    later = patient.post(report_path(session), json=report_body(taken_at=hours_ago(1))).json
    earlier = patient.post(report_path(session), json=report_body(taken_at=hours_ago(3))).json

    for browser, pid in ((patient, "me"), (world.as_clinician_x(), world.patient_a.id)):
        listed = browser.get(f"/api/v1/patients/{pid}/sessions").json["items"]
        [found] = [s for s in listed if s["id"] == session["id"]]
        assert [r["id"] for r in found["reports"]] == [earlier["id"], later["id"]]
        one = browser.get(f"/api/v1/patients/{pid}/sessions/{session['id']}").json
        assert [r["id"] for r in one["reports"]] == [earlier["id"], later["id"]]


def test_a_session_without_reports_has_an_empty_list(world, session):
    listed = world.as_patient_a().get("/api/v1/patients/me/sessions").json["items"]

    assert [s["reports"] for s in listed] == [[]]


def test_a_clinicians_read_of_the_reports_is_audited(app, world, session):
    world.as_patient_a().post(report_path(session), json=report_body())

    world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/sessions")

    with database(app) as db_session:
        actions = db_session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.patient_id == world.patient_a.id, AuditEvent.actor_role == "clinician"
            )
        ).all()
    assert "sessions.read" in actions


def test_a_clinician_of_another_clinic_sees_no_reports(world, session):
    world.as_patient_a().post(report_path(session), json=report_body())

    response = world.as_clinician_y().get(f"/api/v1/patients/{world.patient_a.id}/sessions")

    assert response.status_code == 404


def test_the_vocabularies_name_the_side_effects_and_their_levels(app):
    served = app.test_client().get("/api/v1/vocabularies").json

    assert [t["value"] for t in served["side_effects"]] == list(EFFECTS)
    assert all(t["question"].strip() for t in served["side_effects"])
    assert [(t["value"], t["label"]) for t in served["side_effect_levels"]] == [
        (0, "None"),
        (1, "Mild"),
        (2, "Moderate"),
        (3, "Severe"),
    ]


# ---------------------------------------------------------------- exports


@pytest.fixture
def reported(world, session) -> dict:
    report = world.as_patient_a().post(report_path(session), json=report_body()).json
    return {"session": session, "report": report}


def test_the_json_export_lists_the_reports_on_each_session(world, reported):
    response = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/export")
    document = json.loads(response.get_data(as_text=True))

    [session] = document["patients"][0]["sessions"]
    assert session["reports"] == [reported["report"]]


def test_the_fhir_export_has_one_observation_per_report_with_a_component_per_side_effect(
    world, reported
):
    response = world.as_clinician_x().get(
        f"/api/v1/patients/{world.patient_a.id}/export?format=fhir"
    )
    bundle = json.loads(response.get_data(as_text=True))

    Bundle.model_validate(bundle)
    [observation] = [
        item["resource"]
        for item in bundle["entry"]
        if item["resource"]["resourceType"] == "Observation"
        and item["resource"]["code"]["coding"][0]["code"] == "after-session-report"
    ]
    Observation.model_validate(observation)
    assert observation["id"] == reported["report"]["id"]
    assert observation["subject"] == {"reference": f"urn:uuid:{world.patient_a.id}"}
    assert observation["effectiveDateTime"] == reported["report"]["taken_at"]
    assert observation["focus"][0]["identifier"]["value"] == reported["session"]["id"]
    components = {
        c["code"]["coding"][0]["code"]: c["valueCodeableConcept"]["coding"][0]
        for c in observation["component"]
    }
    assert {name: int(coding["code"]) for name, coding in components.items()} == EFFECTS
    assert components["dissociation"]["display"] == "Severe"
    assert observation["note"] == [{"text": reported["report"]["note"]}]


def test_the_csv_has_a_row_per_report_with_a_column_per_side_effect(world, reported):
    response = world.as_clinician_x().get(
        f"/api/v1/patients/{world.patient_a.id}/export?format=csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))

    [row] = [r for r in rows if r["record"] == "session_report"]
    assert row["report_id"] == reported["report"]["id"]
    assert row["session_id"] == reported["session"]["id"]
    assert row["entry_id"] == ""
    assert row["note"] == reported["report"]["note"]
    assert {name: int(row[f"side_effect_{name}"]) for name in EFFECTS} == EFFECTS


def test_a_note_a_spreadsheet_would_run_is_neutralised_in_the_csv(world, session):
    world.as_patient_a().post(report_path(session), json=report_body(note="=HYPERLINK(1)"))

    response = world.as_patient_a().get("/api/v1/patients/me/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))

    [row] = [r for r in rows if r["record"] == "session_report"]
    assert row["note"] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------- the import round trip


def empty_every_table(app) -> None:
    with database(app) as db_session:
        for table in reversed(db.metadata.sorted_tables):
            db_session.execute(table.delete())
        db_session.commit()


def new_admin(app) -> Browser:
    with database(app):
        email = make_clinician(make_clinic("Clinic X"), "restorer@example.org", admin=True).email
    browser = Browser(app)
    assert browser.login(email).status_code == 200
    return browser


@pytest.fixture
def exported(world, reported) -> dict:
    """Clinic X's export with a quick-rating pair and an after-session report."""
    patient = world.as_patient_a()
    for answer, context, taken_at in ((7, "pre_session", 5), (2, "post_session", 2)):
        body = {
            "id": str(uuid.uuid4()),
            "instrument": "mood_now",
            "answers": [answer],
            "taken_at": hours_ago(taken_at),
            "context": context,
        }
        assert patient.post("/api/v1/patients/me/entries", json=body).status_code == 201
    response = world.as_clinician_x().get("/api/v1/export")
    return json.loads(response.get_data(as_text=True))


def test_the_import_restores_the_reports_and_the_quick_ratings(app, world, exported):
    before = world.as_clinician_x()
    sessions = before.get(f"/api/v1/patients/{world.patient_a.id}/sessions").json["items"]
    summary = before.get(f"/api/v1/patients/{world.patient_a.id}/summary?instrument=mood_now").json
    empty_every_table(app)
    admin = new_admin(app)

    response = admin.post("/api/v1/import", json=exported)

    assert response.status_code == 200, response.json
    assert response.json["reports"] == 1
    pid = world.patient_a.id
    assert admin.get(f"/api/v1/patients/{pid}/sessions").json["items"] == sessions
    restored = admin.get(f"/api/v1/patients/{pid}/summary?instrument=mood_now").json
    assert restored["sessions"] == summary["sessions"]
    assert restored["sessions"][0]["delta"] == 5
    assert restored["outcome_unavailable"] == "not_a_scale"


def test_importing_the_same_document_twice_adds_no_second_report(app, world, exported):
    empty_every_table(app)
    admin = new_admin(app)
    assert admin.post("/api/v1/import", json=exported).status_code == 200

    again = admin.post("/api/v1/import", json=exported)

    assert again.status_code == 200
    assert again.json["reports"] == 0
    assert stored_reports(app) == 1


def test_a_restored_report_keeps_its_fingerprint_so_a_queued_replay_is_no_conflict(
    app, world, exported, reported
):
    with database(app) as db_session:
        original = db_session.get(SessionReport, reported["report"]["id"]).request_hash
    empty_every_table(app)
    admin = new_admin(app)

    assert admin.post("/api/v1/import", json=exported).status_code == 200

    with database(app) as db_session:
        assert db_session.get(SessionReport, reported["report"]["id"]).request_hash == original


def block_with_report(exported: dict) -> tuple[dict, dict]:
    [block] = [b for b in exported["patients"] if b["sessions"] and b["sessions"][0]["reports"]]
    return block, block["sessions"][0]["reports"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"side_effects": {**EFFECTS, "nausea": 7}}, "side_effects"),
        ({"side_effects": {**EFFECTS, "nausea": True}}, "side_effects"),
        ({"session_id": str(uuid.uuid4())}, "session_id"),
        ({"patient_id": str(uuid.uuid4())}, "patient_id"),
        ({"taken_at": "2000-01-02T00:00:00Z"}, "taken_at"),
        ({"mood": "fine"}, "mood"),
    ],
    ids=["range", "boolean", "another session", "another patient", "before session", "unknown"],
)
def test_a_document_with_a_bad_report_is_refused_whole(app, world, exported, change, field):
    block, report = block_with_report(exported)
    report.update(change)
    empty_every_table(app)
    admin = new_admin(app)

    response = admin.post("/api/v1/import", json=exported)

    assert response.status_code == 422, response.json
    assert field in json.dumps(response.json["errors"])
    assert stored_reports(app) == 0
    assert admin.get("/api/v1/patients").json["items"] == []


def test_a_report_id_of_another_patient_here_refuses_the_document(app, world, exported):
    block, report = block_with_report(exported)
    bobs = add_session(world, world.patient_b.id)
    taken = world.as_patient_b().post(report_path(bobs), json=report_body(id=report["id"]))
    assert taken.status_code == 409  # the id is Alice's already
    other = world.as_patient_b().post(report_path(bobs), json=report_body())
    report["id"] = other.json["id"]

    response = world.as_admin_x().post("/api/v1/import", json=exported)

    assert response.status_code == 422
    assert "another patient" in json.dumps(response.json["errors"])


def test_a_document_from_before_reports_still_imports(app, world, exported):
    for block in exported["patients"]:
        for session in block["sessions"]:
            del session["reports"]
    empty_every_table(app)
    admin = new_admin(app)

    response = admin.post("/api/v1/import", json=exported)

    assert response.status_code == 200, response.json
    assert response.json["reports"] == 0
