"""Planned, cancelled and monitored sessions in every export, and back through the import."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from server.domain.vocabularies import SIDE_EFFECTS as SIDE_EFFECT_NAMES
from tests.conftest import Browser, database, entry_body, make_clinic, make_clinician
from tests.test_import import (
    IMPORT,
    ZERO_COUNTS,
    empty_every_table,
    export_clinic,
    row_counts,
    with_new_ids,
    without_exported_at,
)
from tests.test_monitoring import monitoring_path, record_body
from tests.test_sessions import add_session, sessions_path, submit

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export(browser, pid: str, fmt: str = "json"):
    response = browser.get(f"/api/v1/patients/{pid}/export?format={fmt}")
    assert response.status_code == 200, response.data[:500]
    return response


def session_of(document: dict, sid: str) -> dict:
    [found] = [s for block in document["patients"] for s in block["sessions"] if s["id"] == sid]
    return found


@pytest.fixture
def treated(world) -> dict:
    """Alice: a monitored session three hours ago (one reading raised), a planned one and a
    cancelled one; a pre-session entry before the monitored one."""
    clinician = world.as_clinician_x()
    pid = world.patient_a.id
    started = (datetime.now(UTC) - 3 * HOUR).replace(second=0, microsecond=0)
    monitored = add_session(clinician, pid, started, dose_mg=35, notes="first infusion")
    body = record_body(started)
    body["vitals"][1].update(systolic=186, diastolic=100)  # raised at any time
    record = clinician.put(monitoring_path(pid, monitored["id"]), json=body)
    assert record.status_code == 200, record.json
    planned = add_session(clinician, pid, datetime.now(UTC) + timedelta(days=4))
    cancelled = add_session(clinician, pid, datetime.now(UTC) + timedelta(days=2))
    response = clinician.patch(
        f"{sessions_path(pid)}/{cancelled['id']}", json={"status": "cancelled"}
    )
    assert response.status_code == 200, response.json
    submit(world.as_patient_a(), "me", "pre_session", started - HOUR)
    return {
        "started": started,
        "monitored": monitored,
        "record": record.json,
        "planned": planned,
        "cancelled": response.json,
    }


# ---------------------------------------------------------------- JSON


def test_the_json_export_carries_each_sessions_status_and_monitoring_record(world, treated):
    document = json.loads(export(world.as_patient_a(), "me").get_data(as_text=True))

    monitored = session_of(document, treated["monitored"]["id"])
    assert monitored["status"] == "done"
    assert monitored["monitoring"] == treated["record"]
    assert [v["raised"] for v in monitored["monitoring"]["vitals"]] == [False, True, False]
    planned = session_of(document, treated["planned"]["id"])
    assert (planned["status"], planned["monitoring"]) == ("planned", None)
    cancelled = session_of(document, treated["cancelled"]["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_at"] == treated["cancelled"]["cancelled_at"]
    assert cancelled["cancelled_by_id"] == world.clinician_x.id


# ---------------------------------------------------------------- FHIR


def vital_signs(bundle: dict) -> list[dict]:
    return [
        item["resource"]
        for item in bundle["entry"]
        if item["resource"]["resourceType"] == "Observation"
        and item["resource"]["category"][0]["coding"][0]["code"] == "vital-signs"
    ]


def codes(observation: dict) -> list[str]:
    return [coding["code"] for coding in observation["code"]["coding"]]


def test_the_fhir_bundle_has_vital_signs_observations_that_validate(world, treated):
    bundle = json.loads(export(world.as_clinician_x(), world.patient_a.id, "fhir").data)

    Bundle.model_validate(bundle)
    observations = vital_signs(bundle)
    for observation in observations:
        Observation.model_validate(observation)
    # Three readings: each a blood pressure panel; two with heart rate and SpO2.
    assert sorted(codes(o)[0] for o in observations) == sorted(
        ["85354-9"] * 3 + ["8867-4"] * 2 + ["59408-5"] * 2
    )
    assert len({item["fullUrl"] for item in bundle["entry"]}) == len(bundle["entry"])


def test_a_blood_pressure_panel_carries_systolic_and_diastolic_in_mm_hg(world, treated):
    bundle = json.loads(export(world.as_clinician_x(), world.patient_a.id, "fhir").data)
    started = treated["started"]

    [panel] = [
        o
        for o in vital_signs(bundle)
        if codes(o)[0] == "85354-9" and o["effectiveDateTime"] == z(started - 10 * MINUTE)
    ]

    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in panel["component"]}
    assert components == {
        "8480-6": {"value": 128, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        "8462-4": {"value": 82, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }
    assert panel["code"]["coding"][0]["system"] == LOINC
    assert panel["status"] == "final"
    assert panel["subject"] == {"reference": f"urn:uuid:{world.patient_a.id}"}
    assert "interpretation" not in panel


def test_heart_rate_and_spo2_have_their_loinc_codes_and_ucum_units(world, treated):
    bundle = json.loads(export(world.as_clinician_x(), world.patient_a.id, "fhir").data)
    at = z(treated["started"] - 10 * MINUTE)
    taken = {codes(o)[0]: o for o in vital_signs(bundle) if o["effectiveDateTime"] == at}

    assert taken["8867-4"]["valueQuantity"] == {
        "value": 72,
        "unit": "beats/minute",
        "system": UCUM,
        "code": "/min",
    }
    assert taken["59408-5"]["valueQuantity"] == {
        "value": 98,
        "unit": "%",
        "system": UCUM,
        "code": "%",
    }
    assert "2708-6" in codes(taken["59408-5"])  # as the FHIR oxygen saturation profile asks


def test_a_raised_reading_is_interpreted_high_and_a_reading_without_pulse_has_only_a_panel(
    world, treated
):
    bundle = json.loads(export(world.as_clinician_x(), world.patient_a.id, "fhir").data)
    at = z(treated["started"] + 40 * MINUTE)

    [panel] = [o for o in vital_signs(bundle) if o["effectiveDateTime"] == at]

    assert codes(panel) == ["85354-9"]
    assert panel["interpretation"][0]["coding"][0]["code"] == "H"


def test_the_vital_signs_keep_their_ids_from_one_export_to_the_next(world, treated):
    first = json.loads(export(world.as_clinician_x(), world.patient_a.id, "fhir").data)
    second = json.loads(export(world.as_clinician_x(), world.patient_a.id, "fhir").data)

    assert [o["id"] for o in vital_signs(first)] == [o["id"] for o in vital_signs(second)]


# ---------------------------------------------------------------- CSV


def csv_rows(browser, pid: str) -> list[dict]:
    text = export(browser, pid, "csv").data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_csv_has_a_monitoring_row_and_a_row_per_reading(world, treated):
    rows = csv_rows(world.as_clinician_x(), world.patient_a.id)
    sid = treated["monitored"]["id"]
    started = treated["started"]

    assert [row["record"] for row in rows] == ["entry", "monitoring", "vitals", "vitals", "vitals"]
    monitoring = rows[1]
    assert (monitoring["session_id"], monitoring["session_status"]) == (sid, "done")
    assert monitoring["taken_at"] == z(started)
    assert (monitoring["sedation"], monitoring["dissociation"]) == ("mild", "moderate")
    assert monitoring["respiratory_depression"] == "no"
    assert monitoring["adverse_events"] == "nausea dizziness"
    assert (monitoring["monitoring_minutes"], monitoring["ready_to_leave_minutes"]) == (
        "120",
        "110",
    )
    assert monitoring["discharged_at"] == z(started + 125 * MINUTE)
    assert monitoring["note"].startswith("Nausea settled")
    assert monitoring["recorded_by"] == "Dr Test"
    assert monitoring["entry_id"] == monitoring["systolic"] == ""
    readings = [
        (r["taken_at"], r["systolic"], r["diastolic"], r["heart_rate"], r["spo2"], r["raised"])
        for r in rows[2:]
    ]
    assert readings == [
        (z(started - 10 * MINUTE), "128", "82", "72", "98", "no"),
        (z(started + 40 * MINUTE), "186", "100", "", "", "yes"),
        (z(started + 100 * MINUTE), "132", "84", "70", "97", "no"),
    ]
    assert all(row["session_id"] == sid for row in rows[1:])
    assert rows[0]["record"] == "entry" and rows[0]["sedation"] == ""


def test_a_monitoring_note_a_spreadsheet_would_run_is_neutralised(world, treated):
    clinician = world.as_clinician_x()
    body = record_body(treated["started"], notes="=HYPERLINK(1)")
    clinician.put(monitoring_path(world.patient_a.id, treated["monitored"]["id"]), json=body)

    [monitoring] = [
        r for r in csv_rows(clinician, world.patient_a.id) if r["record"] == "monitoring"
    ]

    assert monitoring["note"] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------- import round trip


@pytest.fixture
def restored(app, world, treated) -> dict:
    """Clinic X's export, imported by a new admin of a new Clinic X in an empty database."""
    exported = export_clinic(world.as_clinician_x())
    empty_every_table(app)
    with database(app):
        email = make_clinician(make_clinic("Clinic X"), "restorer@example.org", admin=True).email
    admin = Browser(app)
    assert admin.login(email).status_code == 200
    response = admin.post(IMPORT, json=exported)
    assert response.status_code == 200, response.json
    return {"exported": exported, "admin": admin, "response": response}


