"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text

from server import create_app
from server.config import database_url
from server.data.extensions import db
from server.data.snapshots import refresh_snapshots
from server.domain import outcomes
from tests.conftest import TEST_CONFIG


def schema_differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def test_the_migrated_test_database_matches_the_models(app):
    # The session's database (SQLite, or PostgreSQL in CI) was built by the migrations alone.
    with app.app_context():
        assert schema_differences(db.engine) == []


def test_a_fresh_sqlite_database_migrates_up_and_back_down(tmp_path):
    fresh = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}"}
    )
    with fresh.app_context():
        flask_migrate.upgrade()
        assert schema_differences(db.engine) == []
        assert "entry" in inspect(db.engine).get_table_names()
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- the snapshot backfill

BEFORE_BACKFILL = "00f31f866d50"  # the head before outcome snapshots were backfilled


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request, tmp_path):
    """A database of this test's own: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'backfill.db'}"
        return
    configured = os.environ.get("TIDEMARK_TEST_DATABASE_URL", "")
    if not configured.startswith("postgres"):
        pytest.skip("PostgreSQL only when TIDEMARK_TEST_DATABASE_URL names one")
    server = make_url(database_url(configured))
    name = f"tidemark_backfill_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _insert(connection, table: str, **values) -> None:
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _when(connection, days_ago: float):
    """A time as the app stores it: aware UTC, or on SQLite the naive text of UTC."""
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    if connection.dialect.name == "sqlite":
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def _entry(connection, patient_id, instrument, answers, total, severity, days_ago, **fields):
    values = {
        "id": str(uuid.uuid4()),
        "patient_id": patient_id,
        "instrument": instrument,
        "answers": json.dumps(answers),
        "taken_at": _when(connection, days_ago),
        "context": "routine",
        "session_explicit": False,
        "total": total,
        "severity": severity,
        "flags": "[]",
        "imputed_items": "[]",
        "received_at": _when(connection, days_ago),
        "entered_by_id": patient_id,
        "entered_by_role": "clinician",
        "request_hash": "0" * 64,
        "voided": False,
        **fields,
    }
    _insert(connection, "entry", **values)
    return values["id"]


def _snapshots(connection) -> dict:
    rows = connection.execute(text("SELECT * FROM outcome_snapshot")).mappings()
    return {(row["patient_id"], row["instrument"]): dict(row) for row in rows}


def test_upgrading_fills_the_snapshots_of_patients_who_had_entries_before(fresh_database_url):
    fresh = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_database_url})
    clinic_id, alice, bob = (str(uuid.uuid4()) for _ in range(3))
    with fresh.app_context():
        flask_migrate.upgrade(revision=BEFORE_BACKFILL)
        with db.engine.begin() as connection:
            now = _when(connection, 0)
            _insert(
                connection,
                "clinic",
                id=clinic_id,
                name="Old Clinic",
                timezone="UTC",
                madrs_remission_max=10,
                created_at=now,
            )
            for patient_id, name in ((alice, "Alice Old"), (bob, "Bob Never")):
                _insert(
                    connection,
                    "patient",
                    id=patient_id,
                    clinic_id=clinic_id,
                    display_name=name,
                    timezone="UTC",
                    created_at=now,
                )
            _insert(
                connection,
                "user_account",
                id=str(uuid.uuid4()),
                email="alice.old@example.org",
                password_hash="not a real hash",
                role="patient",
                is_admin=False,
                display_name="Alice Old",
                clinic_id=clinic_id,
                patient_id=alice,
                active=True,
                created_at=now,
            )
            baseline = _entry(
                connection,
                alice,
                "phq9",
                [3, 3, 2, 2, 2, 2, 2, 2, 0],
                18,
                "moderately severe",
                30,
                context="baseline",
            )
            latest = _entry(connection, alice, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0], 8, "mild", 2)
            _entry(
                connection, alice, "phq9", [0] * 9, 0, "minimal", 1, voided=True, void_reason="x"
            )
            _entry(connection, alice, "madrs", [3] * 10, 30, "moderate", 30)
            _entry(connection, alice, "madrs", [1] * 9 + [2], 11, "mild", 2)
            assert _snapshots(connection) == {}

        flask_migrate.upgrade()

        with db.engine.connect() as connection:
            backfilled = _snapshots(connection)
        assert set(backfilled) == {(alice, "phq9"), (alice, "madrs")}  # none for Bob
        phq9, madrs = backfilled[(alice, "phq9")], backfilled[(alice, "madrs")]
        assert (phq9["entry_count"], phq9["baseline_rule"]) == (2, outcomes.BASELINE_CONTEXT)
        assert (phq9["baseline_entry_id"], phq9["latest_entry_id"]) == (baseline, latest)
        assert (phq9["baseline_total"], phq9["latest_total"], phq9["change"]) == (18, 8, 10)
        assert bool(phq9["response"]) is True and bool(phq9["remission"]) is False
        assert madrs["change"] == 19
        # The panel's trend: both PHQ-9 scores, oldest first, the voided one left out.
        recent = phq9["recent"]  # JSON text on SQLite
        recent = json.loads(recent) if isinstance(recent, str) else recent
        assert [point["total"] for point in recent] == [18, 8]
        assert bool(madrs["remission"]) is False  # 11 is above the clinic's cut-off of 10

        # The app's own recompute agrees with the backfill to the last column.
        refresh_snapshots(alice, db.session)
        db.session.flush()
        assert _snapshots(db.session.connection()) == backfilled
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
