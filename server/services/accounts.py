"""Passwords (argon2id) and secrets, signing in and out, and the limits on failed attempts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from limits import parse

from ..data.extensions import db
from ..data.models import User
from ..domain.errors import NotSignedIn, TooManyAttempts
from . import audit, failures

TOKEN_PREFIX = "tmk_"

# A failure counter: the config key of its limit, and the key it counts under.
Counter = tuple[str, tuple[str, ...]]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password; with no user, hash anyway so that timing does not reveal the account."""
    hasher = _hasher()
    if user is None:
        hasher.hash(password)
        return False
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


# ---------------------------------------------------------------- limits on failed attempts


def refuse_when_over(counters: list[Counter]) -> None:
    """Raise TooManyAttempts, with the longest wait, if any of these failure counters is full."""
    store = failures.counters()
    waits = [store.wait(parse(current_app.config[limit]), key) for limit, key in counters]
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise TooManyAttempts("Too many attempts. Wait and try again.", retry_after=max(waits))


def count_failure(counters: list[Counter]) -> None:
    """Count one failed attempt against each of these counters, shared by every worker.

    In the database the count is committed at once: roll back what the request did first.
    """
    store = failures.counters()
    for limit, key in counters:
        store.hit(parse(current_app.config[limit]), key)


# ---------------------------------------------------------------- signing in and out


@dataclass(frozen=True)
class KnownDevice:
    """A browser that signed in to this account before (OWASP's device cookie)."""

    user_id: str
    nonce: str


def sign_in(email: str, password: str, address: str, device: KnownDevice | None = None) -> User:
    """The user with this email and password, audited; failures are audited and counted.

    Failures from a browser that signed in to this account before count against that browser
    alone, so that an attacker's failures elsewhere never lock the owner out of it; any other
    browser counts against the account.
    """
    email = email.strip().lower()
    user = db.session.scalar(db.select(User).where(User.email == email))
    if device is not None and user is not None and device.user_id == user.id:
        account_counter = ("LOGIN_FAILURES_PER_DEVICE", ("login-device", device.nonce))
    else:
        account_counter = ("LOGIN_FAILURES_PER_ACCOUNT", ("login-account", email))
    counters = [account_counter, ("LOGIN_FAILURES_PER_ADDRESS", ("login-address", address))]
    try:
        refuse_when_over(counters)
    except TooManyAttempts:
        audit.record(
            "auth.login_failed", actor=None, detail={"email": email[:254], "reason": "rate_limited"}
        )
        db.session.commit()
        raise
    if not verify_password(user, password) or not user.active:
        clinic_id = user.clinic_id if user else None
        db.session.rollback()  # keep nothing of a refused sign-in (a rehashed password)
        count_failure(counters)
        audit.record(
            "auth.login_failed",
            actor=None,
            clinic_id=clinic_id,
            detail={"email": email[:254]},
        )
        db.session.commit()
        # The same answer for a wrong email and a wrong password: no account is revealed.
        raise NotSignedIn("The email or password is wrong.")
    audit.record("auth.login", actor=user)
    db.session.commit()
    return user


def sign_out(user: User) -> None:
    """Audit the end of a user's session."""
    audit.record("auth.logout", actor=user)
    db.session.commit()
