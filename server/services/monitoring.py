"""The monitoring record of a treatment session: vital signs over time (raised readings
marked by the clinic's thresholds), sedation, dissociation, respiratory depression, adverse
events, minutes, discharge and notes. One per session, replaced whole on each save."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import (
    Clinic,
    Patient,
    SessionMonitoring,
    TreatmentSession,
    User,
    VitalSigns,
    utcnow,
)
from ..domain import treatment
from ..domain.errors import Conflict, Invalid
from . import audit, safety

FIELDS = (
    "sedation",
    "dissociation",
    "respiratory_depression",
    "adverse_events",
    "monitoring_minutes",
    "ready_to_leave_minutes",
    "discharged_at",
    "notes",
)


def as_json(monitoring: SessionMonitoring, session: TreatmentSession, clinic: Clinic) -> dict:
    """The record as the API shows it, each reading marked raised or not by the clinic's
    thresholds as they are now."""
    thresholds = clinic.bp_thresholds
    return {
        "vitals": [
            {
                "at": reading.at,
                "systolic": reading.systolic,
                "diastolic": reading.diastolic,
                "heart_rate": reading.heart_rate,
                "spo2": reading.spo2,
                "raised": treatment.raised(
                    reading.at,
                    reading.systolic,
                    reading.diastolic,
                    session.started_at,
                    thresholds,
                ),
            }
            for reading in monitoring.vitals
        ],
        **{name: getattr(monitoring, name) for name in FIELDS},
        "recorded_by": {
            "id": monitoring.recorded_by_id,
            "display_name": monitoring.recorded_by_name,
        },
        "recorded_at": monitoring.recorded_at,
        "updated_at": monitoring.updated_at,
        "thresholds": clinic.blood_pressure_thresholds,
    }


def of_session(session: TreatmentSession, clinic: Clinic) -> dict | None:
    """The session's record as the API shows it, or None when none has been saved."""
    if session.monitoring is None:
        return None
    return as_json(session.monitoring, session, clinic)


def read(patient: Patient, session: TreatmentSession) -> dict | None:
    """The record (None when there is none yet); a clinician's read is audited."""
    found = of_session(session, db.session.get(Clinic, patient.clinic_id))
    audit.clinician_read("monitoring.read", patient, {"session_id": session.id})
    return found


def _time_errors(session: TreatmentSession, body: dict, now: datetime) -> dict:
    errors: dict = {}
    for index, reading in enumerate(body["vitals"]):
        problems = treatment.reading_time_errors(reading["at"], session.started_at, now)
        if problems:
            errors.setdefault("vitals", {})[index] = {"at": problems}
    if body.get("discharged_at") is not None:
        problems = treatment.discharge_time_errors(body["discharged_at"], session.started_at, now)
        if problems:
            errors["discharged_at"] = problems
    return errors


def record(patient: Patient, session: TreatmentSession, body: dict, actor: User) -> dict:
    """Save the session's record whole (committed), replacing the one before."""
    try:
        return _record(patient, session, body, actor)
    except IntegrityError:
        # Two first saves at once (SQLite: both found none): the later one replaces.
        db.session.rollback()
        return _record(patient, session, body, actor)


def _record(patient: Patient, session: TreatmentSession, body: dict, actor: User) -> dict:
    safety.lock_patient(patient.id)  # a cancellation meanwhile is seen (PostgreSQL)
    db.session.refresh(session)
    if session.cancelled_at is not None:
        raise Conflict("This session was cancelled: it has no monitoring record.")
    errors = _time_errors(session, body, datetime.now(UTC))
    if errors:
        raise Invalid(fields=errors)
    monitoring = session.monitoring
    if monitoring is None:
        monitoring = SessionMonitoring(session_id=session.id, recorded_at=utcnow())
        session.monitoring = monitoring
    else:
        monitoring.updated_at = utcnow()
    monitoring.recorded_by_id = actor.id
    monitoring.recorded_by_name = actor.display_name
    for name in FIELDS:
        setattr(monitoring, name, body.get(name))
    # In the vocabulary's order, whatever order the form sent them in.
    monitoring.adverse_events = [e for e in treatment.ADVERSE_EVENTS if e in body["adverse_events"]]
    monitoring.vitals = [
        VitalSigns(
            position=position,
            at=reading["at"],
            systolic=reading["systolic"],
            diastolic=reading["diastolic"],
            heart_rate=reading.get("heart_rate"),
            spo2=reading.get("spo2"),
        )
        for position, reading in enumerate(body["vitals"])
    ]
    db.session.flush()
    db.session.refresh(monitoring, ["vitals"])  # in time order
    clinic = db.session.get(Clinic, patient.clinic_id)
    answer = as_json(monitoring, session, clinic)
    audit.record(
        "monitoring.record",
        patient=patient,
        detail={
            "session_id": session.id,
            "vitals": len(answer["vitals"]),
            "raised": sum(reading["raised"] for reading in answer["vitals"]),
        },
    )
    db.session.commit()
    return answer