def test_the_round_trip_restores_the_monitoring_record_and_the_cancellation(
    world, treated, restored
):
    again = export_clinic(restored["admin"])

    assert without_exported_at(again) == without_exported_at(restored["exported"])
    assert restored["response"].json["sessions"] == 3
    admin = restored["admin"]
    pid, sid = world.patient_a.id, treated["monitored"]["id"]
    assert admin.get(monitoring_path(pid, sid)).json == treated["record"]
    statuses = {s["id"]: s["status"] for s in admin.get(sessions_path(pid)).json["items"]}
    assert statuses[treated["cancelled"]["id"]] == "cancelled"
    assert statuses[treated["planned"]["id"]] == "planned"


def test_importing_the_same_document_again_changes_nothing(app, restored):
    before = row_counts(app)

    again = restored["admin"].post(IMPORT, json=restored["exported"])

    assert again.json == ZERO_COUNTS
    after = row_counts(app)
    assert after.pop("audit_event") == before.pop("audit_event") + 1
    assert after == before


def test_raised_marks_follow_the_importing_clinics_thresholds(app, world, treated, restored):
    strict = {
        "before_dosing": {"systolic": 120, "diastolic": 80},
        "any_time": {"systolic": 130, "diastolic": 85},
    }
    admin = restored["admin"]
    assert (
        admin.patch("/api/v1/clinic", json={"blood_pressure_thresholds": strict}).status_code == 200
    )

    record = admin.get(monitoring_path(world.patient_a.id, treated["monitored"]["id"])).json

    assert [v["raised"] for v in record["vitals"]] == [True, True, True]


