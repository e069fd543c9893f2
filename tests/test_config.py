"""Configuration comes from the environment, with safe defaults and a refusal to run unsafe."""

import pytest
from sqlalchemy import text

from server import ConfigurationError, create_app
from server.config import DEVELOPMENT_SECRET_KEY, database_url
from server.data.extensions import db


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


def _flask(tmp_path, *args, timeout=60):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "TIDEMARK_ENV", "DATABASE_URL"}
    }
    env.update(TIDEMARK_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    flask = Path(sys.executable).with_name("flask")
    return subprocess.run(
        [str(flask), "--app", "server", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_command_line_tasks_run_in_production_without_a_secret_key(tmp_path):
    migrated = _flask(tmp_path, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    hint = _flask(tmp_path, "first-run-hint")
    assert "create-clinician" in hint.stdout


def test_the_development_server_refuses_to_serve_in_production_without_a_secret_key(tmp_path):
    served = _flask(tmp_path, "run", "--port", "5999", timeout=60)
    assert served.returncode != 0
    assert "SECRET_KEY" in served.stderr


def test_sessions_live_in_the_database_unless_a_redis_url_is_configured(monkeypatch):
    from server.services.auth_sessions import EXTENSION, DatabaseSessions, RedisSessions

    monkeypatch.setenv("TIDEMARK_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("TIDEMARK_SESSION_STORE", raising=False)
    assert isinstance(create_app().extensions[EXTENSION], DatabaseSessions)

    monkeypatch.setenv("TIDEMARK_SESSION_STORE", "redis://127.0.0.1:6379/15")
    app = create_app()
    assert app.config["TIDEMARK_SESSION_STORE"] == "redis://127.0.0.1:6379/15"
    assert isinstance(app.extensions[EXTENSION], RedisSessions)


@pytest.mark.parametrize("setting", ["memcached://host", "redis", "Database"])
def test_an_unknown_session_store_refuses_to_start(monkeypatch, setting):
    monkeypatch.setenv("TIDEMARK_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("TIDEMARK_SESSION_STORE", setting)
    with pytest.raises(ConfigurationError, match="TIDEMARK_SESSION_STORE"):
        create_app()
