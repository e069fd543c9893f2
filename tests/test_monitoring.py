"""The monitoring record of a session: PUT/GET .../sessions/{sid}/monitoring (API.md)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, SessionMonitoring, VitalSigns
from tests.conftest import database
from tests.test_sessions import add_session, sessions_path

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def monitoring_path(pid: str, sid: str) -> str:
    return f"{sessions_path(pid)}/{sid}/monitoring"


@pytest.fixture
def clinician(world):
    return world.as_clinician_x()


@pytest.fixture
def pid(world) -> str:
    return world.patient_a.id


@pytest.fixture
def started() -> datetime:
    """A session that began three hours ago, on a whole minute."""
    return (datetime.now(UTC) - 3 * HOUR).replace(second=0, microsecond=0)


@pytest.fixture
def session(clinician, pid, started) -> dict:
    return add_session(clinician, pid, started, dose_mg=35)


def record_body(started: datetime, **overrides) -> dict:
    """A full record: a reading before dosing, two after, every optional field filled."""
    body = {
        "vitals": [
            {
                "at": (started - 10 * MINUTE).isoformat(),
                "systolic": 128,
                "diastolic": 82,
                "heart_rate": 72,
                "spo2": 98,
            },
            {"at": (started + 40 * MINUTE).isoformat(), "systolic": 146, "diastolic": 92},
            {
                "at": (started + 100 * MINUTE).isoformat(),
                "systolic": 132,
                "diastolic": 84,
                "heart_rate": 70,
                "spo2": 97,
            },
        ],
        "sedation": "mild",
        "dissociation": "moderate",
        "respiratory_depression": False,
        "adverse_events": ["nausea", "dizziness"],
        "monitoring_minutes": 120,
        "ready_to_leave_minutes": 110,
        "discharged_at": (started + 125 * MINUTE).isoformat(),
        "notes": "Nausea settled by 60 min. Escorted home by partner.",
    }
    body.update(overrides)
    return body


def put(browser, pid: str, sid: str, body: dict):
    return browser.put(monitoring_path(pid, sid), json=body)


def stored_records(app) -> tuple[int, int]:
    with database(app) as db_session:
        return (
            db_session.scalar(select(func.count()).select_from(SessionMonitoring)),
            db_session.scalar(select(func.count()).select_from(VitalSigns)),
        )


# ---------------------------------------------------------------- recording and reading


def test_a_clinician_records_the_monitoring_record_and_reads_it_back(
    world, clinician, pid, session, started
):
    response = put(clinician, pid, session["id"], record_body(started))

    assert response.status_code == 200, response.json
    record = response.json
    assert clinician.get(monitoring_path(pid, session["id"])).json == record
    assert record["vitals"][0] == {
        "at": z(started - 10 * MINUTE),
        "systolic": 128,
        "diastolic": 82,
        "heart_rate": 72,
        "spo2": 98,
        "raised": False,
    }
    assert (record["vitals"][1]["heart_rate"], record["vitals"][1]["spo2"]) == (None, None)
    assert (record["sedation"], record["dissociation"]) == ("mild", "moderate")
    assert record["respiratory_depression"] is False
    assert record["adverse_events"] == ["nausea", "dizziness"]
    assert (record["monitoring_minutes"], record["ready_to_leave_minutes"]) == (120, 110)
    assert record["discharged_at"] == z(started + 125 * MINUTE)
    assert record["notes"].startswith("Nausea settled")
    assert record["recorded_by"] == {"id": world.clinician_x.id, "display_name": "Dr Test"}
    assert record["updated_at"] is None
    assert record["thresholds"] == {
        "before_dosing": {"systolic": 140, "diastolic": 90},
        "any_time": {"systolic": 180, "diastolic": 110},
    }


def test_the_session_says_a_record_was_saved(clinician, pid, session, started):
    assert session["monitoring_recorded"] is False

    put(clinician, pid, session["id"], record_body(started))

    [listed] = clinician.get(sessions_path(pid)).json["items"]
    assert listed["monitoring_recorded"] is True


def test_before_anything_is_recorded_the_record_is_null(world, clinician, pid, session):
    response = clinician.get(monitoring_path(pid, session["id"]))

    assert response.status_code == 200
    assert response.json is None
    assert world.as_patient_a().get(monitoring_path("me", session["id"])).json is None


def test_only_the_required_fields_are_needed(clinician, pid, session, started):
    body = {
        "vitals": [],
        "sedation": "none",
        "dissociation": "none",
        "respiratory_depression": False,
        "adverse_events": [],
    }

    response = put(clinician, pid, session["id"], body)

    assert response.status_code == 200, response.json
    assert response.json["vitals"] == []
    for name in ("monitoring_minutes", "ready_to_leave_minutes", "discharged_at", "notes"):
        assert response.json[name] is None


def test_a_second_save_replaces_the_record_whole(app, world, clinician, pid, session, started):
    put(clinician, pid, session["id"], record_body(started))
    changed = record_body(
        started,
        vitals=[{"at": (started + 5 * MINUTE).isoformat(), "systolic": 120, "diastolic": 80}],
        adverse_events=[],
        notes=None,
    )

    response = put(world.as_admin_x(), pid, session["id"], changed)

    assert response.status_code == 200, response.json
    assert [v["systolic"] for v in response.json["vitals"]] == [120]
    assert (response.json["adverse_events"], response.json["notes"]) == ([], None)
    assert response.json["recorded_by"]["id"] == world.admin_x.id  # who saved this version
    assert response.json["updated_at"] is not None
    assert stored_records(app) == (1, 1)


def test_readings_come_back_in_time_order_and_events_in_the_vocabularys(
    clinician, pid, session, started
):
    body = record_body(started, adverse_events=["other", "nausea", "anxiety"])
    body["vitals"].reverse()

    record = put(clinician, pid, session["id"], body).json

    times = [v["at"] for v in record["vitals"]]
    assert times == sorted(times)
    assert record["adverse_events"] == ["nausea", "anxiety", "other"]


def test_every_save_and_every_clinician_read_is_audited(
    app, world, clinician, pid, session, started
):
    body = record_body(started)
    body["vitals"][1]["systolic"] = 185  # raised at any time
    put(clinician, pid, session["id"], body)
    clinician.get(monitoring_path(pid, session["id"]))
    world.as_patient_a().get(monitoring_path("me", session["id"]))  # a patient's own: not

    with database(app) as db_session:
        events = db_session.execute(
            select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.detail).where(
                AuditEvent.action.like("monitoring.%")
            )
        ).all()
    assert sorted((action, actor) for action, actor, _ in events) == [
        ("monitoring.read", world.clinician_x.id),
        ("monitoring.record", world.clinician_x.id),
    ]
    [saved] = [detail for action, _, detail in events if action == "monitoring.record"]
    assert saved == {"session_id": session["id"], "vitals": 3, "raised": 1}


# ---------------------------------------------------------------- raised readings


def test_readings_above_the_default_thresholds_are_marked_raised_and_stored(
    clinician, pid, session, started
):
    body = record_body(
        started,
        vitals=[
            {"at": (started - 15 * MINUTE).isoformat(), "systolic": 141, "diastolic": 85},
            {"at": (started - 5 * MINUTE).isoformat(), "systolic": 140, "diastolic": 90},
            {"at": (started + 40 * MINUTE).isoformat(), "systolic": 175, "diastolic": 105},
            {"at": (started + 50 * MINUTE).isoformat(), "systolic": 182, "diastolic": 100},
            {"at": (started + 60 * MINUTE).isoformat(), "systolic": 150, "diastolic": 111},
        ],
    )

    response = put(clinician, pid, session["id"], body)

    assert response.status_code == 200, response.json
    assert [v["raised"] for v in response.json["vitals"]] == [True, False, False, True, True]


def test_the_clinics_own_thresholds_decide_what_is_raised(world, clinician, pid, session, started):
    strict = {
        "before_dosing": {"systolic": 130, "diastolic": 85},
        "any_time": {"systolic": 160, "diastolic": 100},
    }
    response = world.as_admin_x().patch(
        "/api/v1/clinic", json={"blood_pressure_thresholds": strict}
    )
    assert response.status_code == 200, response.json
    assert response.json["blood_pressure_thresholds"] == strict
    body = record_body(
        started,
        vitals=[
            {"at": (started - 15 * MINUTE).isoformat(), "systolic": 135, "diastolic": 80},
            {"at": (started + 40 * MINUTE).isoformat(), "systolic": 161, "diastolic": 90},
            {"at": (started + 50 * MINUTE).isoformat(), "systolic": 150, "diastolic": 95},
        ],
    )

    record = put(clinician, pid, session["id"], body).json

    assert [v["raised"] for v in record["vitals"]] == [True, True, False]
    assert record["thresholds"] == strict
    # Judged by the thresholds as they are now: loosening them lifts the marks.
    loose = {
        "before_dosing": {"systolic": 200, "diastolic": 120},
        "any_time": {"systolic": 220, "diastolic": 130},
    }
    world.as_admin_x().patch("/api/v1/clinic", json={"blood_pressure_thresholds": loose})
    again = clinician.get(monitoring_path(pid, session["id"])).json
    assert [v["raised"] for v in again["vitals"]] == [False, False, False]


def test_before_dosing_means_before_the_session_started(clinician, pid, started):
    planned = add_session(clinician, pid, datetime.now(UTC) + 20 * MINUTE)
    at = datetime.now(UTC) - MINUTE  # on arrival, before the dose
    body = record_body(started, vitals=[{"at": at.isoformat(), "systolic": 145, "diastolic": 80}])
    body.pop("discharged_at")

    record = put(clinician, pid, planned["id"], body).json

    assert record["vitals"][0]["raised"] is True


# ---------------------------------------------------------------- thresholds as clinic settings

INVALID_THRESHOLDS = {
    "systolic too low": ({"systolic": 49, "diastolic": 30}, "systolic"),
    "systolic too high": ({"systolic": 261, "diastolic": 90}, "systolic"),
    "diastolic too high": ({"systolic": 200, "diastolic": 161}, "diastolic"),
    "systolic not above diastolic": ({"systolic": 90, "diastolic": 90}, "systolic"),
    "a float": ({"systolic": 140.5, "diastolic": 90}, "systolic"),
    "a boolean": ({"systolic": 140, "diastolic": True}, "diastolic"),
    "a string": ({"systolic": "140", "diastolic": 90}, "systolic"),
    "an unknown field": ({"systolic": 140, "diastolic": 90, "mean": 100}, "mean"),
}


@pytest.mark.parametrize(
    ("pressure", "field"), list(INVALID_THRESHOLDS.values()), ids=list(INVALID_THRESHOLDS)
)
def test_an_invalid_threshold_is_refused_naming_the_field(world, pressure, field):
    admin = world.as_admin_x()
    body = {
        "blood_pressure_thresholds": {
            "before_dosing": {"systolic": 140, "diastolic": 90},
            "any_time": pressure,
        }
    }

    response = admin.patch("/api/v1/clinic", json=body)

    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]["blood_pressure_thresholds"]["any_time"]
    defaults = admin.get("/api/v1/clinic").json["blood_pressure_thresholds"]
    assert defaults["any_time"] == {"systolic": 180, "diastolic": 110}


def test_both_thresholds_are_needed(world):
    body = {"blood_pressure_thresholds": {"before_dosing": {"systolic": 140, "diastolic": 90}}}

    response = world.as_admin_x().patch("/api/v1/clinic", json=body)

    assert response.status_code == 422
    assert "any_time" in response.json["errors"]["json"]["blood_pressure_thresholds"]


def test_only_an_admin_sets_the_thresholds_and_patients_do_not_see_them(world):
    body = {
        "blood_pressure_thresholds": {
            "before_dosing": {"systolic": 130, "diastolic": 85},
            "any_time": {"systolic": 160, "diastolic": 100},
        }
    }

    assert world.as_clinician_x().patch("/api/v1/clinic", json=body).status_code == 403
    assert "blood_pressure_thresholds" not in world.as_patient_a().get("/api/v1/clinic").json


# ---------------------------------------------------------------- who may write and read


def test_a_patient_may_not_write_their_record(app, world, pid, session, started):
    patient = world.as_patient_a()

    for target in ("me", pid):
        response = put(patient, target, session["id"], record_body(started))
        assert response.status_code == 403, response.json

    assert stored_records(app) == (0, 0)


def test_the_patient_reads_their_own_record(world, clinician, pid, session, started):
    saved = put(clinician, pid, session["id"], record_body(started)).json

    response = world.as_patient_a().get(monitoring_path("me", session["id"]))

    assert response.status_code == 200
    assert response.json == saved


def test_another_patient_cannot_read_the_record(world, clinician, pid, session, started):
    put(clinician, pid, session["id"], record_body(started))
    other = world.as_patient_b()

    assert other.get(monitoring_path(pid, session["id"])).status_code == 404
    assert other.get(monitoring_path("me", session["id"])).status_code == 404


def test_a_clinician_of_another_clinic_gets_404_for_reading_and_writing(
    app, world, clinician, pid, session, started
):
    put(clinician, pid, session["id"], record_body(started))
    outsider = world.as_clinician_y()
    changed = record_body(started, notes="overwritten")

    assert outsider.get(monitoring_path(pid, session["id"])).status_code == 404
    assert put(outsider, pid, session["id"], changed).status_code == 404
    assert clinician.get(monitoring_path(pid, session["id"])).json["notes"] != "overwritten"


def test_a_session_of_another_patient_is_not_found(world, clinician, started):
    bobs = add_session(clinician, world.patient_b.id, started)

    response = put(clinician, world.patient_a.id, bobs["id"], record_body(started))

    assert response.status_code == 404
    assert clinician.get(monitoring_path(world.patient_a.id, bobs["id"])).status_code == 404


def test_an_unknown_session_is_not_found(clinician, pid, started):
    response = put(clinician, pid, "00000000-0000-4000-8000-000000000000", record_body(started))

    assert response.status_code == 404


def test_a_cancelled_session_takes_no_record(app, clinician, pid, started):
    session = add_session(clinician, pid, started)
    clinician.patch(f"{sessions_path(pid)}/{session['id']}", json={"status": "cancelled"})

    response = put(clinician, pid, session["id"], record_body(started))

    assert response.status_code == 409
    assert "cancelled" in response.json["message"]
    assert stored_records(app) == (0, 0)


def test_anonymous_requests_are_refused(app, world, pid, session, started):
    from tests.conftest import Browser

    anonymous = Browser(app)
    assert anonymous.get(monitoring_path(pid, session["id"])).status_code == 401
    assert put(anonymous, pid, session["id"], record_body(started)).status_code == 401


# ---------------------------------------------------------------- ranges and strict types


def _vital(index: int, **changes):
    def change(body):
        body["vitals"][index].update(changes)

    return change


def _drop(name: str):
    def change(body):
        body.pop(name)

    return change


def _set(name: str, value):
    def change(body):
        body[name] = value

    return change


INVALID_RECORDS = {
    "systolic below 50": (_vital(0, systolic=49, diastolic=30), ("vitals", "0", "systolic")),
    "systolic above 260": (_vital(1, systolic=261), ("vitals", "1", "systolic")),
    "diastolic below 20": (_vital(0, diastolic=19), ("vitals", "0", "diastolic")),
    "diastolic above 160": (_vital(0, systolic=200, diastolic=161), ("vitals", "0", "diastolic")),
    "systolic not above diastolic": (
        _vital(2, systolic=90, diastolic=90),
        ("vitals", "2", "systolic"),
    ),
    "heart rate below 20": (_vital(0, heart_rate=19), ("vitals", "0", "heart_rate")),
    "heart rate above 250": (_vital(0, heart_rate=251), ("vitals", "0", "heart_rate")),
    "SpO2 below 50": (_vital(0, spo2=49), ("vitals", "0", "spo2")),
    "SpO2 above 100": (_vital(0, spo2=101), ("vitals", "0", "spo2")),
    "a float systolic": (_vital(0, systolic=128.0), ("vitals", "0", "systolic")),
    "a boolean heart rate": (_vital(0, heart_rate=True), ("vitals", "0", "heart_rate")),
    "a string SpO2": (_vital(0, spo2="98"), ("vitals", "0", "spo2")),
    "a reading time without offset": (
        _vital(0, at="2026-03-10T09:30:00"),
        ("vitals", "0", "at"),
    ),
    "a reading days after the session": (
        _vital(1, at="2020-01-01T10:00:00+00:00"),
        ("vitals", "1", "at"),
    ),
    "a reading in the future": (
        lambda body: body["vitals"][1].update(at=(datetime.now(UTC) + 30 * MINUTE).isoformat()),
        ("vitals", "1", "at"),
    ),
    "an unknown field in a reading": (_vital(0, temperature=37), ("vitals", "0", "temperature")),
    "a reading without systolic": (
        lambda body: body["vitals"][0].pop("systolic"),
        ("vitals", "0", "systolic"),
    ),
    "vitals missing": (_drop("vitals"), ("vitals",)),
    "vitals not a list": (_set("vitals", {"at": "x"}), ("vitals",)),
    "an unknown sedation level": (_set("sedation", "deep"), ("sedation",)),
    "dissociation missing": (_drop("dissociation"), ("dissociation",)),
    "respiratory depression as 0": (_set("respiratory_depression", 0), ("respiratory_depression",)),
    "respiratory depression as a string": (
        _set("respiratory_depression", "false"),
        ("respiratory_depression",),
    ),
    "an unknown adverse event": (_set("adverse_events", ["hiccups"]), ("adverse_events", "0")),
    "an adverse event twice": (_set("adverse_events", ["nausea", "nausea"]), ("adverse_events",)),
    "adverse events as text": (_set("adverse_events", "nausea"), ("adverse_events",)),
    "negative monitoring minutes": (_set("monitoring_minutes", -1), ("monitoring_minutes",)),
    "monitoring minutes over a day": (_set("monitoring_minutes", 1441), ("monitoring_minutes",)),
    "monitoring minutes as a float": (_set("monitoring_minutes", 120.5), ("monitoring_minutes",)),
    "ready to leave as a boolean": (
        _set("ready_to_leave_minutes", True),
        ("ready_to_leave_minutes",),
    ),
    "discharge before the session": (
        lambda body: body.update(discharged_at=body["vitals"][0]["at"]),
        ("discharged_at",),
    ),
    "discharge without offset": (_set("discharged_at", "2026-03-10T12:00:00"), ("discharged_at",)),
    "notes over 2000 characters": (_set("notes", "x" * 2001), ("notes",)),
    "notes as a number": (_set("notes", 5), ("notes",)),
    "an unknown field": (_set("heart_rhythm", "sinus"), ("heart_rhythm",)),
}


@pytest.mark.parametrize(
    ("change", "path"), list(INVALID_RECORDS.values()), ids=list(INVALID_RECORDS)
)
def test_an_invalid_record_is_refused_naming_the_field_and_nothing_is_stored(
    app, clinician, pid, session, started, change, path
):
    body = record_body(started)
    change(body)

    response = put(clinician, pid, session["id"], body)

    assert response.status_code == 422, response.json
    node = response.json["errors"]["json"]
    for step in path:
        assert step in node, (path, response.json)
        node = node[step]
    assert stored_records(app) == (0, 0)


def test_a_refused_save_leaves_the_earlier_record_as_it_was(clinician, pid, session, started):
    saved = put(clinician, pid, session["id"], record_body(started)).json
    body = record_body(started)
    body["vitals"][0]["spo2"] = 101

    assert put(clinician, pid, session["id"], body).status_code == 422

    assert clinician.get(monitoring_path(pid, session["id"])).json == saved


@pytest.mark.parametrize(
    ("name", "value"),
    [("systolic", 50), ("systolic", 260), ("diastolic", 20), ("heart_rate", 20)]
    + [("heart_rate", 250), ("spo2", 50), ("spo2", 100)],
)
def test_the_edges_of_every_range_are_accepted(clinician, pid, session, started, name, value):
    reading = {"at": (started + 30 * MINUTE).isoformat(), "systolic": 120, "diastolic": 70}
    reading[name] = value
    if name == "systolic" and value == 50:
        reading["diastolic"] = 20
    if name == "diastolic":
        reading["systolic"] = 120

    response = put(clinician, pid, session["id"], record_body(started, vitals=[reading]))

    assert response.status_code == 200, response.json
    assert response.json["vitals"][0][name] == value


def test_a_nul_character_in_the_notes_is_refused(app, clinician, pid, session, started):
    response = put(clinician, pid, session["id"], record_body(started, notes="bad \x00 note"))

    assert response.status_code == 422
    assert "notes" in response.json["errors"]["json"]
    assert stored_records(app) == (0, 0)


def test_a_body_over_the_size_limit_is_refused(app, clinician, pid, session, started):
    response = put(clinician, pid, session["id"], record_body(started, notes="x" * 70_000))

    assert response.status_code == 413
    assert stored_records(app) == (0, 0)


def test_saving_the_same_record_twice_keeps_one_record(app, clinician, pid, session, started):
    body = record_body(started)
    first = put(clinician, pid, session["id"], copy.deepcopy(body))
    second = put(clinician, pid, session["id"], body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert stored_records(app) == (1, 3)
