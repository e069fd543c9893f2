"""Signed-in sessions kept on the server: started, found, listed and ended.

The browser's cookie carries only a random secret; its SHA-256 names the stored session. A
session ends at sign-out, at a password change or reset (every other one), when the account
is deactivated, at its absolute expiry (patients 30 days, clinicians 12 hours) and, for
clinicians, after 30 minutes without a request (all configurable).

Where sessions are kept is TIDEMARK_SESSION_STORE: the database (the default, the
auth_session table) or Redis (a redis:// URL), behind the same functions below; every answer
of the API is the same with either. The database's changes join the caller's transaction
(the caller commits); Redis's happen at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import func, select, update

from ..data.extensions import db
from ..data.models import AuthSession, User, new_id, utcnow
from .pagination import page, page_of_list

EXTENSION = "tidemark_sessions"
DATABASE = "database"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

# last_seen_at is written at most this often: not a write on every request.
SEEN_EVERY = timedelta(minutes=1)
USER_AGENT_LENGTH = 200
# Every id we hand out is a UUID; anything longer is unknown without asking the store.
_ID_LENGTH = 36


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class StoredSession:
    """A signed-in browser as either store keeps it (never its secret)."""

    id: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None


@dataclass(frozen=True)
class NewSession:
    """A session just started, with the secret for the cookie: the only time it is known."""

    session: StoredSession
    secret: str


def lifetime(user: User) -> timedelta:
    """How long a session of this user may last at most, however busy."""
    config = current_app.config
    hours = config[
        "TIDEMARK_PATIENT_SESSION_HOURS" if user.is_patient else "TIDEMARK_CLINICIAN_SESSION_HOURS"
    ]
    return timedelta(hours=hours)


def _idle_limit(is_patient: bool) -> timedelta | None:
    if is_patient:
        return None
    minutes = current_app.config["TIDEMARK_CLINICIAN_IDLE_MINUTES"]
    return timedelta(minutes=minutes) if minutes else None


def idle_limit(user: User) -> timedelta | None:
    """How long a session of this user may go without a request (None: no limit)."""
    return _idle_limit(user.is_patient)


def _is_live(stored: StoredSession, is_patient: bool, now: datetime) -> bool:
    """Not past its absolute expiry, nor idle too long (an ended session is not stored)."""
    if stored.expires_at <= now:
        return False
    idle = _idle_limit(is_patient)
    return idle is None or now - stored.last_seen_at <= idle


def _new(user: User, user_agent: str | None) -> tuple[StoredSession, str]:
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    stored = StoredSession(
        id=new_id(),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime(user),
        # A NUL (which PostgreSQL refuses to store) never reaches the store.
        user_agent=(user_agent or "").replace("\x00", "")[:USER_AGENT_LENGTH] or None,
    )
    return stored, secret


class SessionStore(Protocol):
    def start(self, user: User, user_agent: str | None) -> NewSession: ...

    def live(self, secret: str) -> StoredSession | None: ...

    def of_user(self, user: User, limit: int, cursor: str | None) -> dict: ...

    def find(self, user: User, session_id: str) -> StoredSession | None: ...

    def end_secret(self, secret: str) -> None: ...

    def end(self, user: User, session_id: str) -> None: ...

    def end_all(self, user: User, keep: str | None) -> int: ...


# ---------------------------------------------------------------- the database (default)


def _from_row(row: AuthSession) -> StoredSession:
    return StoredSession(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
    )


class DatabaseSessions:
    """Rows of auth_session keyed by the secret's hash; an ended row keeps its ended_at."""

    @staticmethod
    def _live_rows(user: User, now: datetime):
        """A condition: the user's rows not ended, expired or idle too long."""
        conditions = [
            AuthSession.user_id == user.id,
            AuthSession.ended_at.is_(None),
            AuthSession.expires_at > now,
        ]
        idle = idle_limit(user)
        if idle is not None:
            conditions.append(AuthSession.last_seen_at >= now - idle)
        return conditions

    def start(self, user: User, user_agent: str | None) -> NewSession:
        stored, secret = _new(user, user_agent)
        db.session.add(
            AuthSession(
                id=stored.id,
                secret_hash=_hash(secret),
                user_id=stored.user_id,
                created_at=stored.created_at,
                last_seen_at=stored.last_seen_at,
                expires_at=stored.expires_at,
                user_agent=stored.user_agent,
            )
        )
        db.session.flush()
        return NewSession(stored, secret)

    def live(self, secret: str) -> StoredSession | None:
        row = db.session.scalar(select(AuthSession).where(AuthSession.secret_hash == _hash(secret)))
        if row is None or row.ended_at is not None:
            return None
        now = datetime.now(UTC)
        if not _is_live(_from_row(row), row.user.is_patient, now):
            row.ended_at = utcnow()  # so that it never comes back
            db.session.commit()
            return None
        if now - row.last_seen_at >= SEEN_EVERY:
            row.last_seen_at = utcnow()
            db.session.commit()
        return _from_row(row)

    def of_user(self, user: User, limit: int, cursor: str | None) -> dict:
        statement = select(AuthSession).where(*self._live_rows(user, utcnow()))
        found = page(
            statement, AuthSession.created_at, AuthSession.id, limit, cursor, newest_first=True
        )
        return {**found, "items": [_from_row(row) for row in found["items"]]}

    def find(self, user: User, session_id: str) -> StoredSession | None:
        row = db.session.scalar(
            select(AuthSession).where(
                AuthSession.id == session_id, *self._live_rows(user, utcnow())
            )
        )
        return None if row is None else _from_row(row)

    def end_secret(self, secret: str) -> None:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.secret_hash == _hash(secret), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )

    def end(self, user: User, session_id: str) -> None:
        db.session.execute(
            update(AuthSession)
            .where(
                AuthSession.id == session_id,
                AuthSession.user_id == user.id,
                AuthSession.ended_at.is_(None),
            )
            .values(ended_at=utcnow())
        )

    def end_all(self, user: User, keep: str | None) -> int:
        others = [] if keep is None else [AuthSession.id != keep]
        # Counted: the live ones (as Redis counts); ended: every one not ended yet, so that
        # a longer idle limit configured later brings none of them back.
        live = db.session.scalar(
            select(func.count(AuthSession.id)).where(*self._live_rows(user, utcnow()), *others)
        )
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None), *others)
            .values(ended_at=utcnow())
        )
        return live


