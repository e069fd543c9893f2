"""Calling services directly: inside a request context, as a signed-in user."""

from __future__ import annotations

from contextlib import contextmanager

from flask_login import login_user
from sqlalchemy import event

from server.data.extensions import db
from server.data.models import User


@contextmanager
def signed_in(app, user: User | None):
    """A request context with `user` signed in (or nobody), and its own database session."""
    with app.test_request_context():
        try:
            if user is not None:
                login_user(db.session.get(User, user.id))
            yield db.session
        finally:
            db.session.remove()


@contextmanager
def counted_statements():
    """The SQL statements run inside the block (call within an application context)."""
    statements: list[str] = []

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
