"""Safety signals: a positive safety answer reaches the clinic the moment it is given.

A signal opens the flag of its check-in, or joins the one already there; the check-in's entry
(its id is the signal's checkin_id) joins the same flag whenever it arrives, before or after.
The unique constraint on (patient_id, checkin_id, kind) decides that one check-in has one flag
(an insert that meets it does nothing); the patient's row lock makes each side see what the
other committed, so that a signal and an entry arriving at once still meet.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import Entry, Flag, Patient, SafetySignal, User, new_id, utcnow
from ..domain.errors import Conflict
from ..domain.instruments import SELF_HARM
from ..domain.times import utc
from . import audit


def lock_patient(patient_id: str) -> None:
    """Take the patient's row lock until commit: writers for one patient take turns, and
    each sees what the one before committed (PostgreSQL; SQLite has a single writer)."""
    db.session.execute(
        select(Patient.id).where(Patient.id == patient_id).with_for_update(key_share=True)
    )


def open_flag(patient_id: str, checkin_id: str, kind: str, entry_id: str | None = None) -> None:
    """Open the check-in's flag of `kind`, unless it has one: then the insert does nothing."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(Flag)
        .values(
            id=new_id(),
            patient_id=patient_id,
            checkin_id=checkin_id,
            entry_id=entry_id,
            kind=kind,
            opened_at=utcnow(),
            status="open",
        )
        .on_conflict_do_nothing(index_elements=["patient_id", "checkin_id", "kind"])
    )


def join_entry(patient_id: str, checkin_id: str | None = None) -> None:
    """Put each check-in's entry on its flags that wait for it, where it has arrived (of one
    check-in, or of every check-in of the patient).

    Only the same patient's entry joins: another patient's entry with that id never does.
    """
    entry_arrived = exists().where(Entry.id == Flag.checkin_id, Entry.patient_id == patient_id)
    statement = update(Flag).where(
        Flag.patient_id == patient_id, Flag.entry_id.is_(None), entry_arrived
    )
    if checkin_id is not None:
        statement = statement.where(Flag.checkin_id == checkin_id)
    db.session.execute(
        statement.values(entry_id=Flag.checkin_id).execution_options(synchronize_session=False)
    )


def request_hash(patient: Patient, body: dict) -> str:
    canonical = {
        "patient_id": patient.id,
        "checkin_id": body["checkin_id"],
        "instrument": body["instrument"],
        "item": body["item"],
        "answer": body["answer"],
        "answered_at": utc(body["answered_at"]),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def receive(patient: Patient, body: dict, actor: User) -> tuple[Flag, bool]:
    """Store a signal under the client's id and open or join its check-in's flag (committed).

    A replay returns the flag of the stored signal (created=False); the same id with another
    body is a Conflict.
    """
    digest = request_hash(patient, body)
    existing = stored_signal(body["id"])
    if existing is not None:
        return _replayed(existing, digest).flag, False
    try:
        lock_patient(patient.id)
        open_flag(patient.id, body["checkin_id"], SELF_HARM)
        join_entry(patient.id, body["checkin_id"])
        flag = db.session.scalars(
            select(Flag)
            .where(
                Flag.patient_id == patient.id,
                Flag.checkin_id == body["checkin_id"],
                Flag.kind == SELF_HARM,
            )
            .execution_options(populate_existing=True)
        ).one()
        db.session.add(
            SafetySignal(
                id=body["id"],
                patient_id=patient.id,
                checkin_id=body["checkin_id"],
                instrument=body["instrument"],
                item=body["item"],
                answer=body["answer"],
                answered_at=body["answered_at"],
                received_at=utcnow(),
                request_hash=digest,
                flag_id=flag.id,
            )
        )
        audit.record(
            "safety_signal.receive",
            patient=patient,
            actor=actor,
            detail={"signal_id": body["id"], "flag_id": flag.id, "checkin_id": body["checkin_id"]},
        )
        db.session.commit()
    except IntegrityError:
        # Another request stored this id between our read and our write: the key decides.
        db.session.rollback()
        existing = stored_signal(body["id"])
        if existing is None:
            raise
        return _replayed(existing, digest).flag, False
    db.session.refresh(flag)
    return flag, True


def stored_signal(signal_id: str) -> SafetySignal | None:
    """The signal stored under this id, if any."""
    return db.session.get(SafetySignal, signal_id)


def _replayed(existing: SafetySignal, digest: str) -> SafetySignal:
    if existing.request_hash != digest:
        raise Conflict(
            "A safety signal with this id was already received with different content.",
            fields={"id": ["Already used for a different signal."]},
        )
    return existing
