"""The `tidemark.export` document (API.md, Export): everything needed to read it, in one file.

Every download is audited and committed before its first byte leaves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..api.schemas import (
    EntryOut,
    InstrumentOut,
    MonitoringOut,
    SessionOut,
    SignalOut,
    UTCTime,
)
from ..data.extensions import db
from ..data.models import (
    BaselineChoice,
    Clinic,
    Entry,
    Flag,
    Patient,
    SessionMonitoring,
    TreatmentSession,
    User,
)
from ..domain import fhir
from ..domain.instruments import INSTRUMENTS
from ..domain.schedule import effective
from ..domain.vocabularies import SIDE_EFFECTS
from . import audit, monitoring

FORMAT = "tidemark.export"
VERSION = 1


class ExportFlag(Schema):
    """A flag as exported: its check-in, its entry once it arrived, the signal that opened it."""

    id = fields.String(required=True)
    checkin_id = fields.String(required=True)
    entry_id = fields.String(allow_none=True, required=True)
    signal = fields.Nested(SignalOut, allow_none=True, required=True)
    kind = fields.String(required=True)
    opened_at = UTCTime(required=True)
    status = fields.String(required=True)
    resolved_by_id = fields.String(allow_none=True, required=True)
    resolved_at = UTCTime(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)


class ExportBaseline(Schema):
    instrument = fields.String(required=True)
    entry_id = fields.String(required=True)
    set_at = UTCTime(required=True)


class ExportPatient(Schema):
    """A patient as exported: clinical identity only (accounts and passwords never travel)."""

    id = fields.String(required=True)
    display_name = fields.String(required=True)
    external_id = fields.String(allow_none=True, required=True)
    timezone = fields.String(required=True)
    created_at = UTCTime(required=True)


_patient = ExportPatient()
_session = SessionOut()
_monitoring = MonitoringOut()
_entry = EntryOut(many=True)
_flag = ExportFlag(many=True)
_baseline = ExportBaseline(many=True)
_instrument = InstrumentOut(many=True)


def header(clinic: Clinic) -> dict:
    """What the document says before its patients: format, version, time, instruments."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clinic": {"name": clinic.name},
        "instruments": _instrument.dump(list(INSTRUMENTS.values())),
    }


def patient_block(patient: Patient) -> dict:
    """One patient with every session, entry (voided ones marked), flag and baseline choice."""
    sessions = db.session.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.patient_id == patient.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
        .options(selectinload(TreatmentSession.monitoring).selectinload(SessionMonitoring.vitals))
    ).all()
    clinic = db.session.get(Clinic, patient.clinic_id)
    entries = db.session.scalars(
        select(Entry).where(Entry.patient_id == patient.id).order_by(Entry.taken_at, Entry.id)
    ).all()
    flags = db.session.scalars(
        select(Flag)
        .where(Flag.patient_id == patient.id)
        .order_by(Flag.opened_at, Flag.id)
        .options(selectinload(Flag.signals))
    ).all()
    baselines = db.session.scalars(
        select(BaselineChoice)
        .where(BaselineChoice.patient_id == patient.id)
        .order_by(BaselineChoice.instrument)
    ).all()
    return {
        "patient": _patient.dump(patient),
        "schedule": effective(patient.schedule),
        "baselines": _baseline.dump(baselines),
        "sessions": [_session_json(session, clinic) for session in sessions],
        "entries": _entry.dump(entries),
        "flags": _flag.dump(flags),
    }


def _session_json(session: TreatmentSession, clinic: Clinic) -> dict:
    record = monitoring.of_session(session, clinic)
    return {
        **_session.dump(session),
        "monitoring": None if record is None else _monitoring.dump(record),
    }


def patient_document(patient: Patient) -> dict:
    """The document with one patient in it."""
    clinic = db.session.get(Clinic, patient.clinic_id)
    return {**header(clinic), "patients": [patient_block(patient)]}


def patient_export(patient: Patient, kind: str) -> str:
    """One patient's download as text: the JSON document, a FHIR Bundle (fhir) or CSV (csv)."""
    document = patient_document(patient)
    audit.record("export.patient", patient=patient, detail={"format": kind})
    db.session.commit()
    block = document["patients"][0]
    if kind == "fhir":
        return json.dumps(fhir.bundle(block), ensure_ascii=False, indent=1)
    if kind == "csv":
        return csv_text(block)
    return json.dumps(document, ensure_ascii=False, indent=1)


def clinic_export(clinician: User) -> Iterator[str]:
    """The clinician's whole clinic as JSON text chunks, audited with the patients it holds."""
    clinic = db.session.get(Clinic, clinician.clinic_id)
    patient_ids = db.session.scalars(
        select(Patient.id).where(Patient.clinic_id == clinic.id).order_by(Patient.id)
    ).all()
    audit.record("export.clinic", detail={"format": "json", "patient_ids": patient_ids})
    db.session.commit()
    return clinic_document_chunks(clinic)


def clinic_document_chunks(clinic: Clinic) -> Iterator[str]:
    """The whole clinic's document as JSON text, one patient at a time: memory stays flat."""
    head = json.dumps(header(clinic), ensure_ascii=False)
    yield head[:-1] + ', "patients": ['
    patient_ids = db.session.scalars(
        select(Patient.id)
        .where(Patient.clinic_id == clinic.id)
        .order_by(Patient.created_at, Patient.id)
    ).all()
    for number, patient_id in enumerate(patient_ids):
        block = patient_block(db.session.get(Patient, patient_id))
        yield ("," if number else "") + json.dumps(block, ensure_ascii=False)
        db.session.expunge_all()  # forget this patient's rows before the next
    yield "]}"


# ---------------------------------------------------------------- CSV

