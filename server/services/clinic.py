"""A clinic's settings: its time zone, crisis text and MADRS remission cut-off."""

from __future__ import annotations

from ..data.extensions import db
from ..data.models import Clinic, User
from . import audit


def of(user: User) -> Clinic:
    """The user's clinic."""
    return db.session.get(Clinic, user.clinic_id)


def update(admin: User, changes: dict) -> Clinic:
    """Change the admin's clinic's settings (committed).

    A new MADRS cut-off re-scores the clinic's panel through the snapshot hook.
    """
    clinic = db.session.get(Clinic, admin.clinic_id)
    for name, value in changes.items():
        setattr(clinic, name, value)
    audit.record("clinic.update", actor=admin, detail=changes)
    db.session.commit()
    return clinic
