"""Signed-in sessions kept on the server: started, found, listed and ended.

The browser's cookie carries only a random secret; its SHA-256 is the row's key. A session
ends at sign-out, at a password change or reset (every other one), when the account is
deactivated, at its absolute expiry (patients 30 days, clinicians 12 hours) and, for
clinicians, after 30 minutes without a request (all configurable).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import update

from ..data.extensions import db
from ..data.models import AuthSession, User, utcnow
from .pagination import page

# last_seen_at is written at most this often: not a database write on every request.
SEEN_EVERY = timedelta(minutes=1)
USER_AGENT_LENGTH = 200


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    """A session just started, with the secret for the cookie: the only time it is known."""

    row: AuthSession
    secret: str


def lifetime(user: User) -> timedelta:
    """How long a session of this user may last at most, however busy."""
    config = current_app.config
    hours = config[
        "TIDEMARK_PATIENT_SESSION_HOURS" if user.is_patient else "TIDEMARK_CLINICIAN_SESSION_HOURS"
    ]
    return timedelta(hours=hours)


def idle_limit(user: User) -> timedelta | None:
    """How long a session of this user may go without a request (None: no limit)."""
    if user.is_patient:
        return None
    minutes = current_app.config["TIDEMARK_CLINICIAN_IDLE_MINUTES"]
    return timedelta(minutes=minutes) if minutes else None


def start(user: User, user_agent: str | None) -> NewSession:
    """A new session for `user` with a fresh random secret (not committed)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        secret_hash=_hash(secret),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime(user),
        # A NUL (which PostgreSQL refuses to store) never reaches the database.
        user_agent=(user_agent or "").replace("\x00", "")[:USER_AGENT_LENGTH] or None,
    )
    db.session.add(row)
    db.session.flush()
    return NewSession(row, secret)


def _is_live(row: AuthSession, now: datetime) -> bool:
    if row.ended_at is not None or row.expires_at <= now:
        return False
    idle = idle_limit(row.user)
    return idle is None or now - row.last_seen_at <= idle


def live(secret: str | None) -> AuthSession | None:
    """The live session this cookie secret names, seen now (committed), or None.

    A session found idle too long is ended there and then, so that it never comes back.
    """
    if not secret or not isinstance(secret, str):
        return None
    row = db.session.scalar(db.select(AuthSession).where(AuthSession.secret_hash == _hash(secret)))
    if row is None:
        return None
    now = datetime.now(UTC)
    if not _is_live(row, now):
        if row.ended_at is None:
            row.ended_at = utcnow()
            db.session.commit()
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = utcnow()
        db.session.commit()
    return row


def of_user(user: User, limit: int, cursor: str | None) -> dict:
    """One page of the user's live sessions, newest first."""
    now = utcnow()
    statement = db.select(AuthSession).where(
        AuthSession.user_id == user.id,
        AuthSession.ended_at.is_(None),
        AuthSession.expires_at > now,
    )
    idle = idle_limit(user)
    if idle is not None:
        statement = statement.where(AuthSession.last_seen_at >= now - idle)
    return page(statement, AuthSession.created_at, AuthSession.id, limit, cursor, newest_first=True)


def end_secret(secret: str | None) -> None:
    """End the session this cookie secret names, if any, live or not (not committed)."""
    if secret and isinstance(secret, str):
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.secret_hash == _hash(secret), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end(row: AuthSession) -> None:
    """End one session (not committed); ending it again changes nothing."""
    if row.ended_at is None:
        row.ended_at = utcnow()


def end_all(user: User, *, keep: str | None = None) -> int:
    """End every session of `user` but the one with id `keep` (not committed); how many."""
    statement = update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.ended_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    return db.session.execute(statement.values(ended_at=utcnow())).rowcount
