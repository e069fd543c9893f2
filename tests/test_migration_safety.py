"""The issue-9 migrations keep what a database already held: a clinic's crisis text becomes the
message of its crisis resources, and every flag belongs to the check-in of its own entry."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from sqlalchemy import text

from server import create_app
from server.config import database_url
from server.data.extensions import db
from tests.conftest import TEST_CONFIG
from tests.test_migrations import fresh_database_url  # noqa: F401 (a fixture)

BEFORE_CRISIS_RESOURCES = "2ecd072d2cfa"  # the snapshot backfill
SIGNALS = "ca55fb2f6bbb"


# A database of each test's own, SQLite or PostgreSQL (the fixture of the backfill tests).


@pytest.fixture
def fresh_app(fresh_database_url):  # noqa: F811 (the imported fixture, by name)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url(fresh_database_url)})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _insert(connection, table: str, **values) -> None:
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _old_rows(connection) -> dict:
    """Two clinics (one with its own crisis text), a patient, a flagged entry and its flag."""
    ids = {name: str(uuid.uuid4()) for name in ("worded", "plain", "patient", "entry", "flag")}
    now = "2026-11-01 10:00:00"
    _insert(
        connection,
        "clinic",
        id=ids["worded"],
        name="Worded",
        timezone="UTC",
        madrs_remission_max=12,
        crisis_text="Call Anna on 0800 111 222.",
        created_at=now,
    )
    _insert(
        connection,
        "clinic",
        id=ids["plain"],
        name="Plain",
        timezone="UTC",
        madrs_remission_max=12,
        created_at=now,
    )
    _insert(
        connection,
        "patient",
        id=ids["patient"],
        clinic_id=ids["worded"],
        display_name="Pat",
        timezone="UTC",
        created_at=now,
    )
    _insert(
        connection,
        "entry",
        id=ids["entry"],
        patient_id=ids["patient"],
        instrument="phq9",
        answers="[0, 0, 0, 0, 0, 0, 0, 0, 1]",
        taken_at=now,
        context="routine",
        session_explicit=False,
        total=1,
        severity="minimal",
        flags='["self_harm"]',
        imputed_items="[]",
        received_at=now,
        entered_by_id=ids["patient"],
        entered_by_role="patient",
        request_hash="0" * 64,
        voided=False,
    )
    _insert(
        connection,
        "flag",
        id=ids["flag"],
        patient_id=ids["patient"],
        entry_id=ids["entry"],
        kind="self_harm",
        opened_at=now,
        status="open",
    )
    return ids


def test_crisis_text_becomes_the_message_and_flags_join_their_entrys_check_in(fresh_app):
    with fresh_app.app_context():
        flask_migrate.upgrade(revision=BEFORE_CRISIS_RESOURCES)
        with db.engine.begin() as connection:
            ids = _old_rows(connection)

        flask_migrate.upgrade()

        with db.engine.connect() as connection:
            clinics = dict(
                connection.execute(
                    text("SELECT name, crisis_message FROM clinic WHERE crisis_line_phone IS NULL")
                ).all()
            )
            hours = connection.execute(text("SELECT DISTINCT flag_overdue_hours FROM clinic"))
            flag = connection.execute(text("SELECT checkin_id, entry_id FROM flag")).one()
        assert clinics == {"Worded": "Call Anna on 0800 111 222.", "Plain": None}
        assert hours.scalars().all() == [24]
        assert tuple(flag) == (ids["entry"], ids["entry"])


def test_downgrading_keeps_the_crisis_message_as_text(fresh_app):
    with fresh_app.app_context():
        flask_migrate.upgrade(revision=BEFORE_CRISIS_RESOURCES)
        with db.engine.begin() as connection:
            _old_rows(connection)
        flask_migrate.upgrade()

        flask_migrate.downgrade(revision=BEFORE_CRISIS_RESOURCES)

        with db.engine.connect() as connection:
            texts = dict(connection.execute(text("SELECT name, crisis_text FROM clinic")).all())
            entry_ids = connection.execute(text("SELECT entry_id FROM flag")).scalars().all()
        assert texts == {"Worded": "Call Anna on 0800 111 222.", "Plain": None}
        assert len(entry_ids) == 1 and entry_ids[0] is not None


def test_downgrading_refuses_to_lose_a_flag_that_has_no_entry_yet(fresh_app):
    with fresh_app.app_context():
        flask_migrate.upgrade(revision=BEFORE_CRISIS_RESOURCES)
        with db.engine.begin() as connection:
            ids = _old_rows(connection)
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            _insert(
                connection,
                "flag",
                id=str(uuid.uuid4()),
                patient_id=ids["patient"],
                checkin_id=str(uuid.uuid4()),
                kind="self_harm",
                opened_at="2026-11-02 10:00:00",
                status="open",
            )
            head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

        with pytest.raises(SystemExit):  # Flask-Migrate logs our RuntimeError, then exits
            flask_migrate.downgrade(revision=BEFORE_CRISIS_RESOURCES)

        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM flag")).scalar() == 2
            # Still on a revision that holds the flag: PostgreSQL rolls the whole downgrade
            # back (one transaction), so it stays at the head it started from (revisions came
            # after SIGNALS in issue 11); SQLite's are not undone, so it stops at SIGNALS.
            expected = SIGNALS if db.engine.dialect.name == "sqlite" else head
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                expected
            )
