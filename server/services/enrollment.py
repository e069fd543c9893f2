"""Single-use, expiring codes, stored only as a hash: enrollment codes (a patient creates
their account) and reset codes (someone locked out sets a new password and is signed in)."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import segno
from flask import current_app, request
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import EnrollmentCode, Patient, User, utcnow
from ..domain.errors import Conflict, Invalid
from . import audit, auth_sessions
from .accounts import Counter, count_failure, hash_password, refuse_when_over, sha256

# No 0/O, 1/I/L or U: codes are read aloud and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12


@dataclass(frozen=True)
class IssuedCode:
    code: str
    url: str
    expires_at: datetime
    purpose: str = "enroll"

    @property
    def qr_svg(self) -> str:
        """The link as a QR code: a standalone SVG document (with its namespace, which an SVG
        shown as an image needs: without it the browser draws nothing but the alt text)."""
        out = io.BytesIO()
        segno.make(self.url, error="m").save(
            out, kind="svg", scale=4, border=2, xmldecl=False, svgclass="segno", nl=False
        )
        return out.getvalue().decode()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _format(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# The code travels in the link's fragment, which browsers never send: it stays out of access
# logs, proxies and Referer headers. The PWA reads it from there.
FRAGMENT = {"enroll": "code", "reset": "reset"}


def code_url(code: str, purpose: str = "enroll") -> str:
    """The link that opens the PWA with the code filled in."""
    base = current_app.config["TIDEMARK_PUBLIC_URL"] or request.host_url.rstrip("/")
    return f"{base}/#{FRAGMENT[purpose]}={code}"


def void_unused(*conditions) -> None:
    """Void every unused code matching the conditions (not committed)."""
    db.session.execute(
        update(EnrollmentCode)
        .where(*conditions, EnrollmentCode.used_at.is_(None), EnrollmentCode.voided_at.is_(None))
        .values(voided_at=utcnow())
    )


def _new_code(issued_by: User, **whom) -> IssuedCode:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = utcnow() + timedelta(hours=current_app.config["TIDEMARK_ENROLLMENT_HOURS"])
    db.session.add(
        EnrollmentCode(
            code_hash=sha256(raw), created_by_id=issued_by.id, expires_at=expires_at, **whom
        )
    )
    code = _format(raw)
    purpose = whom.get("purpose", "enroll")
    return IssuedCode(
        code=code, url=code_url(code, purpose), expires_at=expires_at, purpose=purpose
    )


def issue_code(patient: Patient, issued_by: User) -> IssuedCode:
    """Void the patient's unused codes and issue a new enrollment code (not committed)."""
    void_unused(EnrollmentCode.patient_id == patient.id)
    return _new_code(issued_by, purpose="enroll", patient_id=patient.id)


def issue_reset_code(account: User, issued_by: User) -> IssuedCode:
    """Void the account's unused reset codes and issue a new one (not committed)."""
    if not account.active:
        raise Conflict("This account is deactivated: activate it first.")
    void_unused(EnrollmentCode.user_id == account.id)
    return _new_code(issued_by, purpose="reset", user_id=account.id, patient_id=account.patient_id)


BAD_CODE = "This code is not valid: it may be mistyped, used or expired."


def _usable(code: str, purpose: str, now: datetime) -> EnrollmentCode | None:
    """The unused, unexpired code of this purpose, or None."""
    found = db.session.scalar(
        db.select(EnrollmentCode).where(EnrollmentCode.code_hash == sha256(normalise_code(code)))
    )
    if (
        found is None
        or found.purpose != purpose
        or found.used_at is not None
        or found.voided_at is not None
        or found.expires_at <= now
    ):
        return None
    return found


def _use_up(found: EnrollmentCode, counters: list[Counter]) -> None:
    """Mark the code used; if another request used it a moment ago, refuse (Invalid)."""
    used = db.session.execute(
        update(EnrollmentCode)
        .where(EnrollmentCode.id == found.id, EnrollmentCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise _bad_code("This code has just been used.", counters)


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
    enrollment_code = _usable(code, "enroll", now)
    if enrollment_code is None:
        raise _bad_code(BAD_CODE, counters)
    email = email.strip().lower()
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise _email_in_use(enrollment_code, counters)

    patient = db.session.get(Patient, enrollment_code.patient_id)
    if not patient.active:  # its codes were voided at deactivation: never reached
        raise _bad_code(BAD_CODE, counters)
    _use_up(enrollment_code, counters)
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


def reset_password(code: str, new_password: str, *, address: str) -> User:
    """Set a new password with a valid reset code and use the code up (committed); every
    session of the account ends (the caller starts the new one).

    Bad codes count toward the same per-address limit as enrollment codes (TooManyAttempts);
    a refusal is Invalid and audited.
    """
    counters = [("ENROLL_FAILURES_PER_ADDRESS", ("enroll-address", address))]
    refuse_when_over(counters)
    reset_code = _usable(code, "reset", datetime.now(UTC))
    account = db.session.get(User, reset_code.user_id) if reset_code else None
    if account is None or not account.active:
        count_failure(counters)
        audit.record("auth.reset_failed", actor=None)
        db.session.commit()
        raise Invalid(fields={"code": [BAD_CODE]})
    _use_up(reset_code, counters)
    account.password_hash = hash_password(new_password)
    ended = auth_sessions.end_all(account)
    audit.record(
        "auth.reset",
        actor=account,
        patient=account.patient,
        detail={
            "code_id": reset_code.id,
            "issued_by": reset_code.created_by_id,
            "sessions_ended": ended,
        },
    )
    db.session.commit()
    return account
