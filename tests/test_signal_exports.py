"""Exports and imports carry safety signals: a flag opened by a signal whose check-in never
arrived travels with its signal, and comes back as it was."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from server.data.extensions import db
from server.data.models import Flag, SafetySignal
from server.services import safety
from tests.conftest import Browser, database, entry_body, make_clinic, make_clinician

EXPORT = "/api/v1/export"
IMPORT = "/api/v1/import"
ITEM_9_AT_2 = [1, 1, 1, 1, 1, 1, 1, 1, 2]


def signal_body(**overrides) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "checkin_id": str(uuid.uuid4()),
        "instrument": "phq9",
        "item": "phq9_9",
        "answer": 2,
        "answered_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
    }
    body.update(overrides)
    return body


def export_patient(browser, pid: str, kind: str = "json"):
    response = browser.get(f"/api/v1/patients/{pid}/export?format={kind}")
    assert response.status_code == 200, response.data[:500]
    return response.get_data(as_text=True)


def export_clinic(browser) -> dict:
    response = browser.get(EXPORT)
    assert response.status_code == 200, response.data[:500]
    return json.loads(response.get_data(as_text=True))


def counts(app) -> tuple[int, int]:
    with database(app) as session:
        return (
            session.scalar(select(func.count()).select_from(Flag)),
            session.scalar(select(func.count()).select_from(SafetySignal)),
        )


@pytest.fixture
def flags_of_every_kind(world) -> dict:
    """Patient A: a signal whose check-in never arrived, a signal joined by its entry, and a
    flagged entry with no signal; patient B: nothing."""
    patient = world.as_patient_a()
    abandoned = signal_body()
    joined = signal_body(answer=3)
    for body in (abandoned, joined):
        assert patient.post("/api/v1/patients/me/safety-signals", json=body).status_code == 201
    finished = entry_body(id=joined["checkin_id"], answers=ITEM_9_AT_2)
    plain = entry_body(answers=ITEM_9_AT_2)
    for body in (finished, plain):
        assert patient.post("/api/v1/patients/me/entries", json=body).status_code == 201
    return {"abandoned": abandoned, "joined": joined, "plain": plain}


def flags_by_check_in(document: dict) -> dict:
    [block] = [b for b in document["patients"] if b["flags"]]
    return {flag["checkin_id"]: flag for flag in block["flags"]}


# ---------------------------------------------------------------- export


def test_the_json_export_carries_each_flags_check_in_entry_and_signal(
    app, world, flags_of_every_kind
):
    document = json.loads(export_patient(world.as_patient_a(), world.patient_a.id))
    flags = flags_by_check_in(document)
    abandoned = flags_of_every_kind["abandoned"]
    joined = flags_of_every_kind["joined"]
    plain = flags_of_every_kind["plain"]

    assert set(flags) == {abandoned["checkin_id"], joined["checkin_id"], plain["id"]}
    waiting = flags[abandoned["checkin_id"]]
    assert waiting["entry_id"] is None
    assert waiting["signal"]["id"] == abandoned["id"]
    assert waiting["signal"]["answer"] == 2
    assert set(waiting["signal"]) == {
        "id",
        "checkin_id",
        "instrument",
        "item",
        "answer",
        "answered_at",
        "received_at",
    }
    assert flags[joined["checkin_id"]]["entry_id"] == joined["checkin_id"]
    assert flags[joined["checkin_id"]]["signal"]["id"] == joined["id"]
    assert (flags[plain["id"]]["entry_id"], flags[plain["id"]]["signal"]) == (plain["id"], None)


def test_the_fhir_export_leaves_out_a_check_in_that_never_arrived(app, world, flags_of_every_kind):
    text = export_patient(world.as_clinician_x(), world.patient_a.id, "fhir")

    bundle = Bundle.model_validate_json(text)
    responses = [
        entry.resource.id
        for entry in bundle.entry
        if entry.resource.__resource_type__ == "QuestionnaireResponse"
    ]
    assert len(responses) == 2
    assert flags_of_every_kind["abandoned"]["checkin_id"] not in text


def test_the_csv_export_has_one_row_per_entry_whatever_the_signals(app, world, flags_of_every_kind):
    text = export_patient(world.as_clinician_x(), world.patient_a.id, "csv")

    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert {row["flags"] for row in rows} == {"self_harm"}


# ---------------------------------------------------------------- import


def empty_every_table(app) -> None:
    with database(app) as session:
        for table in reversed(db.metadata.sorted_tables):
            session.execute(table.delete())
        session.commit()


def new_admin_of_clinic_x(app) -> Browser:
    with database(app):
        email = make_clinician(make_clinic("Clinic X"), "restorer@example.org", admin=True).email
    browser = Browser(app)
    assert browser.login(email).status_code == 200
    return browser


def without_volatile(document: dict) -> dict:
    """The document without its export time and the flags' ages, which move with the clock."""
    document = copy.deepcopy(document)
    document.pop("exported_at")
    return document


def test_a_round_trip_keeps_the_signal_only_flag_and_its_signal(app, world, flags_of_every_kind):
    exported = export_clinic(world.as_clinician_x())
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)

    response = admin.post(IMPORT, json=exported)

    assert response.status_code == 200, response.json
    assert response.json["flags"] == 3
    assert counts(app) == (3, 2)
    again = export_clinic(admin)
    assert without_volatile(again) == without_volatile(exported)
    abandoned = flags_of_every_kind["abandoned"]
    [waiting] = [
        flag
        for flag in admin.get("/api/v1/flags?status=open").json["items"]
        if flag["signal"] and flag["signal"]["id"] == abandoned["id"]
    ]
    assert waiting["entry"] is None
    assert waiting["raised_by"]["answer_label"] == "More than half the days"


