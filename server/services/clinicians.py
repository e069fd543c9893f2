"""A clinic's clinicians: listed by any of them, added and (de)activated by an admin."""

from __future__ import annotations

from sqlalchemy import select

from ..data.extensions import db
from ..data.models import User
from ..domain.errors import Conflict, Invalid
from . import audit, enrollment
from .accounts import cut_off, hash_password
from .enrollment import IssuedCode
from .pagination import page


def of_clinic(clinic_id: str, limit: int, cursor: str | None) -> dict:
    """One page of the clinic's clinicians, oldest first."""
    statement = select(User).where(User.clinic_id == clinic_id, User.role == "clinician")
    return page(statement, User.created_at, User.id, limit, cursor)


def add(admin: User, email: str, display_name: str, password: str, is_admin: bool) -> User:
    """Add a clinician to the admin's clinic (committed); an email in use is Invalid."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Invalid(fields={"email": ["This email is already in use."]})
    clinician = User(
        email=email,
        password_hash=hash_password(password),
        role="clinician",
        is_admin=is_admin,
        display_name=display_name,
        clinic_id=admin.clinic_id,
    )
    db.session.add(clinician)
    db.session.flush()
    audit.record(
        "clinician.create", actor=admin, detail={"clinician_id": clinician.id, "email": email}
    )
    db.session.commit()
    return clinician


def deactivate(admin: User, clinician: User) -> User:
    """Stop a clinician signing in (committed); not oneself. Their sessions end and their
    tokens are revoked for good."""
    if clinician.id == admin.id:
        raise Conflict("You cannot deactivate yourself.")
    clinician.active = False
    cut = cut_off(clinician)
    audit.record("clinician.deactivate", actor=admin, detail={"clinician_id": clinician.id, **cut})
    db.session.commit()
    return clinician


def activate(admin: User, clinician: User) -> User:
    """Let a deactivated clinician sign in again (committed); no old session or token comes
    back."""
    clinician.active = True
    audit.record("clinician.activate", actor=admin, detail={"clinician_id": clinician.id})
    db.session.commit()
    return clinician


def issue_reset(admin: User, clinician: User) -> IssuedCode:
    """A reset code for a clinician of the admin's clinic (committed): with it they set a new
    password and are signed in; their previous unused reset code stops working."""
    issued = enrollment.issue_reset_code(clinician, admin)
    audit.record("clinician.reset_issued", actor=admin, detail={"clinician_id": clinician.id})
    db.session.commit()
    return issued
