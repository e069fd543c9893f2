"""The `tidemark.export` document (API.md, Export): everything needed to read it, in one file.

Every download is audited and committed before its first byte leaves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from json.encoder import encode_basestring as _escape
from operator import attrgetter, itemgetter

from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..api.schemas import (
    InstrumentOut,
    MonitoringOut,
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
    SessionReport,
    TreatmentSession,
    User,
    utcnow,
)
from ..data.text import json_text, utc_text
from ..domain import fhir, treatment
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
_monitoring = MonitoringOut()
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
    clinic = db.session.get(Clinic, patient.clinic_id)
    return next(patient_blocks(clinic, [patient.id]))


# Patients read together: a few queries per batch, and only one batch's rows in memory
# (25: as fast as 50, half the memory; 10 costs a quarter more time).
BATCH = 25

# What entry_json() reads of an entry: columns only, no ORM object per entry.
ENTRY_COLUMNS = (
    Entry.id,
    Entry.patient_id,
    Entry.instrument,
    Entry.answers,
    Entry.difficulty,
    Entry.taken_at,
    Entry.context,
    Entry.session_id,
    Entry.note,
    Entry.total,
    Entry.severity,
    Entry.flags,
    Entry.imputed_items,
    Entry.received_at,
    Entry.entered_by_id,
    Entry.entered_by_role,
    Entry.voided,
    Entry.void_reason,
    Entry.voided_at,
)


def patient_blocks(
    clinic: Clinic, patient_ids: list[str], with_entries: bool = True
) -> Iterator[dict]:
    """patient_block() of each of these patients of `clinic`, in the order given (without
    "entries" when `with_entries` is false: the clinic export writes them as text)."""
    patients = {
        patient.id: patient
        for patient in db.session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))
    }
    sessions = session_jsons(clinic, patient_ids)
    flags = _by_patient(
        db.session.scalars(
            select(Flag)
            .where(Flag.patient_id.in_(patient_ids))
            .order_by(Flag.opened_at, Flag.id)
            .options(selectinload(Flag.signals))
        )
    )
    baselines = _by_patient(
        db.session.scalars(
            select(BaselineChoice)
            .where(BaselineChoice.patient_id.in_(patient_ids))
            .order_by(BaselineChoice.instrument)
        )
    )
    entries = {}
    if with_entries:
        rows = db.session.execute(
            select(*ENTRY_COLUMNS)
            .where(Entry.patient_id.in_(patient_ids))
            .order_by(Entry.patient_id, Entry.taken_at, Entry.id)
        )
        entries = _by_patient(map(entry_json, rows), itemgetter("patient_id"))
    for patient_id in patient_ids:
        patient = patients[patient_id]
        yield {
            "patient": _patient.dump(patient),
            "schedule": effective(patient.schedule),
            "baselines": _baseline.dump(baselines.get(patient_id, [])),
            "sessions": sessions.get(patient_id, []),
            "flags": _flag.dump(flags.get(patient_id, [])),
        } | ({"entries": entries.get(patient_id, [])} if with_entries else {})


def _by_patient(rows, patient_of=attrgetter("patient_id")) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(patient_of(row), []).append(row)
    return grouped


def entry_json(row) -> dict:
    """An entry as EntryOut dumps it, built straight from its columns (ENTRY_COLUMNS).

    Written out because the export dumps every entry of a clinic: the schema's dump costs
    many times more per entry. tests/test_exports.py checks the two agree on every field."""
    return {
        "id": row.id,
        "patient_id": row.patient_id,
        "instrument": row.instrument,
        "answers": row.answers,
        "difficulty": row.difficulty,
        "taken_at": _utc(row.taken_at),
        "context": row.context,
        "session_id": row.session_id,
        "note": row.note,
        "total": int(row.total) if row.total.is_integer() else row.total,
        "severity": row.severity,
        "flags": row.flags,
        "prorated": bool(row.imputed_items),
        "imputed_items": row.imputed_items,
        "received_at": _utc(row.received_at),
        "entered_by": {"id": row.entered_by_id, "role": row.entered_by_role},
        "voided": row.voided,
        "void_reason": row.void_reason,
        "voided_at": _utc_or_none(row.voided_at),
    }


def _utc(value: datetime) -> str:
    """UTCTime's form: UTC, to the second, with a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The clinic export's entries, as text: timestamps formatted and JSON left encoded by the
# database, so that no Python object is made per value.
ENTRY_TEXT_COLUMNS = (
    Entry.id,
    Entry.patient_id,
    Entry.instrument,
    json_text(Entry.answers).label("answers"),
    Entry.difficulty,
    utc_text(Entry.taken_at).label("taken_at"),
    Entry.context,
    Entry.session_id,
    Entry.note,
    Entry.total,
    Entry.severity,
    json_text(Entry.flags).label("flags"),
    json_text(Entry.imputed_items).label("imputed_items"),
    utc_text(Entry.received_at).label("received_at"),
    Entry.entered_by_id,
    Entry.entered_by_role,
    Entry.voided,
    Entry.void_reason,
    utc_text(Entry.voided_at).label("voided_at"),
)


