"""Patients: adding and editing them, their enrollment codes and their check-in schedules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import EnrollmentCode, Entry, Patient, TreatmentSession, User
from ..domain import schedule
from ..domain.errors import Conflict, Invalid
from . import audit, enrollment
from .accounts import cut_off
from .enrollment import IssuedCode


def _external_id_taken() -> Invalid:
    return Invalid(fields={"external_id": ["Already used by another patient of this clinic."]})


@dataclass(frozen=True)
class NewPatient:
    """A patient just added, and the enrollment code to hand them."""

    patient: Patient
    enrollment: IssuedCode


@dataclass(frozen=True)
class PatientDetail:
    """A patient, their check-in schedule and what is due now."""

    patient: Patient
    schedule: dict
    due: list[schedule.Due]


def create(clinician: User, body: dict) -> NewPatient:
    """Add a patient to the clinician's clinic and issue their enrollment code (committed).

    Refused (Conflict) until the clinic's crisis resources are set: a patient's crisis screen
    must always have a crisis line and the clinic's number to call."""
    if not clinician.clinic.crisis_ready:
        raise Conflict(
            "Set the clinic's crisis resources first (the crisis line's phone number and the "
            "clinic's phone number, in Clinic admin): patients can be added once they are set."
        )
    patient = Patient(
        clinic_id=clinician.clinic_id,
        display_name=body["display_name"],
        external_id=body.get("external_id"),
        timezone=body.get("timezone") or clinician.clinic.timezone,
    )
    db.session.add(patient)
    # The unique constraint, not a look-up first, decides between two requests at once.
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _external_id_taken() from None
    issued = enrollment.issue_code(patient, clinician)
    audit.record("patient.create", patient=patient)
    db.session.commit()
    return NewPatient(patient, issued)


def update(patient: Patient, body: dict) -> Patient:
    """Change the patient's display name, external id or time zone (committed)."""
    for field, value in body.items():
        setattr(patient, field, value)
    audit.record("patient.update", patient=patient, detail={"fields": sorted(body)})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _external_id_taken() from None
    return patient


def detail(patient: Patient) -> PatientDetail:
    """The patient, their schedule and what is due now; a clinician's read is audited."""
    audit.clinician_read("patient.read", patient)
    return PatientDetail(patient, schedule.effective(patient.schedule), due_for(patient))


def due_for(patient: Patient) -> list[schedule.Due]:
    """What is due for the patient now, from their schedule, entries and sessions."""
    last_taken = dict(
        db.session.execute(
            select(Entry.instrument, func.max(Entry.taken_at))
            .where(Entry.patient_id == patient.id, Entry.voided.is_(False))
            .group_by(Entry.instrument)
        ).all()
    )
    sessions = db.session.execute(
        select(TreatmentSession.id, TreatmentSession.started_at).where(
            TreatmentSession.patient_id == patient.id, TreatmentSession.cancelled_at.is_(None)
        )
    ).all()
    with_pre = set(
        db.session.scalars(
            select(Entry.session_id).where(
                Entry.patient_id == patient.id,
                Entry.context == "pre_session",
                # The scheduled pre-session check-in: a quick rating does not stand for it.
                Entry.instrument == schedule.PRE_SESSION_INSTRUMENT,
                Entry.voided.is_(False),
                Entry.session_id.is_not(None),
            )
        )
    )
    return schedule.due_items(
        patient.schedule,
        now=datetime.now(UTC),
        timezone=patient.timezone,
        start=patient.created_at,
        last_taken=last_taken,
        sessions=[(row.id, row.started_at) for row in sessions],
        sessions_with_pre_entry=with_pre,
    )


def reissue_enrollment(patient: Patient, clinician: User) -> IssuedCode:
    """A new code for the patient (committed); the previous one stops working.

    Not yet enrolled: an enrollment code. Enrolled: a reset code, with which a patient who
    lost their password sets a new one and is signed in (recovery without email).
    """
    if not patient.active:
        raise Conflict("This patient is deactivated: activate them first.")
    if patient.account is not None:
        issued = enrollment.issue_reset_code(patient.account, clinician)
        audit.record("patient.reset_issued", patient=patient)
    else:
        issued = enrollment.issue_code(patient, clinician)
        audit.record("patient.enrollment_reissued", patient=patient)
    db.session.commit()
    return issued


def deactivate(patient: Patient) -> Patient:
    """Stop the patient signing in or enrolling (committed): their sessions end, every code of
    theirs is voided, for good; their record and data stay."""
    patient.active = False
    detail = {}
    if patient.account is not None:
        patient.account.active = False
        detail = cut_off(patient.account)
    enrollment.void_unused(EnrollmentCode.patient_id == patient.id)
    audit.record("patient.deactivate", patient=patient, detail=detail)
    db.session.commit()
    return patient


def activate(patient: Patient) -> Patient:
    """Let a deactivated patient sign in again (committed); no old session comes back."""
    patient.active = True
    if patient.account is not None:
        patient.account.active = True
    audit.record("patient.activate", patient=patient)
    db.session.commit()
    return patient


def schedule_of(patient: Patient) -> dict:
    """The patient's check-in schedule, or the default; a clinician's read is audited."""
    audit.clinician_read("schedule.read", patient)
    return schedule.effective(patient.schedule)


def replace_schedule(patient: Patient, new_schedule: dict) -> dict:
    """Replace the patient's check-in schedule (committed)."""
    instruments = [scheduled["instrument"] for scheduled in new_schedule["instruments"]]
    if len(set(instruments)) != len(instruments):
        raise Invalid(fields={"instruments": ["Each instrument at most once."]})
    patient.schedule = new_schedule
    audit.record("schedule.update", patient=patient, detail=new_schedule)
    db.session.commit()
    return schedule.effective(patient.schedule)