def test_a_document_from_before_monitoring_and_cancellation_still_imports(app, world, treated):
    document = from_elsewhere(world)
    for block in document["patients"]:
        for session in block["sessions"]:
            for name in ("status", "cancelled_at", "cancelled_by_id", "monitoring"):
                session.pop(name)
            session.pop("monitoring_recorded")

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 200, response.json
    assert response.json["sessions"] == 3


def _cancelled_index(block: dict) -> int:
    return next(i for i, s in enumerate(block["sessions"]) if s["status"] == "cancelled")


def _monitored_index(block: dict) -> int:
    return next(i for i, s in enumerate(block["sessions"]) if s["monitoring"])


def _alice(document: dict) -> dict:
    return next(b for b in document["patients"] if b["sessions"])


def _monitoring_on_the_cancelled_session(document):
    block = _alice(document)
    record = block["sessions"][_monitored_index(block)]["monitoring"]
    cancelled = block["sessions"][_cancelled_index(block)]
    cancelled["monitoring"], cancelled["monitoring_recorded"] = copy.deepcopy(record), True


def _status_without_cancellation(document):
    block = _alice(document)
    session = block["sessions"][_cancelled_index(block)]
    session["cancelled_at"] = session["cancelled_by_id"] = None


def _reading_out_of_range(document):
    block = _alice(document)
    block["sessions"][_monitored_index(block)]["monitoring"]["vitals"][0]["spo2"] = 101


def _reading_a_week_after(document):
    block = _alice(document)
    session = block["sessions"][_monitored_index(block)]
    session["monitoring"]["vitals"][0]["at"] = "2020-01-01T00:00:00Z"


def _an_entry_linked_to_the_cancelled_session(document):
    block = _alice(document)
    block["entries"][0]["session_id"] = block["sessions"][_cancelled_index(block)]["id"]


def _an_unknown_monitoring_field(document):
    block = _alice(document)
    block["sessions"][_monitored_index(block)]["monitoring"]["pain"] = 3


BROKEN = {
    "a record on a cancelled session": (
        _monitoring_on_the_cancelled_session,
        "A cancelled session has no monitoring record.",
    ),
    "cancelled without cancelled_at": (_status_without_cancellation, "Must be cancelled exactly"),
    "an SpO2 of 101": (_reading_out_of_range, '"spo2"'),
    "a reading years from its session": (_reading_a_week_after, "within 24 hours"),
    "an entry linked to a cancelled session": (
        _an_entry_linked_to_the_cancelled_session,
        "This session was cancelled.",
    ),
    "an unknown field in the record": (_an_unknown_monitoring_field, '"pain"'),
}


def from_elsewhere(world) -> dict:
    """Clinic X's export as another installation's: new ids, and a recorder unknown here."""
    document = with_new_ids(export_clinic(world.as_clinician_x()))
    text = json.dumps(document).replace(world.clinician_x.id, str(uuid.uuid4()))
    return json.loads(text)


