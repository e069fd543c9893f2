"""Whether the process can serve: the readiness probe's check of the database."""

from __future__ import annotations

from sqlalchemy import text

from ..data.extensions import db
from ..domain.errors import Unavailable


def check_database() -> None:
    """Raise Unavailable unless the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means not ready
        db.session.rollback()
        raise Unavailable("The database is not answering.") from None
