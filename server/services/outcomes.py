"""Outcomes: a patient's summary per instrument, and the clinician's choice of baseline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from ..data.extensions import db
from ..data.models import (
    BaselineChoice,
    Clinic,
    Entry,
    Flag,
    Patient,
    TreatmentSession,
    User,
    utcnow,
)
from ..data.snapshots import remission_max_for
from ..domain import outcomes
from ..domain.errors import Invalid, NotFound
from ..domain.instruments import INSTRUMENTS, Instrument
from . import audit


@dataclass(frozen=True)
class ChosenBaseline:
    """The entry a clinician chose as baseline (rule 1)."""

    instrument: str
    entry_id: str
    rule: int = outcomes.EXPLICIT


def _instrument(instrument_id: str) -> Instrument:
    instrument = INSTRUMENTS.get(instrument_id)
    if instrument is None:
        raise NotFound("No such instrument.")
    if instrument.outcome is None:
        raise Invalid(fields={"instrument": [f"{instrument.name} has no baseline."]})
    return instrument


def summary(patient: Patient, instrument_id: str) -> outcomes.Summary:
    """Baseline, change, series, session pairs and open flags; a clinician's read is audited."""
    instrument = INSTRUMENTS[instrument_id]
    entries = list(
        db.session.scalars(
            select(Entry).where(Entry.patient_id == patient.id, Entry.instrument == instrument.id)
        )
    )
    sessions = list(
        db.session.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.patient_id == patient.id)
            .options(selectinload(TreatmentSession.monitoring))
        )
    )
    explicit = db.session.get(BaselineChoice, (patient.id, instrument.id))
    clinic = db.session.get(Clinic, patient.clinic_id)
    result = outcomes.summarize(
        instrument,
        entries,
        sessions,
        patient.timezone,
        explicit.entry_id if explicit else None,
        remission_max_for(clinic, instrument.id),
    )
    # Read to the end before the audit write: on SQLite an open cursor would hold a
    # snapshot, and the write would fail at once if another request wrote meanwhile.
    open_flags = db.session.scalars(
        select(Flag)
        .where(Flag.patient_id == patient.id, Flag.status == "open")
        .order_by(Flag.opened_at, Flag.id)
        .options(selectinload(Flag.entry), selectinload(Flag.signals))
    ).all()
    audit.clinician_read("summary.read", patient, {"instrument": instrument.id})
    return dataclasses.replace(result, open_flags=list(open_flags))


def set_baseline(
    patient: Patient, instrument_id: str, entry_id: str, clinician: User
) -> ChosenBaseline:
    """Choose the baseline entry explicitly (rule 1 of shared/scales.md; committed)."""
    instrument = _instrument(instrument_id)
    entry = db.session.get(Entry, entry_id)
    if (
        entry is None
        or entry.patient_id != patient.id
        or entry.instrument != instrument.id
        or entry.voided
    ):
        raise Invalid(fields={"entry_id": [f"No such {instrument.name} entry to choose."]})
    choice = db.session.get(BaselineChoice, (patient.id, instrument.id))
    if choice is None:
        choice = BaselineChoice(patient_id=patient.id, instrument=instrument.id)
        db.session.add(choice)
    choice.entry_id = entry.id
    choice.set_by_id = clinician.id
    choice.set_at = utcnow()
    audit.record(
        "baseline.set",
        patient=patient,
        detail={"instrument": instrument.id, "entry_id": entry.id},
    )
    db.session.commit()
    return ChosenBaseline(instrument.id, entry.id)


def clear_baseline(patient: Patient, instrument_id: str) -> None:
    """Return to the default baseline rules (committed)."""
    instrument = _instrument(instrument_id)
    db.session.execute(
        delete(BaselineChoice).where(
            BaselineChoice.patient_id == patient.id,
            BaselineChoice.instrument == instrument.id,
        )
    )
    audit.record("baseline.clear", patient=patient, detail={"instrument": instrument.id})
    db.session.commit()
