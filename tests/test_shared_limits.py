"""Sign-in limits are shared by every worker (the database by default, Redis through
RATELIMIT_STORAGE_URI), and an attacker's failures never lock the owner out of a browser
that signed in before (OWASP's device cookies)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, Browser

LOGIN = "/api/v1/auth/login"
REDIS_URI = os.environ.get("TIDEMARK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent

# Another worker: its own process and app, the same database (and Redis, when configured).
WORKER = """
import json, sys
from tests.conftest import TEST_CONFIG
from server import create_app
database, storage, prefix, email, password, attempts = sys.argv[1:7]
app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database,
                  "RATELIMIT_STORAGE_URI": storage,
                  "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix} if prefix else {}})
client = app.test_client()
statuses = [client.post("/api/v1/auth/login", json={"email": email, "password": password},
                        environ_base={"REMOTE_ADDR": "10.0.0.%d" % i}).status_code
            for i in range(int(attempts))]
print(json.dumps(statuses))
"""


def _another_worker(app, storage: str, prefix: str, email: str, password: str, attempts: int):
    """Sign in `attempts` times from another process (each from its own address)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            app.config["SQLALCHEMY_DATABASE_URI"],
            storage,
            prefix,
            email,
            password,
            str(attempts),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TIDEMARK_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _redis_or_skip() -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URI, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URI} ({error}); CI runs it")


def test_failures_counted_by_another_worker_count_here_too(app, world):
    """The default (memory://) would count alone in each worker: 20 failures with two."""
    statuses = _another_worker(app, "memory://", "", "doc.x@example.org", "wrong password", 10)
    assert statuses == [401] * 10

    response = Browser(app).login("doc.x@example.org")

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_two_workers_sharing_redis_count_together(app, world):
    _redis_or_skip()
    prefix = f"tidemark-test-{uuid.uuid4().hex}"
    email = "doc.x@example.org"

    first = _another_worker(app, REDIS_URI, prefix, email, "wrong password", 6)
    second = _another_worker(app, REDIS_URI, prefix, email, "wrong password", 6)
    after = _another_worker(app, REDIS_URI, prefix, email, PASSWORD, 1)

    assert first == [401] * 6
    assert second == [401] * 4 + [429] * 2
    assert after == [429]
    # Another run (another prefix) counts from nothing: the prefix keeps test runs apart.
    assert _another_worker(app, REDIS_URI, f"{prefix}-other", email, PASSWORD, 1) == [200]


def test_a_redis_worker_keeps_its_counts_out_of_the_database(app, world):
    _redis_or_skip()
    from sqlalchemy import func, select

    from server.data.models import FailedAttempt
    from tests.conftest import database

    prefix = f"tidemark-test-{uuid.uuid4().hex}"
    _another_worker(app, REDIS_URI, prefix, "doc.x@example.org", "wrong password", 3)

    with database(app) as session:
        assert session.scalar(select(func.count(FailedAttempt.id))) == 0


# ---------------------------------------------------------------- device cookies


def _sign_in(browser: Browser, password: str, address: str, email: str = "doc.x@example.org"):
    response = browser.post(
        LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    if response.status_code == 200:
        browser.csrf_token = response.json["csrf_token"]
    return response


def _attack(app, failures: int = 12, email: str = "doc.x@example.org") -> list[int]:
    attacker = Browser(app)
    return [
        _sign_in(attacker, f"guess {i}", f"10.6.6.{i}", email).status_code for i in range(failures)
    ]


def test_the_owner_signs_in_at_once_from_a_known_browser_after_an_attack(app, world):
    owner = Browser(app)
    assert _sign_in(owner, PASSWORD, "10.0.0.7").status_code == 200
    assert owner.post("/api/v1/auth/logout").status_code == 204

    statuses = _attack(app)

    assert statuses == [401] * 10 + [429] * 2
    response = _sign_in(owner, PASSWORD, "10.0.0.7")
    assert response.status_code == 200, response.json
    assert response.json["user"]["email"] == "doc.x@example.org"


def test_an_unknown_browser_still_meets_the_account_limit(app, world):
    _attack(app)

    response = _sign_in(Browser(app), PASSWORD, "10.0.0.8")

    assert response.status_code == 429


def test_a_forged_device_cookie_is_an_unknown_browser(app, world):
    _attack(app)
    forger = Browser(app)
    forger.client.set_cookie(
        "tidemark_device", "eyJ1IjoiYWJjIiwibiI6Inh5eiJ9.forged.signature", path="/api/v1/auth"
    )

    assert _sign_in(forger, PASSWORD, "10.0.0.9").status_code == 429


def test_a_device_cookie_of_another_account_does_not_help(app, world):
    browser = Browser(app)
    assert _sign_in(browser, PASSWORD, "10.0.0.7", email="admin.x@example.org").status_code == 200
    _attack(app)

    assert _sign_in(browser, PASSWORD, "10.0.0.7").status_code == 429


def test_failures_from_a_known_browser_lock_only_that_browser(app, world):
    owner = Browser(app)
    assert _sign_in(owner, PASSWORD, "10.0.0.7").status_code == 200
    statuses = [_sign_in(owner, "wrong", "10.0.0.7").status_code for _ in range(11)]

    assert statuses == [401] * 10 + [429]
    assert _sign_in(owner, PASSWORD, "10.0.0.7").status_code == 429
    # The account counter was not touched: another browser signs in.
    assert _sign_in(Browser(app), PASSWORD, "10.0.0.8").status_code == 200


def test_the_device_cookie_is_http_only_and_scoped_to_sign_in(app, world):
    response = _sign_in(Browser(app), PASSWORD, "10.0.0.7")

    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "tidemark_device=" in c]
    assert "HttpOnly" in cookie
    assert "Path=/api/v1/auth" in cookie
    assert "SameSite=Strict" in cookie