def test_a_document_from_elsewhere_imports_with_its_recorder_kept(app, world, treated):
    document = from_elsewhere(world)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 200, response.json
    [record] = [
        s["monitoring"] for b in document["patients"] for s in b["sessions"] if s["monitoring"]
    ]
    again = [
        s["monitoring"]
        for b in export_clinic(world.as_admin_x())["patients"]
        for s in b["sessions"]
        if s["monitoring"] and s["monitoring"]["recorded_by"] == record["recorded_by"]
    ]
    assert len(again) == 1


@pytest.mark.parametrize(("breakage", "words"), list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_session_refuses_the_whole_document(app, world, treated, breakage, words):
    document = from_elsewhere(world)
    breakage(document)
    admin = world.as_admin_x()
    before = row_counts(app)

    response = admin.post(IMPORT, json=document)

    assert response.status_code == 422, response.json
    assert words in json.dumps(response.json["errors"])
    assert row_counts(app) == before


def test_an_import_may_not_name_a_colleague_as_recorder_or_canceller(app, world, treated):
    # New ids, but clinician X, a colleague of the importing admin, still named.
    document = with_new_ids(export_clinic(world.as_clinician_x()))
    admin = world.as_admin_x()
    before = row_counts(app)

    response = admin.post(IMPORT, json=document)

    assert response.status_code == 422, response.json
    [problems] = [p["sessions"] for p in response.json["errors"]["json"]["patients"].values()]
    named = sorted(
        "recorded_by" if "monitoring" in problem else next(iter(problem))
        for problem in problems.values()
    )
    assert named == ["cancelled_by_id", "recorded_by"]
    assert row_counts(app) == before


# ---------------------------------------------------------------- the export's fast path


def test_the_exports_write_every_entry_and_session_exactly_as_the_api_schemas_do(world, treated):
    """Entries and sessions are written from their columns, not through the schemas (for
    speed): both the clinic's stream and a patient's document say what the schemas say."""
    from sqlalchemy import select

    from server.api.schemas import EntryOut, MonitoringOut, SessionOut
    from server.data.models import Clinic, Entry, TreatmentSession
    from server.services import monitoring

    clinician, pid = world.as_clinician_x(), world.patient_a.id
    tricky = 'He said "stop"\\ then\n left. Naïve 😀 \u2028 <b> \t'
    entries = f"/api/v1/patients/{pid}/entries"
    for who, path, body in (
        (clinician, entries, entry_body(answers=[2, 2, None, 1, None, 1, 1, 1, 0], note=tricky)),
        (clinician, entries, entry_body("madrs", note="MADRS, by the clinician")),
        (world.as_patient_a(), "/api/v1/patients/me/entries", entry_body("mood_now", [7])),
    ):
        sent = who.post(path, json=body)
        assert sent.status_code == 201, sent.json
    voided = clinician.post(entries, json=entry_body())
    reason = {"reason": tricky}
    assert clinician.post(f"{entries}/{voided.json['id']}/void", json=reason).status_code == 200
    report = {
        "id": str(uuid.uuid4()),
        "taken_at": (treated["started"] + 2 * HOUR).isoformat(),
        "side_effects": {name: 1 for name in SIDE_EFFECT_NAMES},
        "note": tricky,
    }
    reported = world.as_patient_a().post(
        f"/api/v1/patients/me/sessions/{treated['monitored']['id']}/report", json=report
    )
    assert reported.status_code == 201, reported.json

    stream = json.loads(clinician.get("/api/v1/export").get_data(as_text=True))
    [streamed] = [block for block in stream["patients"] if block["patient"]["id"] == pid]
    single = export(clinician, pid).json["patients"][0]

    with database(world.app) as session:
        clinic = session.get(Clinic, world.clinic_x.id)
        rows = session.scalars(
            select(Entry).where(Entry.patient_id == pid).order_by(Entry.taken_at, Entry.id)
        ).all()
        expected_entries = EntryOut(many=True).dump(rows)
        expected_sessions = [
            SessionOut().dump(row)
            | {
                "monitoring": (
                    None
                    if row.monitoring is None
                    else MonitoringOut().dump(monitoring.of_session(row, clinic))
                )
            }
            for row in session.scalars(
                select(TreatmentSession)
                .where(TreatmentSession.patient_id == pid)
                .order_by(TreatmentSession.started_at, TreatmentSession.id)
            )
        ]
    assert len(expected_entries) == 5
    assert {entry["prorated"] for entry in expected_entries} == {True, False}
    assert any(entry["voided"] for entry in expected_entries)
    assert [len(s["reports"]) for s in expected_sessions] == [1, 0, 0]
    for block in (streamed, single):
        assert block["entries"] == expected_entries
        assert block["sessions"] == expected_sessions