# `record` says what a row is: an entry (one per entry, as before reports and monitoring
# records came), a patient's after-session report (`session_report`), a session's monitoring
# record (`monitoring`: its `note` is the record's notes), or one set of its vital signs
# (`vitals`, at `taken_at`). Columns that do not apply to a row's record are empty.
CSV_FIELDS = [
    "record",  # entry, session_report, monitoring or vitals
    "entry_id",
    "patient_id",
    "patient_name",
    "external_id",
    "instrument",
    "taken_at",
    "context",
    "session_id",
    "total",
    "severity",
    "flags",
    "prorated",
    "voided",
    "void_reason",
    "note",
    "entered_by_role",
    "received_at",
]
MONITORING_COLUMNS = [
    "session_status",
    "systolic",
    "diastolic",
    "heart_rate",
    "spo2",
    "raised",
    "sedation",
    "dissociation",
    "respiratory_depression",
    "adverse_events",
    "monitoring_minutes",
    "ready_to_leave_minutes",
    "discharged_at",
    "recorded_by",
]
ITEM_COLUMNS = [item.id for instrument in INSTRUMENTS.values() for item in instrument.items] + [
    f"{instrument.id}_difficulty" for instrument in INSTRUMENTS.values() if instrument.difficulty
]
REPORT_COLUMNS = ["report_id"] + [f"side_effect_{name}" for name in SIDE_EFFECTS]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(block: dict) -> str:
    """One row per entry, one column per item; then one row per after-session report (its
    side effects in their own columns), and each session's monitoring record and its vital
    signs as rows of their own; RFC 4180 quoting, UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_FIELDS + ITEM_COLUMNS + REPORT_COLUMNS + MONITORING_COLUMNS)
    patient = block["patient"]
    no_report = [""] * len(REPORT_COLUMNS)
    blank_monitoring = [""] * len(MONITORING_COLUMNS)
    for entry in block["entries"]:
        instrument = INSTRUMENTS[entry["instrument"]]
        items = dict.fromkeys(ITEM_COLUMNS, "")
        for item, answer in zip(instrument.items, entry["answers"], strict=True):
            items[item.id] = "" if answer is None else answer
        if instrument.difficulty and entry.get("difficulty") is not None:
            items[f"{instrument.id}_difficulty"] = entry["difficulty"]
        row = {
            "record": "entry",
            "entry_id": entry["id"],
            "patient_id": patient["id"],
            "patient_name": patient["display_name"],
            "external_id": patient["external_id"] or "",
            "instrument": entry["instrument"],
            "taken_at": entry["taken_at"],
            "context": entry["context"],
            "session_id": entry["session_id"] or "",
            "total": entry["total"],
            "severity": entry["severity"] or "",
            "flags": " ".join(entry["flags"]),
            "prorated": "yes" if entry["prorated"] else "no",
            "voided": "yes" if entry["voided"] else "no",
            "void_reason": entry["void_reason"] or "",
            "note": entry["note"] or "",
            "entered_by_role": entry["entered_by"]["role"],
            "received_at": entry["received_at"],
        }
        writer.writerow(
            [neutralise(row[name]) for name in CSV_FIELDS]
            + list(items.values())
            + no_report
            + blank_monitoring
        )
    blank_items = [""] * len(ITEM_COLUMNS)
    for session in block["sessions"]:
        for report in session["reports"]:
            row = dict.fromkeys(CSV_FIELDS, "") | {
                "record": "session_report",
                "patient_id": patient["id"],
                "patient_name": patient["display_name"],
                "external_id": patient["external_id"] or "",
                "taken_at": report["taken_at"],
                "session_id": session["id"],
                "voided": "no",
                "note": report["note"] or "",
                "entered_by_role": "patient",
                "received_at": report["received_at"],
            }
            effects = [report["side_effects"][name] for name in SIDE_EFFECTS]
            writer.writerow(
                [neutralise(row[name]) for name in CSV_FIELDS]
                + blank_items
                + [report["id"], *effects]
                + blank_monitoring
            )
    for row in _monitoring_rows(block):
        writer.writerow(
            [neutralise(row.get(name, "")) for name in CSV_FIELDS]
            + blank_items
            + no_report
            + [neutralise(row.get(name, "")) for name in MONITORING_COLUMNS]
        )
    return "\ufeff" + out.getvalue()


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _blank(value):
    return "" if value is None else value


def _monitoring_rows(block: dict) -> Iterator[dict]:
    """Per session with a record: one `monitoring` row, then one `vitals` row per reading."""
    patient = block["patient"]
    who = {
        "patient_id": patient["id"],
        "patient_name": patient["display_name"],
        "external_id": patient["external_id"] or "",
    }
    for session in block["sessions"]:
        record = session.get("monitoring")
        if record is None:
            continue
        about = {**who, "session_id": session["id"], "session_status": session["status"]}
        yield {
            **about,
            "record": "monitoring",
            "taken_at": session["started_at"],
            "note": _blank(record["notes"]),
            "sedation": record["sedation"],
            "dissociation": record["dissociation"],
            "respiratory_depression": _yes_no(record["respiratory_depression"]),
            "adverse_events": " ".join(record["adverse_events"]),
            "monitoring_minutes": _blank(record["monitoring_minutes"]),
            "ready_to_leave_minutes": _blank(record["ready_to_leave_minutes"]),
            "discharged_at": _blank(record["discharged_at"]),
            "recorded_by": record["recorded_by"]["display_name"],
        }
        for reading in record["vitals"]:
            yield {
                **about,
                "record": "vitals",
                "taken_at": reading["at"],
                "systolic": reading["systolic"],
                "diastolic": reading["diastolic"],
                "heart_rate": _blank(reading["heart_rate"]),
                "spo2": _blank(reading["spo2"]),
                "raised": _yes_no(reading["raised"]),
            }
