"""Treatment sessions (planned, done, cancelled), and the linking of pre/post-session entries
to them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import selectinload

from ..data.extensions import db
from ..data.models import Entry, Patient, TreatmentSession, User, utcnow
from ..domain import outcomes
from ..domain.errors import Conflict, Invalid
from ..domain.treatment import CANCELLED
from . import audit, safety
from .pagination import page


def relink(patient_id: str) -> int:
    """Re-link every server-linked pre/post entry of the patient; returns how many changed."""
    sessions = db.session.execute(
        select(TreatmentSession.id, TreatmentSession.started_at).where(
            TreatmentSession.patient_id == patient_id, TreatmentSession.cancelled_at.is_(None)
        )
    ).all()
    entries = db.session.scalars(
        select(Entry).where(
            Entry.patient_id == patient_id,
            Entry.context.in_(("pre_session", "post_session")),
            Entry.session_explicit.is_(False),
        )
    )
    changed = 0
    for entry in entries:
        session_id = outcomes.link_session(entry.context, entry.taken_at, sessions)
        if session_id != entry.session_id:
            entry.session_id = session_id
            changed += 1
    return changed


def _after_change(patient: Patient) -> None:
    # The session is written before the entries are read: on SQLite that first write waits
    # for the one writer, so an entry committed meanwhile is relinked (PostgreSQL: the lock).
    db.session.flush()
    relink(patient.id)


def _check_explicit_links(session: TreatmentSession, started_at) -> None:
    """A move may not leave an entry that named this session on the wrong side of it."""
    misfits = db.session.scalars(
        select(Entry.id).where(
            Entry.session_id == session.id,
            Entry.session_explicit.is_(True),
            Entry.voided.is_(False),
            ((Entry.context == "pre_session") & (Entry.taken_at > started_at))
            | ((Entry.context == "post_session") & (Entry.taken_at < started_at)),
        )
    ).all()
    if misfits:
        raise Invalid(
            fields={
                "started_at": [
                    f"{len(misfits)} entries that name this session would be on the wrong "
                    "side of it (a pre-session entry after it, or a post-session one before)."
                ]
            }
        )


def list_page(patient: Patient, query: dict) -> dict:
    """One page of the patient's sessions, oldest first."""
    statement = (
        select(TreatmentSession)
        .where(TreatmentSession.patient_id == patient.id)
        .options(selectinload(TreatmentSession.monitoring))
    )
    result = page(
        statement, TreatmentSession.started_at, TreatmentSession.id, query["limit"], query["cursor"]
    )
    audit.clinician_read("sessions.read", patient)
    return result


def create(patient: Patient, body: dict, actor: User) -> TreatmentSession:
    """Add a session; entries around it are linked to it."""
    # Writers for one patient take turns (PostgreSQL): entries arriving meanwhile are
    # either committed before the relink below reads them, or see this session.
    safety.lock_patient(patient.id)
    session = TreatmentSession(patient_id=patient.id, created_by_id=actor.id, **body)
    db.session.add(session)
    db.session.flush()
    audit.record("session.create", patient=patient, detail={"session_id": session.id})
    _after_change(patient)
    db.session.commit()
    return session


def update(
    patient: Patient, session: TreatmentSession, body: dict, actor: User
) -> TreatmentSession:
    """Edit or cancel a session; moving or cancelling it re-links the entries around it."""
    safety.lock_patient(patient.id)
    db.session.refresh(session)  # as the writer before us left it
    changes = dict(body)
    cancel = changes.pop("status", None) == CANCELLED and session.cancelled_at is None
    if cancel and session.monitoring is not None:
        raise Conflict(
            "This session has a monitoring record: it took place, so it cannot be cancelled."
        )
    if "started_at" in changes and not cancel:
        _check_explicit_links(session, changes["started_at"])
    for name, value in changes.items():
        setattr(session, name, value)
    if changes or cancel:
        session.updated_at = utcnow()
    if changes:
        audit.record(
            "session.update",
            patient=patient,
            detail={"session_id": session.id, "fields": sorted(changes)},
        )
    if cancel:
        session.cancelled_at = utcnow()
        session.cancelled_by_id = actor.id
        released = _release_entries(session)
        audit.record(
            "session.cancel",
            patient=patient,
            detail={"session_id": session.id, "entries_released": released},
        )
    _after_change(patient)
    db.session.commit()
    return session


def _release_entries(session: TreatmentSession) -> int:
    """Unlink every entry from a cancelled session, the client-named ones too: each is then
    linked by time to a session that takes place, or to none."""
    result = db.session.execute(
        sql_update(Entry)
        .where(Entry.session_id == session.id)
        .values(session_id=None, session_explicit=False)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount
