"""The one place that decides who may see and change which patient's data.

A patient sees only themself; a clinician sees only their clinic. Anything else is "not
found", so that another clinic's or another patient's ids are indistinguishable from unknown
ones. Every "this id, in my clinic, or 404" lookup lives here.
"""

from __future__ import annotations

from flask import g
from flask_login import current_user

from .data.extensions import db
from .data.models import (
    ApiToken,
    Entry,
    Flag,
    Passkey,
    Patient,
    TreatmentSession,
    User,
)
from .domain.errors import Forbidden, NotFound, NotSignedIn
from .services import auth_sessions

# Every id we hand out is a UUID; anything longer is unknown without asking the database.
_ID_LENGTH = 36


def signed_in_user() -> User:
    """The signed-in user, or NotSignedIn."""
    if not current_user.is_authenticated:
        raise NotSignedIn("Sign in first (or the token is expired or revoked).")
    return current_user._get_current_object()


def clinician() -> User:
    """The signed-in clinician, or NotSignedIn/Forbidden."""
    user = signed_in_user()
    if not user.is_clinician:
        raise Forbidden("Only clinicians may do this.")
    return user


def clinic_admin() -> User:
    """The signed-in clinic admin, or NotSignedIn/Forbidden."""
    user = clinician()
    if not user.is_admin:
        raise Forbidden("Only clinic admins may do this.")
    return user


def in_person() -> User:
    """The signed-in user, when signed in with a session rather than a bearer token.

    Administration (clinicians, tokens, clinic settings, imports) and changes to the account
    itself (its password, its sessions) are never a token's: a stolen token must not be able
    to mint lasting access.
    """
    user = signed_in_user()
    if g.get("auth_via") == "token":
        raise Forbidden("A token cannot do this; it needs a signed-in session.")
    return user


def administrator() -> User:
    """The signed-in clinic admin, in a session (never a token), or NotSignedIn/Forbidden."""
    in_person()
    return clinic_admin()


def _get(model, identifier: str):
    return db.session.get(model, identifier) if len(identifier) <= _ID_LENGTH else None


def patient(pid: str) -> Patient:
    """The patient `pid` if the signed-in user may see them (`me` is the patient themself)."""
    user = signed_in_user()
    if user.is_patient:
        if pid not in ("me", user.patient_id):
            raise NotFound("No such patient.")
        return db.session.get(Patient, user.patient_id)
    found = None if pid == "me" else _get(Patient, pid)
    if found is None or found.clinic_id != user.clinic_id:
        raise NotFound("No such patient.")
    return found


def patient_themself(pid: str) -> Patient:
    """The signed-in patient, when `pid` is them (or `me`); a clinician is Forbidden."""
    user = signed_in_user()
    if not user.is_patient:
        raise Forbidden("Only the patient themself may do this.")
    return patient(pid)


def patient_for_clinician(pid: str) -> Patient:
    """The patient `pid` for a clinician of their clinic; a patient is Forbidden."""
    clinician()
    return patient(pid)


def entry_of(patient: Patient, eid: str) -> Entry:
    """One of this patient's entries, or NotFound."""
    entry = _get(Entry, eid)
    if entry is None or entry.patient_id != patient.id:
        raise NotFound("No such entry.")
    return entry


def session_of(patient: Patient, sid: str) -> TreatmentSession:
    """One of this patient's treatment sessions, or NotFound."""
    session = _get(TreatmentSession, sid)
    if session is None or session.patient_id != patient.id:
        raise NotFound("No such session.")
    return session


def flag_in_clinic(fid: str) -> Flag:
    """A safety flag of the signed-in clinician's clinic, or NotFound."""
    user = clinician()
    flag = _get(Flag, fid)
    if flag is None or flag.patient.clinic_id != user.clinic_id:
        raise NotFound("No such flag.")
    return flag


def _owned(model, row_id: str, user: User, what: str):
    """A row of `model` that belongs to `user` (its user_id), or NotFound: another user's
    row is as unknown as an id that was never issued."""
    row = _get(model, row_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"No such {what}.")
    return row


def own_token(token_id: str) -> ApiToken:
    """One of the signed-in clinician's own API tokens, or NotFound."""
    return _owned(ApiToken, token_id, clinician(), "token")


def own_passkey(passkey_id: str) -> Passkey:
    """One of the signed-in user's own passkeys, or NotFound."""
    return _owned(Passkey, passkey_id, signed_in_user(), "passkey")


def own_session(session_id: str) -> auth_sessions.StoredSession:
    """One of the signed-in user's own live sessions, or NotFound (another user's, and one
    that has ended, included: in Redis an ended session is gone)."""
    found = auth_sessions.find(in_person(), session_id)
    if found is None:
        raise NotFound("No such session.")
    return found


def clinician_in_clinic(clinician_id: str) -> User:
    """A clinician of the signed-in admin's clinic, or NotFound."""
    admin = clinic_admin()
    found = _get(User, clinician_id)
    if found is None or found.clinic_id != admin.clinic_id or not found.is_clinician:
        raise NotFound("No such clinician.")
    return found


def may_transcribe_paper_forms() -> bool:
    """Only a clinician may submit a paper PHQ-9 with missing items (scales.md)."""
    return current_user.is_authenticated and current_user.is_clinician
