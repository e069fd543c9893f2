"""Passwords (argon2id) and secrets, signing in and out, and the limits on failed attempts."""

from __future__ import annotations

import hashlib
import math
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from limits import parse

from ..data.extensions import db, limiter
from ..data.models import User
from ..domain.errors import Forbidden, NotSignedIn, TooManyAttempts
from . import audit, passkeys

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
    strategy = limiter.limiter
    waits = []
    for limit_text, key in counters:
        item = parse(current_app.config[limit_text])
        if not strategy.test(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            waits.append(max(1, math.ceil(reset_at - time.time())))
    if waits:
        raise TooManyAttempts("Too many attempts. Wait and try again.", retry_after=max(waits))


def count_failure(counters: list[Counter]) -> None:
    """Count one failed attempt against each of these counters."""
    for limit_text, key in counters:
        limiter.limiter.hit(parse(current_app.config[limit_text]), *key)


# ---------------------------------------------------------------- signing in and out


def sign_in(email: str, password: str, address: str) -> User:
    """The user with this email and password, audited; failures are audited and counted."""
    email = email.strip().lower()
    counters = [
        ("LOGIN_FAILURES_PER_ACCOUNT", ("login-account", email)),
        ("LOGIN_FAILURES_PER_ADDRESS", ("login-address", address)),
    ]
    try:
        refuse_when_over(counters)
    except TooManyAttempts:
        audit.record(
            "auth.login_failed", actor=None, detail={"email": email[:254], "reason": "rate_limited"}
        )
        db.session.commit()
        raise
    user = db.session.scalar(db.select(User).where(User.email == email))
    if not verify_password(user, password) or not user.active:
        count_failure(counters)
        db.session.rollback()  # keep nothing of a refused sign-in (a rehashed password)
        audit.record(
            "auth.login_failed",
            actor=None,
            clinic_id=user.clinic_id if user else None,
            detail={"email": email[:254]},
        )
        db.session.commit()
        # The same answer for a wrong email and a wrong password: no account is revealed.
        raise NotSignedIn("The email or password is wrong.")
    if passkeys.password_alone_refused(user):
        audit.record(
            "auth.login_failed",
            actor=None,
            clinic_id=user.clinic_id,
            detail={"email": email[:254], "reason": "passkey_required"},
        )
        db.session.commit()
        raise Forbidden("Your clinic asks you to sign in with your passkey, not a password.")
    audit.record("auth.login", actor=user)
    db.session.commit()
    return user


def sign_out(user: User) -> None:
    """Audit the end of a user's session."""
    audit.record("auth.logout", actor=user)
    db.session.commit()