# ---------------------------------------------------------------- Redis


# Store a session and add it to its user's index, whose expiry is the latest of its sessions'.
# KEYS: session, index. ARGV: expires (ms), now (ms), id, secret hash, then field, value, ...
_START = """
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
local left = redis.call('PTTL', KEYS[2])
if left < 0 or tonumber(ARGV[2]) + left < tonumber(ARGV[1]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
"""
# Note a request, unless the session ended meanwhile (an HSET would bring it back, unexpiring).
_SEEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])
end
"""


class RedisSessions:
    """One hash per session, keyed by the secret's hash, expiring (TTL) at the session's
    absolute expiry; the idle limit is checked on each read. An index per user (session id ->
    secret hash) lists and ends a user's sessions. An ended session is deleted."""

    def __init__(self, url: str, prefix: str = "tidemark:"):
        import redis

        # Bounded waits: a Redis that stops answering costs a request seconds and a 503
        # (api/errors.py), never a worker.
        self.client = redis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=3, socket_timeout=3
        )
        self.prefix = prefix
        self._start = self.client.register_script(_START)
        self._seen = self.client.register_script(_SEEN)

    def key(self, secret_hash: str) -> str:
        return f"{self.prefix}session:{secret_hash}"

    def index(self, user_id: str) -> str:
        return f"{self.prefix}user-sessions:{user_id}"

    @staticmethod
    def _parse(fields: dict) -> tuple[StoredSession, bool] | None:
        if not fields:
            return None
        stored = StoredSession(
            id=fields["id"],
            user_id=fields["user_id"],
            created_at=datetime.fromisoformat(fields["created_at"]),
            last_seen_at=datetime.fromisoformat(fields["last_seen_at"]),
            expires_at=datetime.fromisoformat(fields["expires_at"]),
            user_agent=fields["user_agent"] or None,
        )
        return stored, fields["patient"] == "1"

    def _of_user(self, user_id: str) -> list[tuple[str, StoredSession, bool]]:
        """Every stored session of the user: (secret hash, session, is_patient); index
        entries of sessions that expired are removed."""
        index = self.index(user_id)
        hashes = self.client.hgetall(index)
        pipe = self.client.pipeline(transaction=False)
        for secret_hash in hashes.values():
            pipe.hgetall(self.key(secret_hash))
        found, gone = [], []
        for (session_id, secret_hash), fields in zip(hashes.items(), pipe.execute(), strict=True):
            parsed = self._parse(fields)
            if parsed is None:
                gone.append(session_id)
            else:
                found.append((secret_hash, *parsed))
        if gone:
            self.client.hdel(index, *gone)
        return found

    def _delete(self, user_id: str, pairs: list[tuple[str, str]]) -> None:
        """Delete sessions given as (id, secret hash), and their index entries."""
        if not pairs:
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(*(self.key(secret_hash) for _, secret_hash in pairs))
        pipe.hdel(self.index(user_id), *(session_id for session_id, _ in pairs))
        pipe.execute()

    def start(self, user: User, user_agent: str | None) -> NewSession:
        stored, secret = _new(user, user_agent)
        secret_hash = _hash(secret)
        fields = {
            "id": stored.id,
            "user_id": stored.user_id,
            "patient": "1" if user.is_patient else "0",
            "created_at": stored.created_at.isoformat(),
            "last_seen_at": stored.last_seen_at.isoformat(),
            "expires_at": stored.expires_at.isoformat(),
            "user_agent": stored.user_agent or "",
        }
        self._start(
            keys=[self.key(secret_hash), self.index(user.id)],
            args=[
                int(stored.expires_at.timestamp() * 1000),
                int(datetime.now(UTC).timestamp() * 1000),
                stored.id,
                secret_hash,
                *(item for pair in fields.items() for item in pair),
            ],
        )
        return NewSession(stored, secret)

    def live(self, secret: str) -> StoredSession | None:
        secret_hash = _hash(secret)
        parsed = self._parse(self.client.hgetall(self.key(secret_hash)))
        if parsed is None:
            return None
        stored, is_patient = parsed
        now = datetime.now(UTC)
        if not _is_live(stored, is_patient, now):
            self._delete(stored.user_id, [(stored.id, secret_hash)])  # never comes back
            return None
        if now - stored.last_seen_at >= SEEN_EVERY:
            seen = utcnow()
            self._seen(keys=[self.key(secret_hash)], args=[seen.isoformat()])
            stored = replace(stored, last_seen_at=seen)
        return stored

    def of_user(self, user: User, limit: int, cursor: str | None) -> dict:
        now = utcnow()
        live = [s for _, s, patient in self._of_user(user.id) if _is_live(s, patient, now)]
        return page_of_list(live, "created_at", "id", limit, cursor, newest_first=True)

    def find(self, user: User, session_id: str) -> StoredSession | None:
        secret_hash = self.client.hget(self.index(user.id), session_id)
        if secret_hash is None:
            return None
        parsed = self._parse(self.client.hgetall(self.key(secret_hash)))
        if parsed is None or parsed[0].user_id != user.id:
            return None
        stored, is_patient = parsed
        return stored if _is_live(stored, is_patient, utcnow()) else None

    def end_secret(self, secret: str) -> None:
        secret_hash = _hash(secret)
        user_id, session_id = self.client.hmget(self.key(secret_hash), ["user_id", "id"])
        if user_id is None:
            return
        self._delete(user_id, [(session_id, secret_hash)])

    def end(self, user: User, session_id: str) -> None:
        secret_hash = self.client.hget(self.index(user.id), session_id)
        if secret_hash is not None:
            self._delete(user.id, [(session_id, secret_hash)])

    def end_all(self, user: User, keep: str | None) -> int:
        now = utcnow()
        ending = [(h, s, p) for h, s, p in self._of_user(user.id) if s.id != keep]
        self._delete(user.id, [(s.id, h) for h, s, _ in ending])
        return sum(1 for _, s, patient in ending if _is_live(s, patient, now))

    def clear(self) -> None:
        """Delete every key under this store's prefix (tests)."""
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=500))
        if keys:
            self.client.delete(*keys)