def test_importing_the_same_document_twice_changes_nothing(app, world, flags_of_every_kind):
    exported = export_clinic(world.as_clinician_x())
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)
    assert admin.post(IMPORT, json=exported).status_code == 200

    response = admin.post(IMPORT, json=exported)

    assert response.status_code == 200
    assert response.json == {
        "patients": 0,
        "entries": 0,
        "sessions": 0,
        "flags": 0,
        "reports": 0,
    }
    assert counts(app) == (3, 2)


def test_an_imported_signal_is_stored_as_its_replay_would_be(app, world, flags_of_every_kind):
    """The patient's outbox may still hold the signal: after a restore it must be a replay."""
    exported = export_clinic(world.as_clinician_x())
    empty_every_table(app)
    assert new_admin_of_clinic_x(app).post(IMPORT, json=exported).status_code == 200
    sent = flags_of_every_kind["abandoned"]
    as_parsed = {**sent, "answered_at": datetime.fromisoformat(sent["answered_at"])}

    with database(app) as session:
        stored = session.get(SafetySignal, sent["id"])
        assert stored.request_hash == safety.request_hash(
            SimpleNamespace(id=stored.patient_id), as_parsed
        )


def test_an_entry_in_the_document_joins_the_flag_of_its_check_in(app, world):
    """A document whose signal-only flag has its entry beside it: the entry joins on import."""
    patient = world.as_patient_a()
    signal = signal_body()
    assert patient.post("/api/v1/patients/me/safety-signals", json=signal).status_code == 201
    entry = entry_body(id=signal["checkin_id"], answers=ITEM_9_AT_2)
    assert patient.post("/api/v1/patients/me/entries", json=entry).status_code == 201
    exported = export_clinic(world.as_clinician_x())
    [flag] = flags_by_check_in(exported).values()
    flag["entry_id"] = None  # as if written before the entry arrived
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)

    response = admin.post(IMPORT, json=exported)

    assert response.status_code == 200, response.json
    [restored] = admin.get("/api/v1/flags").json["items"]
    assert restored["entry"]["id"] == signal["checkin_id"]


def test_a_document_from_before_signals_still_imports(app, world):
    """Exports written before issue 9 have no checkin_id and no signal on their flags."""
    patient = world.as_patient_a()
    assert (
        patient.post(
            "/api/v1/patients/me/entries", json=entry_body(answers=ITEM_9_AT_2)
        ).status_code
        == 201
    )
    exported = export_clinic(world.as_clinician_x())
    [flag] = flags_by_check_in(exported).values()
    del flag["checkin_id"], flag["signal"]
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)

    response = admin.post(IMPORT, json=exported)

    assert response.status_code == 200, response.json
    assert response.json["flags"] == 1
    [restored] = admin.get("/api/v1/flags").json["items"]
    assert restored["entry"]["id"] == flag["entry_id"]


def _abandoned_flag(document: dict, checkin_id: str) -> dict:
    return flags_by_check_in(document)[checkin_id]


BROKEN = {
    "no check-in": lambda flag: flag.update(checkin_id=None),
    "no signal and no entry": lambda flag: flag.update(signal=None),
    "signal of another check-in": lambda flag: flag["signal"].update(checkin_id=str(uuid.uuid4())),
    "answer below the threshold": lambda flag: flag["signal"].update(answer=0),
    "not a safety item": lambda flag: flag["signal"].update(item="phq9_1"),
    "unknown signal field": lambda flag: flag["signal"].update(mood=1),
    "entry not in the document": lambda flag: flag.update(entry_id=str(uuid.uuid4())),
}


@pytest.mark.parametrize("breakage", BROKEN, ids=list(BROKEN))
def test_a_broken_signal_only_flag_refuses_the_whole_document(
    app, world, flags_of_every_kind, breakage
):
    exported = export_clinic(world.as_clinician_x())
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)
    BROKEN[breakage](_abandoned_flag(exported, flags_of_every_kind["abandoned"]["checkin_id"]))

    response = admin.post(IMPORT, json=exported)

    assert response.status_code == 422, response.json
    assert counts(app) == (0, 0)


def test_two_flags_for_one_check_in_refuse_the_document(app, world, flags_of_every_kind):
    exported = export_clinic(world.as_clinician_x())
    [block] = [b for b in exported["patients"] if b["flags"]]
    twin = copy.deepcopy(_abandoned_flag(exported, flags_of_every_kind["abandoned"]["checkin_id"]))
    twin["id"] = str(uuid.uuid4())
    twin["signal"]["id"] = str(uuid.uuid4())
    block["flags"].append(twin)
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)

    response = admin.post(IMPORT, json=exported)

    assert response.status_code == 422
    assert "flag of check-in" in json.dumps(response.json)


def test_a_signal_id_of_another_patient_refuses_the_document(app, world, flags_of_every_kind):
    """Imported into clinic X again, with the signal moved to patient B's block."""
    exported = export_clinic(world.as_clinician_x())
    blocks = {b["patient"]["id"]: b for b in exported["patients"]}
    signal_id = flags_of_every_kind["abandoned"]["id"]
    flag = copy.deepcopy(_abandoned_flag(exported, flags_of_every_kind["abandoned"]["checkin_id"]))
    flag["id"] = str(uuid.uuid4())
    flag["checkin_id"] = flag["signal"]["checkin_id"] = str(uuid.uuid4())
    blocks[world.patient_b.id]["flags"].append(flag)
    before = counts(app)

    response = world.as_admin_x().post(IMPORT, json=exported)

    assert response.status_code == 422
    assert signal_id in json.dumps(response.json)
    assert counts(app) == before
