"""What the session store in use holds, read and changed behind the app's back: the tests'
view of either backend (the database's auth_session rows, or Redis's hashes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from server.data.models import AuthSession
from server.services.auth_sessions import EXTENSION, RedisSessions
from tests.conftest import database

TIMES = ("created_at", "last_seen_at", "expires_at")


@dataclass(frozen=True)
class Stored:
    """A session not ended, as stored."""

    id: str
    user_id: str
    secret_hash: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def _redis(app) -> RedisSessions | None:
    store = app.extensions[EXTENSION]
    return store if isinstance(store, RedisSessions) else None


def _redis_keys(store: RedisSessions) -> list[str]:
    return list(store.client.scan_iter(match=store.key("*")))


def live_sessions(app, user_id: str | None = None) -> list[Stored]:
    """The stored sessions not ended (of `user_id`, or everyone's), oldest first."""
    store = _redis(app)
    found = []
    if store is None:
        with database(app) as session:
            statement = select(AuthSession).where(AuthSession.ended_at.is_(None))
            if user_id is not None:
                statement = statement.where(AuthSession.user_id == user_id)
            for row in session.scalars(statement):
                found.append(
                    Stored(row.id, row.user_id, row.secret_hash, *(getattr(row, t) for t in TIMES))
                )
    else:
        for key in _redis_keys(store):
            fields = store.client.hgetall(key)
            if fields and user_id in (None, fields["user_id"]):
                found.append(
                    Stored(
                        fields["id"],
                        fields["user_id"],
                        key.removeprefix(store.key("")),
                        *(datetime.fromisoformat(fields[t]) for t in TIMES),
                    )
                )
    return sorted(found, key=lambda s: (s.created_at, s.id))


def move_sessions(app, user_id: str, **times: timedelta) -> None:
    """Move the user's stored session times into the past by the given amounts."""
    store = _redis(app)
    if store is None:
        with database(app) as session:
            for row in session.scalars(select(AuthSession).where(AuthSession.user_id == user_id)):
                for column, delta in times.items():
                    setattr(row, column, getattr(row, column) - delta)
            session.commit()
        return
    for stored in live_sessions(app, user_id):
        store.client.hset(
            store.key(stored.secret_hash),
            mapping={
                column: (getattr(stored, column) - delta).isoformat()
                for column, delta in times.items()
            },
        )


def everything_stored(app) -> str:
    """Every stored session's key and values as one text (to look for a secret in)."""
    store = _redis(app)
    if store is None:
        with database(app) as session:
            rows = session.scalars(select(AuthSession))
            return "\n".join(
                repr({c.key: getattr(row, c.key) for c in AuthSession.__table__.columns})
                for row in rows
            )
    parts = []
    for key in store.client.scan_iter(match=f"{store.prefix}*"):
        kind = store.client.type(key)
        parts.append(key)
        parts.append(repr(store.client.hgetall(key) if kind == "hash" else kind))
    return "\n".join(parts)
