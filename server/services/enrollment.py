"""Patients and their enrollment codes: single-use, expiring, stored only as a hash."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import segno
from flask import current_app, request
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import EnrollmentCode, Patient, User, utcnow
from ..domain.errors import Invalid
from . import audit
from .accounts import Counter, count_failure, hash_password, refuse_when_over, sha256

# No 0/O, 1/I/L or U: codes are read aloud and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12


@dataclass(frozen=True)
class IssuedCode:
    code: str
    url: str
    expires_at: datetime

    @property
    def qr_svg(self) -> str:
        """The enrollment link as a QR code, an SVG document to show or print."""
        return segno.make(self.url, error="m").svg_inline(scale=4, border=2)


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _format(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def enrollment_url(code: str) -> str:
    base = current_app.config["TIDEMARK_PUBLIC_URL"] or request.host_url.rstrip("/")
    return f"{base}/?code={code}"


def issue_code(patient: Patient, issued_by: User) -> IssuedCode:
    """Void the patient's unused codes and issue a new one (not committed)."""
    now = utcnow()
    db.session.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.patient_id == patient.id,
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + timedelta(hours=current_app.config["TIDEMARK_ENROLLMENT_HOURS"])
    db.session.add(
        EnrollmentCode(
            patient_id=patient.id,
            code_hash=sha256(raw),
            created_by_id=issued_by.id,
            expires_at=expires_at,
        )
    )
    code = _format(raw)
    return IssuedCode(code=code, url=enrollment_url(code), expires_at=expires_at)


def _bad_code(message: str, counters: list[Counter]) -> Invalid:
    """Refuse a code, counting it toward the per-address limit on bad codes."""
    db.session.rollback()  # nothing of a refused enrollment is kept but the count
    count_failure(counters)
    return Invalid(fields={"code": [message]})


def _email_in_use(enrollment_code: EnrollmentCode, counters: list[Counter]) -> Invalid:
    """Refuse an email in use: counted like a bad code, so that one valid code cannot test
    addresses without limit, and audited for the code's clinic. The answer is the same
    whichever clinic (this one or another) has the account."""
    db.session.rollback()
    count_failure(counters)
    patient = db.session.get(Patient, enrollment_code.patient_id)
    audit.record(
        "patient.enroll_email_in_use",
        patient=patient,
        actor=None,
        detail={"reason": "email_in_use"},
    )
    db.session.commit()
    return Invalid(fields={"email": ["This email is already in use."]})


def enroll(
    code: str, email: str, password: str, display_name: str | None = None, *, address: str
) -> User:
    """Create the patient's account from a valid code and use the code up (committed).

    Bad codes from one client address are limited (TooManyAttempts); a refusal is Invalid.
    """
    counters = [("ENROLL_FAILURES_PER_ADDRESS", ("enroll-address", address))]
    refuse_when_over(counters)
    now = datetime.now(UTC)
    enrollment_code = db.session.scalar(
        db.select(EnrollmentCode).where(EnrollmentCode.code_hash == sha256(normalise_code(code)))
    )
    if (
        enrollment_code is None
        or enrollment_code.used_at is not None
        or enrollment_code.voided_at is not None
        or enrollment_code.expires_at <= now
    ):
        raise _bad_code("This code is not valid: it may be mistyped, used or expired.", counters)
    email = email.strip().lower()
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise _email_in_use(enrollment_code, counters)

    patient = db.session.get(Patient, enrollment_code.patient_id)
    used = db.session.execute(
        update(EnrollmentCode)
        .where(EnrollmentCode.id == enrollment_code.id, EnrollmentCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # another request used it a moment ago
        db.session.rollback()
        raise _bad_code("This code has just been used.", counters)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role="patient",
        is_admin=False,
        display_name=display_name or patient.display_name,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request took the email (or enrolled this patient) a moment ago.
        raise _email_in_use(enrollment_code, counters) from None
    audit.record("patient.enroll", patient=patient, actor=user)
    db.session.commit()
    return user
