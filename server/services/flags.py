"""Safety flags: the clinic's inbox, one flag, and resolving a flag with a note."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..data.extensions import db
from ..data.models import Flag, Patient, User, utcnow
from ..domain.errors import Conflict
from . import audit
from .pagination import page


def list_flags(
    clinician: User,
    status: str | None,
    limit: int,
    cursor: str | None,
    patient_id: str | None = None,
) -> dict:
    """One page of the clinic's flags (or one patient's), oldest first, audited with their
    patients (committed). Another clinic's patient id finds nothing."""
    statement = (
        select(Flag)
        .join(Patient, Patient.id == Flag.patient_id)
        .where(Patient.clinic_id == clinician.clinic_id)
        # Everything FlagOut shows, in this one query: not one query per flag.
        .options(
            contains_eager(Flag.patient).joinedload(Patient.account),
            contains_eager(Flag.patient).joinedload(Patient.clinic),
            joinedload(Flag.entry),
            joinedload(Flag.resolver),
            selectinload(Flag.signals),
        )
    )
    if status:
        statement = statement.where(Flag.status == status)
    if patient_id:
        statement = statement.where(Flag.patient_id == patient_id)
    result = page(statement, Flag.opened_at, Flag.id, limit, cursor)
    audit.record(
        "flags.read",
        detail={"patient_ids": sorted({flag.patient_id for flag in result["items"]})},
    )
    db.session.commit()
    return result


def read(flag: Flag) -> Flag:
    """One flag of the clinic, with its entry or signal; the read is audited (committed)."""
    audit.record("flag.read", patient=flag.patient, detail={"flag_id": flag.id})
    db.session.commit()
    return flag


def resolve(flag: Flag, clinician: User, note: str) -> Flag:
    """Resolve an open flag with a note; one already resolved is a Conflict (committed)."""
    # Only an open flag can be resolved: the condition decides between two clinicians at once.
    resolved = db.session.execute(
        update(Flag)
        .where(Flag.id == flag.id, Flag.status == "open")
        .values(status="resolved", resolved_by_id=clinician.id, resolved_at=utcnow(), note=note)
    )
    if resolved.rowcount != 1:
        db.session.rollback()
        raise Conflict("This flag is already resolved.")
    audit.record("flag.resolve", patient=flag.patient, detail={"flag_id": flag.id})
    db.session.commit()
    db.session.refresh(flag)
    return flag
