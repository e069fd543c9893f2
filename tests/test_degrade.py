"""Degrade, never hang: a database that stops answering costs a request a few seconds and a
503 in the error shape, never a worker; `/healthz` answers regardless; gunicorn's own refusals
use the error shape too; SQLite keeps every acknowledged commit (synchronous=FULL)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from server import create_app
from server.data.extensions import db
from tests.conftest import TEST_CONFIG, entry_body

ROOT = Path(__file__).resolve().parent.parent
# Without the timeouts these requests would wait for ever; this only bounds the test.
GIVE_UP = 30


class SilentListener:
    """A TCP listener that accepts every connection and never says a word."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        for connection in self.held:
            connection.close()
        self.socket.close()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://tidemark@127.0.0.1:{self.port}/tidemark"


@pytest.fixture
def silent_database():
    listener = SilentListener()
    yield listener
    listener.close()


def _app_on(url: str):
    return create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "TIDEMARK_DB_CONNECT_TIMEOUT": 1}
    )


def test_a_database_that_never_answers_gives_a_503_in_the_error_shape(silent_database):
    app = _app_on(silent_database.url)
    client = app.test_client()

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(
            client.get, "/api/v1/patients", headers={"Authorization": "Bearer some-token"}
        )
        # While that request waits on the database, the liveness probe answers at once.
        assert app.test_client().get("/api/v1/healthz").status_code == 200
        response = waiting.result(timeout=GIVE_UP)

    assert response.status_code == 503
    assert response.json["code"] == 503
    assert response.json["status"] == "Service Unavailable"
    assert "database" in response.json["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"] == "application/json"


def test_readiness_says_503_and_sign_in_says_503_when_the_database_never_answers(
    silent_database,
):
    client = _app_on(silent_database.url).test_client()

    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    response = client.post(
        "/api/v1/auth/login", json={"email": "doc@example.org", "password": "x" * 12}
    )
    assert response.status_code == 503
    assert response.json["code"] == 503


def test_a_statement_past_the_timeout_is_cancelled_and_answered_503(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's; SQLite has no server to cancel")
    from sqlalchemy.exc import OperationalError

    from server.api.errors import database_unavailable

    quick = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "TIDEMARK_DB_STATEMENT_TIMEOUT": 1,
        }
    )
    with quick.app_context():
        with db.engine.connect() as connection:
            assert connection.scalar(text("SHOW statement_timeout")) == "1s"
            with pytest.raises(OperationalError) as raised:
                connection.execute(text("SELECT pg_sleep(3)"))
        db.engine.dispose()
    assert database_unavailable(raised.value)


def test_the_default_statement_timeout_is_thirty_seconds_on_postgresql(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with app.app_context():
        assert db.session.scalar(text("SHOW statement_timeout")) == "30s"


def test_a_query_fault_of_ours_stays_a_500_not_a_503(app):
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from server.api.errors import database_unavailable

    with app.app_context():
        with pytest.raises(Exception) as raised:
            db.session.execute(text("SELECT no_such_column FROM clinic"))
        db.session.rollback()
    assert isinstance(raised.value, ProgrammingError | OperationalError)
    assert not database_unavailable(raised.value)


def test_sqlite_keeps_every_acknowledged_commit(tmp_path):
    """synchronous=FULL is pinned, not left to the build's default (the tests' own database
    turns it down for speed; a deployment never does)."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db"})
    with app.app_context():
        assert db.session.scalar(text("PRAGMA synchronous")) == 2  # FULL
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        db.engine.dispose()


# ---------------------------------------------------------------- under the Procfile's gunicorn


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn_on_silent_database(silent_database, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "DATABASE_URL": silent_database.url,
        "TIDEMARK_DB_CONNECT_TIMEOUT": "1",
        "TIDEMARK_ENV": "development",
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + GIVE_UP
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except OSError:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
    yield base
    server.terminate()
    server.wait(timeout=GIVE_UP)
    log.close()


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=GIVE_UP) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_under_gunicorn_stuck_requests_get_503s_while_healthz_answers(
    gunicorn_on_silent_database,
):
    base = gunicorn_on_silent_database
    token = {"Authorization": "Bearer some-token"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        stuck = [pool.submit(_get, f"{base}/api/v1/patients", token) for _ in range(4)]
        # More requests wait on the database than the one process has threads, and still
        # the liveness probe is answered (it queues behind at most a connect timeout).
        assert _get(f"{base}/healthz")[0] == 200
        answers = [future.result(timeout=GIVE_UP) for future in stuck]

    for status, headers, body in answers:
        assert status == 503
        assert body["code"] == 503 and body["status"] == "Service Unavailable"
        assert headers["Content-Type"] == "application/json"


def test_gunicorns_own_refusal_of_an_over_long_request_line_is_in_the_error_shape(
    gunicorn_on_silent_database,
):
    status, headers, body = _get(f"{gunicorn_on_silent_database}/api/v1/{'x' * 9000}")

    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert body["code"] == 414 and body["status"] == "URI Too Long"


def test_an_entry_sent_while_the_database_never_answers_is_refused_not_lost(silent_database):
    """The PWA's outbox keeps what gets a 5xx and sends it again; the answer says so."""
    client = _app_on(silent_database.url).test_client()
    response = client.post(
        "/api/v1/patients/me/entries",
        json=entry_body(),
        headers={"Authorization": "Bearer some-token"},
    )
    assert response.status_code == 503
    assert "nothing was saved" in response.json["message"]


def test_a_redis_session_store_that_never_answers_gives_503s_and_readyz_says_so(
    app, silent_database
):
    """The same silent listener, named as the Redis session store."""
    quick = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "TIDEMARK_SESSION_STORE": f"redis://127.0.0.1:{silent_database.port}/0",
        }
    )
    from server.services.accounts import SESSION_EXPIRES, SESSION_SECRET

    client = quick.test_client()
    with client.session_transaction() as cookie:  # a browser's signed-in session cookie
        cookie["_user_id"] = "a-user-id"  # Flask-Login asks the store only with one
        cookie[SESSION_SECRET] = secrets.token_urlsafe(32)
        cookie[SESSION_EXPIRES] = int(time.time()) + 3600

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 503
    assert response.json["code"] == 503
    with quick.app_context():
        db.engine.dispose()
