"""Whether the process can serve: the readiness probe's check of the database."""

from __future__ import annotations

from sqlalchemy import text

from ..data.extensions import db
from ..domain.errors import Unavailable
from . import auth_sessions


def check_database() -> None:
    """Raise Unavailable unless the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means not ready
        db.session.rollback()
        raise Unavailable("The database is not answering.") from None


def check_session_store() -> None:
    """Raise Unavailable unless the session store answers (only Redis can fail apart from
    the database)."""
    store = auth_sessions.store()
    client = getattr(store, "client", None)
    if client is None:
        return
    try:
        client.ping()
    except Exception:  # any Redis failure means not ready
        raise Unavailable("The session store (Redis) is not answering.") from None