# ---------------------------------------------------------------- the store in use


def is_known_store(setting: str) -> bool:
    return setting == DATABASE or setting.startswith(REDIS_SCHEMES)


def init_app(app: Flask) -> None:
    """Choose where this app keeps sessions, from TIDEMARK_SESSION_STORE."""
    setting = app.config.get("TIDEMARK_SESSION_STORE") or DATABASE
    if setting == DATABASE:
        app.extensions[EXTENSION] = DatabaseSessions()
    else:
        app.extensions[EXTENSION] = RedisSessions(
            setting, app.config.get("TIDEMARK_SESSION_KEY_PREFIX", "tidemark:")
        )


def store() -> SessionStore:
    return current_app.extensions[EXTENSION]


def _usable(secret) -> bool:
    return bool(secret) and isinstance(secret, str)


def start(user: User, user_agent: str | None) -> NewSession:
    """A new session for `user` with a fresh random secret (database: not committed)."""
    return store().start(user, user_agent)


def live(secret: str | None) -> StoredSession | None:
    """The live session this cookie secret names, seen now, or None.

    A session found idle too long is ended there and then, so that it never comes back.
    """
    return store().live(secret) if _usable(secret) else None


def of_user(user: User, limit: int, cursor: str | None) -> dict:
    """One page of the user's live sessions, newest first."""
    return store().of_user(user, limit, cursor)


def find(user: User, session_id: str) -> StoredSession | None:
    """One of the user's live sessions by its id, or None (another user's included)."""
    if len(session_id) > _ID_LENGTH:
        return None
    return store().find(user, session_id)


def end_secret(secret: str | None) -> None:
    """End the session this cookie secret names, if any (database: not committed)."""
    if _usable(secret):
        store().end_secret(secret)


def end(user: User, session_id: str) -> None:
    """End one of the user's sessions (database: not committed); again changes nothing."""
    store().end(user, session_id)


def end_all(user: User, *, keep: str | None = None) -> int:
    """End every session of `user` but the one with id `keep` (database: not committed);
    how many live ones ended."""
    return store().end_all(user, keep)
