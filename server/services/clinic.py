"""A clinic's settings: its time zone, crisis text and MADRS remission cut-off."""

from __future__ import annotations

from sqlalchemy import select

from ..data.extensions import db
from ..data.models import Clinic, Patient, User
from . import audit
from .panel import refresh_snapshots


def of(user: User) -> Clinic:
    """The user's clinic."""
    return db.session.get(Clinic, user.clinic_id)


def update(admin: User, changes: dict) -> Clinic:
    """Change the admin's clinic's settings (committed); a new MADRS cut-off re-scores the panel."""
    clinic = db.session.get(Clinic, admin.clinic_id)
    changed_cutoff = changes.get("madrs_remission_max", clinic.madrs_remission_max) != (
        clinic.madrs_remission_max
    )
    for name, value in changes.items():
        setattr(clinic, name, value)
    audit.record("clinic.update", actor=admin, detail=changes)
    db.session.flush()
    if changed_cutoff:
        for patient_id in db.session.scalars(
            select(Patient.id).where(Patient.clinic_id == clinic.id)
        ).all():
            refresh_snapshots(patient_id)
    db.session.commit()
    return clinic