def entry_text(row: tuple) -> str:
    """entry_json() as JSON text, from a row of ENTRY_TEXT_COLUMNS.

    The three JSON values go in as stored (valid JSON, written by the database layer) and
    the timestamps as the database formatted them; strings are escaped by json's own
    encoder, numbers written as json writes them."""
    (
        entry_id,
        patient_id,
        instrument,
        answers,
        difficulty,
        taken_at,
        context,
        session_id,
        note,
        total,
        severity,
        flags,
        imputed_items,
        received_at,
        entered_by_id,
        entered_by_role,
        voided,
        void_reason,
        voided_at,
    ) = row
    return (
        f'{{"id": {_text(entry_id)}, "patient_id": {_text(patient_id)}, '
        f'"instrument": {_text(instrument)}, "answers": {answers}, '
        f'"difficulty": {"null" if difficulty is None else int(difficulty)}, '
        f'"taken_at": "{taken_at}", "context": {_text(context)}, '
        f'"session_id": {_text(session_id)}, "note": {_text(note)}, '
        f'"total": {int(total) if total.is_integer() else repr(total)}, '
        f'"severity": {_text(severity)}, "flags": {flags}, '
        # stored by json.dumps, so no imputed items is exactly "[]"
        f'"prorated": {"false" if imputed_items == "[]" else "true"}, '
        f'"imputed_items": {imputed_items}, "received_at": "{received_at}", '
        f'"entered_by": {{"id": {_text(entered_by_id)}, "role": {_text(entered_by_role)}}}, '
        f'"voided": {"true" if voided else "false"}, "void_reason": {_text(void_reason)}, '
        f'"voided_at": {"null" if voided_at is None else f"{chr(34)}{voided_at}{chr(34)}"}}}'
    )


def _text(value: str | None) -> str:
    """A JSON string (or null), escaped as json.dumps(ensure_ascii=False) escapes it."""
    return "null" if value is None else _escape(value)


def entry_texts(patient_ids: list[str]) -> dict[str, list[str]]:
    """entry_text() of every entry of these patients, by patient, oldest first."""
    grouped: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(*ENTRY_TEXT_COLUMNS)
        .where(Entry.patient_id.in_(patient_ids))
        .order_by(Entry.patient_id, Entry.taken_at, Entry.id)
    )
    for row in rows:
        grouped.setdefault(row[1], []).append(entry_text(row))
    return grouped


SESSION_COLUMNS = (
    TreatmentSession.id,
    TreatmentSession.patient_id,
    TreatmentSession.started_at,
    TreatmentSession.treatment,
    TreatmentSession.dose_mg,
    TreatmentSession.notes,
    TreatmentSession.created_at,
    TreatmentSession.updated_at,
    TreatmentSession.cancelled_at,
    TreatmentSession.cancelled_by_id,
)


def session_jsons(clinic: Clinic, patient_ids: list[str]) -> dict[str, list[dict]]:
    """Every session of these patients as SessionOut dumps it, with its monitoring record
    (or None), by patient, in time order; built from columns (tests/test_exports.py checks
    they agree with the schema), and only sessions with a record are loaded as objects."""
    now = utcnow()
    reports = _by_patient(
        (
            _report_json(row)
            for row in db.session.execute(
                select(SessionReport)
                .where(SessionReport.patient_id.in_(patient_ids))
                .order_by(SessionReport.taken_at, SessionReport.id)
            ).scalars()
        ),
        itemgetter("session_id"),
    )
    recorded = {
        session.id: _monitoring.dump(monitoring.of_session(session, clinic))
        for session in db.session.scalars(
            select(TreatmentSession)
            .join(SessionMonitoring)
            .where(TreatmentSession.patient_id.in_(patient_ids))
            .options(
                selectinload(TreatmentSession.monitoring).selectinload(SessionMonitoring.vitals)
            )
        )
    }
    rows = db.session.execute(
        select(*SESSION_COLUMNS)
        .where(TreatmentSession.patient_id.in_(patient_ids))
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
    )
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row.patient_id, []).append(
            {
                "id": row.id,
                "patient_id": row.patient_id,
                "started_at": _utc(row.started_at),
                "treatment": row.treatment,
                "dose_mg": row.dose_mg,
                "notes": row.notes,
                "created_at": _utc(row.created_at),
                "updated_at": _utc_or_none(row.updated_at),
                "reports": reports.get(row.id, []),
                "status": treatment.session_status(row.started_at, row.cancelled_at, now),
                "cancelled_at": _utc_or_none(row.cancelled_at),
                "cancelled_by_id": row.cancelled_by_id,
                "monitoring_recorded": row.id in recorded,
                "monitoring": recorded.get(row.id),
            }
        )
    return grouped


def _report_json(report: SessionReport) -> dict:
    return {
        "id": report.id,
        "patient_id": report.patient_id,
        "session_id": report.session_id,
        "taken_at": _utc(report.taken_at),
        "side_effects": report.side_effects,
        "note": report.note,
        "received_at": _utc(report.received_at),
    }


def _utc_or_none(value: datetime | None) -> str | None:
    return None if value is None else _utc(value)


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
    for start in range(0, len(patient_ids), BATCH):
        batch = patient_ids[start : start + BATCH]
        texts = entry_texts(batch)
        for number, block in enumerate(patient_blocks(clinic, batch, with_entries=False)):
            entries = ",".join(texts.get(batch[number], ()))
            text = json.dumps(block, ensure_ascii=False)
            yield f'{"," if start or number else ""}{text[:-1]}, "entries": [{entries}]}}'
        db.session.expunge_all()  # forget this batch's rows before the next
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
