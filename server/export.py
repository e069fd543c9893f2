"""The `tidemark.export` document (API.md, Export): everything needed to read it, in one file."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields
from sqlalchemy import select

from .extensions import db
from .instruments import INSTRUMENTS
from .models import BaselineChoice, Clinic, Entry, Flag, Patient, TreatmentSession
from .schedule import effective
from .schemas import EntryOut, InstrumentOut, PatientOut, SessionOut, UTCTime

FORMAT = "tidemark.export"
VERSION = 1


class ExportFlag(Schema):
    id = fields.String(required=True)
    entry_id = fields.String(required=True)
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


_patient = PatientOut()
_session = SessionOut(many=True)
_entry = EntryOut(many=True)
_flag = ExportFlag(many=True)
_baseline = ExportBaseline(many=True)
_instrument = InstrumentOut(many=True)


def header(clinic: Clinic) -> dict:
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
    ).all()
    entries = db.session.scalars(
        select(Entry).where(Entry.patient_id == patient.id).order_by(Entry.taken_at, Entry.id)
    ).all()
    flags = db.session.scalars(
        select(Flag).where(Flag.patient_id == patient.id).order_by(Flag.opened_at, Flag.id)
    ).all()
    baselines = db.session.scalars(
        select(BaselineChoice)
        .where(BaselineChoice.patient_id == patient.id)
        .order_by(BaselineChoice.instrument)
    ).all()
    return {
        "patient": _patient.dump(
            {
                "id": patient.id,
                "display_name": patient.display_name,
                "external_id": patient.external_id,
                "timezone": patient.timezone,
                "enrolled": patient.account is not None,
                "created_at": patient.created_at,
            }
        ),
        "schedule": effective(patient.schedule),
        "baselines": _baseline.dump(baselines),
        "sessions": _session.dump(sessions),
        "entries": _entry.dump(entries),
        "flags": _flag.dump(flags),
    }


def patient_document(patient: Patient) -> dict:
    clinic = db.session.get(Clinic, patient.clinic_id)
    return {**header(clinic), "patients": [patient_block(patient)]}
