"""Storing, voiding and listing entries. Scoring itself lives in instruments.py."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import Entry, Patient, TreatmentSession, User, utcnow
from ..domain import outcomes
from ..domain.errors import Conflict, Forbidden, Invalid
from ..domain.instruments import INSTRUMENTS, Score, score
from ..domain.times import utc
from . import audit, safety
from .pagination import page


def request_hash(patient: Patient, body: dict) -> str:
    """SHA-256 of the entry as the client sent it: a replay matches it, a conflict does not."""
    canonical = {
        "patient_id": patient.id,
        "instrument": body["instrument"],
        "answers": body["answers"],
        "difficulty": body.get("difficulty"),
        "taken_at": utc(body["taken_at"]),
        "context": body["context"],
        "session_id": body.get("session_id"),
        "note": body.get("note"),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def linked_session(patient_id: str, context: str, taken_at: datetime) -> str | None:
    """The session an unlinked pre/post entry belongs to, by the windows in outcomes.py."""
    if context not in ("pre_session", "post_session"):
        return None
    sessions = db.session.execute(
        db.select(TreatmentSession.id, TreatmentSession.started_at).where(
            TreatmentSession.patient_id == patient_id,
            TreatmentSession.cancelled_at.is_(None),
            TreatmentSession.started_at >= taken_at - outcomes.POST_SESSION_WINDOW,
            TreatmentSession.started_at <= taken_at + outcomes.PRE_SESSION_WINDOW,
        )
    ).all()
    return outcomes.link_session(context, taken_at, sessions)


_MISFIT = {
    "pre_session": "A pre-session entry must be taken before its session starts.",
    "post_session": "A post-session entry must be taken after its session starts.",
}


def _validate(patient: Patient, body: dict, actor: User) -> Score:
    """Check what needs the database or the actor: who rates it, whose session it is."""
    instrument = INSTRUMENTS[body["instrument"]]
    if instrument.rater == "clinician" and not actor.is_clinician:
        raise Forbidden(f"{instrument.name} is rated by a clinician.")
    session_id = body.get("session_id")
    if session_id is not None:
        session = db.session.execute(
            db.select(
                TreatmentSession.patient_id,
                TreatmentSession.started_at,
                TreatmentSession.cancelled_at,
            ).where(TreatmentSession.id == session_id)
        ).first()
        if session is None or session.patient_id != patient.id:
            raise Invalid(fields={"session_id": ["No such session for this patient."]})
        if session.cancelled_at is not None:
            raise Invalid(fields={"session_id": ["This session was cancelled."]})
        if not outcomes.context_fits_session(body["context"], body["taken_at"], session.started_at):
            raise Invalid(fields={"session_id": [_MISFIT[body["context"]]]})
    # The schema has checked the answers already; this scores them.
    return score(instrument, body["answers"], allow_missing=actor.is_clinician)


def submit(patient: Patient, body: dict, actor: User) -> tuple[Entry, bool]:
    """Store an entry under the client's id; a replay returns the stored one (created=False)."""
    scored = _validate(patient, body, actor)
    digest = request_hash(patient, body)
    existing = db.session.get(Entry, body["id"])
    if existing is not None:
        return _replayed(existing, digest), False

    # Writers for one patient take turns from here (PostgreSQL): a session added meanwhile is
    # committed before the link below is read, or sees this entry when it relinks.
    safety.lock_patient(patient.id)
    explicit_session = body.get("session_id")
    entry = Entry(
        id=body["id"],
        patient_id=patient.id,
        instrument=body["instrument"],
        answers=body["answers"],
        difficulty=body.get("difficulty"),
        taken_at=body["taken_at"],
        context=body["context"],
        session_id=explicit_session,
        session_explicit=explicit_session is not None,
        note=body.get("note"),
        total=float(scored.total),  # the exact total is recomputed from the answers
        severity=scored.severity,
        flags=list(scored.flags),
        imputed_items=list(scored.imputed_items),
        received_at=utcnow(),
        entered_by_id=actor.id,
        entered_by_role=actor.role,
        request_hash=digest,
    )
    db.session.add(entry)
    if actor.is_clinician:
        audit.record(
            "entry.create",
            patient=patient,
            actor=actor,
            detail={"entry_id": entry.id, "instrument": entry.instrument},
        )
    try:
        # Written first, linked after: on SQLite the first write waits for the one writer,
        # so the sessions read below include any committed before this transaction began.
        db.session.flush()
        if explicit_session is None:
            entry.session_id = linked_session(patient.id, entry.context, entry.taken_at)
        # The check-in's one flag: opened here, or already by a signal sent while answering,
        # which this entry joins even if its own answer is now below the threshold.
        for kind in scored.flags:
            safety.open_flag(patient.id, entry.id, kind, entry_id=entry.id)
        safety.join_entry(patient.id, entry.id)
        db.session.commit()
    except IntegrityError:
        # Another request stored this id between our read and our write: the key decides.
        db.session.rollback()
        existing = db.session.get(Entry, body["id"])
        if existing is None:
            raise
        return _replayed(existing, digest), False
    return entry, True


def _replayed(existing: Entry, digest: str) -> Entry:
    if existing.request_hash != digest:
        raise Conflict(
            "An entry with this id was already stored with different content.",
            fields={"id": ["Already used for a different entry."]},
        )
    return existing


def void(patient: Patient, entry: Entry, reason: str, actor: User) -> Entry:
    """Void an entry: it leaves scores and charts but stays in lists and exports."""
    if actor.is_patient and entry.entered_by_id != actor.id:
        # A clinician's rating (a MADRS, a transcribed paper form) is not the patient's to void.
        raise Forbidden("Only your care team can void an entry they entered.")
    # Only a live entry can be voided: the condition decides between two requests at once.
    voided = db.session.execute(
        update(Entry)
        .where(Entry.id == entry.id, Entry.voided.is_(False))
        .values(voided=True, void_reason=reason, voided_at=utcnow(), voided_by_id=actor.id)
    )
    if voided.rowcount != 1:
        db.session.rollback()
        raise Conflict("This entry is already voided.")
    audit.record("entry.void", patient=patient, actor=actor, detail={"entry_id": entry.id})
    db.session.commit()
    db.session.refresh(entry)
    return entry


def list_page(patient: Patient, query: dict) -> dict:
    """One page of the patient's entries, oldest first, filtered by instrument and time."""
    statement = db.select(Entry).where(Entry.patient_id == patient.id)
    if query.get("instrument"):
        statement = statement.where(Entry.instrument == query["instrument"])
    if query.get("since"):
        statement = statement.where(Entry.taken_at >= query["since"])
    if query.get("until"):
        statement = statement.where(Entry.taken_at <= query["until"])
    result = page(statement, Entry.taken_at, Entry.id, query["limit"], query["cursor"])
    audit.clinician_read("entries.read", patient, {"count": len(result["items"])})
    return result
