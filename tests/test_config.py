"""Configuration comes from the environment, with safe defaults and a refusal to run unsafe."""

import pytest
from sqlalchemy import text

from server import ConfigurationError, create_app
from server.config import DEVELOPMENT_SECRET_KEY, database_url
from server.extensions import db


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("postgres://u:p@host:5432/db", "postgresql+psycopg://u:p@host:5432/db"),
        ("postgresql://u@host/db", "postgresql+psycopg://u@host/db"),
        ("postgresql+psycopg://u@host/db", "postgresql+psycopg://u@host/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_always_go_through_psycopg_3(raw, expected):
    assert database_url(raw) == expected


def test_the_default_database_is_an_sqlite_file_under_instance():
    url = database_url(None)
    assert url.startswith("sqlite:///") and url.endswith("instance/tidemark.db")


@pytest.mark.parametrize("key", [None, "", DEVELOPMENT_SECRET_KEY, "short"])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, key):
    monkeypatch.setenv("TIDEMARK_ENV", "production")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_a_real_secret_key_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("TIDEMARK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_mode_runs_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("TIDEMARK_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app()
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_sqlite_runs_with_wal_and_foreign_keys(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
