"""Tidemark: measuring how a patient's depression changes around treatment."""

from __future__ import annotations

import logging

import click
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, web
from .api import errors, register_blueprints
from .config import DEVELOPMENT_SECRET_KEY, Config, from_environment
from .data import snapshots
from .data.extensions import compress, csrf, db, limiter, login_manager, migrate
from .services import auth_sessions, failures
from .web import auth


class ConfigurationError(RuntimeError):
    """The app would be unsafe to run with this configuration."""


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app: config → extensions → blueprints → errors."""
    app = Flask(__name__, static_folder=None, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.update(from_environment())
    app.config.update(config or {})
    _check_secret_key(app)
    _check_session_store(app)
    if app.config["TIDEMARK_PROXY_COUNT"]:
        count = app.config["TIDEMARK_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    _bound_database_waits(app)
    db.init_app(app)
    snapshots.keep_in_step(db.session)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    failures.init_app(app)
    auth_sessions.init_app(app)
    app.config.setdefault("COMPRESS_MIMETYPES", web.COMPRESSED_MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    compress.init_app(app)

    app.before_request(web.body_limit)  # first: the CSRF check may read the body
    auth.register(app)
    web.register(app)
    register_blueprints(app)
    errors.register(app)
    cli.register(app)
    logging.getLogger("server").setLevel(logging.INFO)
    return app


def _bound_database_waits(app: Flask) -> None:
    """Every wait on the database has an end, so a database that stops answering costs a
    request a few seconds and a 503 (api/errors.py), never a worker.

    PostgreSQL: connecting (the whole handshake, also against a listener that accepts and
    never speaks) gives up after TIDEMARK_DB_CONNECT_TIMEOUT seconds, and the server cancels
    any statement running past TIDEMARK_DB_STATEMENT_TIMEOUT (0: no limit). A request waits
    at most as long for a pooled connection. SQLite: a writer waits 30 s for the one lock.
    """
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args", {}))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        connect_args.setdefault("timeout", 30)
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        connect_args.setdefault("connect_timeout", app.config["TIDEMARK_DB_CONNECT_TIMEOUT"])
        statement_ms = app.config["TIDEMARK_DB_STATEMENT_TIMEOUT"] * 1000
        connect_args.setdefault("options", f"-c statement_timeout={statement_ms}")
        options.setdefault("pool_timeout", app.config["TIDEMARK_DB_CONNECT_TIMEOUT"])
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _serving() -> bool:
    """False for `flask` tasks other than `run` (migrations, create-clinician): they sign
    nothing, so they need no secret key; a server (gunicorn, `flask run`) always does."""
    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"


def _check_secret_key(app: Flask) -> None:
    if app.config["DEVELOPMENT"] or not _serving():
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == DEVELOPMENT_SECRET_KEY or len(key) < 32:
        raise ConfigurationError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or set TIDEMARK_ENV=development for local use."
        )


def _check_session_store(app: Flask) -> None:
    setting = app.config.get("TIDEMARK_SESSION_STORE") or auth_sessions.DATABASE
    if not auth_sessions.is_known_store(setting):
        raise ConfigurationError(
            "TIDEMARK_SESSION_STORE must be 'database' (the default) or a Redis URL "
            "(redis://host:6379/0, rediss://... or unix://...)."
        )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: write-ahead logging (readers never block the writer), enforced foreign keys,
    and synchronous=FULL pinned (an acknowledged entry survives a power cut; in WAL mode the
    build's default may be NORMAL, which can lose the last commits)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
