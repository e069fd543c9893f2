"""The one place that decides who may see and change which patient's data.

A patient sees only themself; a clinician sees only their clinic. Anything else answers 404,
so that another clinic's or another patient's ids are indistinguishable from unknown ones.
"""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import abort

from .data.extensions import db
from .data.models import Patient, User


def signed_in_user() -> User:
    """The signed-in user, or a 401."""
    if not current_user.is_authenticated:
        abort(401, message="Sign in first (or the token is expired or revoked).")
    return current_user._get_current_object()


def clinician() -> User:
    """The signed-in clinician, or 401/403."""
    user = signed_in_user()
    if not user.is_clinician:
        abort(403, message="Only clinicians may do this.")
    return user


def clinic_admin() -> User:
    """The signed-in clinic admin, or 401/403."""
    user = clinician()
    if not user.is_admin:
        abort(403, message="Only clinic admins may do this.")
    return user


def _not_found():
    abort(404, message="No such patient.")


def patient(pid: str) -> Patient:
    """The patient `pid` if the signed-in user may see them (`me` is the patient themself)."""
    user = signed_in_user()
    if user.is_patient:
        if pid not in ("me", user.patient_id):
            _not_found()
        return db.session.get(Patient, user.patient_id)
    if pid == "me":
        _not_found()
    found = db.session.get(Patient, pid) if len(pid) <= 36 else None
    if found is None or found.clinic_id != user.clinic_id:
        _not_found()
    return found


def patient_for_clinician(pid: str) -> Patient:
    """The patient `pid` for a clinician of their clinic; a patient gets 403."""
    clinician()
    return patient(pid)


def may_transcribe_paper_forms() -> bool:
    """Only a clinician may submit a paper PHQ-9 with missing items (scales.md)."""
    return current_user.is_authenticated and current_user.is_clinician
