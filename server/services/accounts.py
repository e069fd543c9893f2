"""Passwords (argon2id) and secrets, signing in and out, password changes, and the limits on
failed attempts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf
from limits import parse
from sqlalchemy import update

from ..data.extensions import db
from ..data.models import ApiToken, EnrollmentCode, User, utcnow
from ..domain.errors import Forbidden, Invalid, NotSignedIn, TooManyAttempts
from . import audit, auth_sessions, failures, passkeys

# What the signed session cookie holds besides Flask-Login's user id: the random secret that
# names the server's session row, and that row's absolute expiry (the cookie's own).
SESSION_SECRET = "sid"
SESSION_EXPIRES = "exp"

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


def _sign_in_counters(email: str, address: str) -> list[Counter]:
    return [
        ("LOGIN_FAILURES_PER_ACCOUNT", ("login-account", email)),
        ("LOGIN_FAILURES_PER_ADDRESS", ("login-address", address)),
    ]


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


def start_session(user: User) -> dict:
    """Sign `user` in on this browser: the one way every sign-in ends (password, enrollment,
    reset, passkey). A new server-side session with a new random id (committed): the id the
    browser had before, signed in or not, is never used again. Returns the view's answer."""
    auth_sessions.end_secret(session.get(SESSION_SECRET))
    session.clear()
    started = auth_sessions.start(user, request.user_agent.string)
    db.session.commit()
    login_user(user)
    _bind(started)
    return {"user": user, "csrf_token": generate_csrf()}


def _bind(started: auth_sessions.NewSession) -> None:
    """Point this browser's cookie at a session row, expiring with it."""
    session[SESSION_SECRET] = started.secret
    session[SESSION_EXPIRES] = int(started.session.expires_at.timestamp())
    session.permanent = True
    g.auth_via = "session"
    g.auth_session_id = started.session.id


def current_session_id() -> str | None:
    """The id of the server-side session this request came with (None with a token)."""
    return g.get("auth_session_id")


def sign_out(user: User) -> None:
    """End this browser's session for every copy of its cookie, audited (committed)."""
    auth_sessions.end_secret(session.get(SESSION_SECRET))
    audit.record("auth.logout", actor=user)
    db.session.commit()
    logout_user()
    session.clear()


def _rotate_session(user: User) -> None:
    """A new session id for this browser after a change of privilege (not committed); the
    CSRF token stays, so that the page keeps working."""
    csrf_token = session.get("csrf_token")
    auth_sessions.end_secret(session.get(SESSION_SECRET))
    _bind(auth_sessions.start(user, request.user_agent.string))
    if csrf_token is not None:
        session["csrf_token"] = csrf_token


def change_password(user: User, current_password: str, new_password: str, address: str) -> None:
    """Set a new password once the current one is given (committed); every other session of
    the user ends and this one gets a new id. A wrong current password is Invalid and counts
    as a failed sign-in."""
    counters = _sign_in_counters(user.email, address)
    refuse_when_over(counters)
    if not verify_password(user, current_password):
        db.session.rollback()
        count_failure(counters)
        audit.record("auth.password_change_failed", actor=user)
        db.session.commit()
        raise Invalid(fields={"current_password": ["This is not your current password."]})
    user.password_hash = hash_password(new_password)
    ended = auth_sessions.end_all(user, keep=current_session_id())
    _rotate_session(user)
    audit.record("auth.password_change", actor=user, detail={"sessions_ended": ended})
    db.session.commit()


def end_other_sessions(user: User) -> int:
    """End every session of the user but this one (committed); how many ended."""
    ended = auth_sessions.end_all(user, keep=current_session_id())
    audit.record("auth.sessions_end", actor=user, detail={"sessions_ended": ended})
    db.session.commit()
    return ended


def end_session(user: User, ended: auth_sessions.StoredSession) -> None:
    """End one of the user's own sessions (committed)."""
    auth_sessions.end(user, ended.id)
    audit.record("auth.sessions_end", actor=user, detail={"session_id": ended.id})
    db.session.commit()


def cut_off(user: User) -> dict:
    """End every session of the account, revoke every token and void every unused reset code,
    for good (not committed): activating the account again brings none of them back."""
    sessions_ended = auth_sessions.end_all(user)
    tokens_revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    db.session.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.user_id == user.id,
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.voided_at.is_(None),
        )
        .values(voided_at=utcnow())
    )
    return {"sessions_ended": sessions_ended, "tokens_revoked": tokens_revoked}
