"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server import create_app
from server.data.extensions import db
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
