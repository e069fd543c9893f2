"""A clinic's settings: name, time zone, MADRS remission cut-off, how long a flag may stay open
before it is overdue, and the crisis resources its patients dial."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import Clinic, User
from ..domain.errors import Invalid
from . import audit


def of(user: User) -> Clinic:
    """The user's clinic."""
    return db.session.get(Clinic, user.clinic_id)


def update(admin: User, changes: dict) -> Clinic:
    """Change the admin's clinic's settings (committed).

    A new MADRS cut-off re-scores the clinic's panel through the snapshot hook; `crisis`, when
    given, replaces the crisis resources whole; a name already in use is Invalid.
    """
    clinic = db.session.get(Clinic, admin.clinic_id)
    for name, value in changes.items():
        setattr(clinic, name, value)
    audit.record("clinic.update", actor=admin, detail=changes)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Invalid(fields={"name": ["Another clinic already has this name."]}) from None
    db.session.commit()
    return clinic
