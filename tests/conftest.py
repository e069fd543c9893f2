"""Fixtures: one app and one migrated database per test process, emptied after every test.

TIDEMARK_TEST_DATABASE_URL picks the database (PostgreSQL in CI's second pass); otherwise a
fresh SQLite file. Under pytest-xdist every worker has a database of its own: a SQLite file in
the worker's temporary directory, or on PostgreSQL the base name with the worker's suffix
(`test` -> `test_gw0`, `test_gw1`, ...), created when missing. Personas and small factories
build the people a test needs.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from hypothesis import settings
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from server import create_app
from server.data.extensions import db, limiter
from server.data.models import Clinic, Patient, User
from server.services.accounts import hash_password

PASSWORD = "a long enough password"

# No per-example deadline: a loaded machine is slow, not wrong (speed is `make bench`'s).
settings.register_profile("tidemark", deadline=None)
settings.load_profile("tidemark")

TEST_CONFIG = {
    "DEVELOPMENT": True,
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-to-pass",
    "SESSION_COOKIE_SECURE": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8,
    "ARGON2_PARALLELISM": 1,
}


def xdist_worker() -> str:
    """pytest-xdist's name for this process ("gw0", "gw1", ...), or "" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def test_database_url(tmp_path_factory) -> str:
    """This process's own database: under xdist, one per worker."""
    url = os.environ.get("TIDEMARK_TEST_DATABASE_URL")
    if not url:
        # xdist already gives each worker a temporary directory of its own.
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    worker = xdist_worker()
    if not worker:
        return url
    if url.startswith("sqlite"):
        return _sqlite_file_of_worker(url, worker)
    return _postgres_database_of_worker(url, worker)


def _sqlite_file_of_worker(url: str, worker: str) -> str:
    """`name_<worker>.db` beside the file the URL names (an in-memory database stays one)."""
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database)
    return parsed.set(
        database=str(path.with_name(f"{path.stem}_{worker}{path.suffix}"))
    ).render_as_string()


def _postgres_database_of_worker(url: str, worker: str) -> str:
    """`<base>_<worker>` beside the base database, created if it does not exist yet."""
    from server.config import database_url

    base = make_url(database_url(url))
    name = f"{base.database}_{worker}"
    # The base database exists in CI; `postgres` is the fallback maintenance database.
    for maintenance in (base.database, "postgres"):
        engine = create_engine(
            base.set(database=maintenance), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            with engine.connect() as connection:
                if not _database_exists(connection, name):
                    try:
                        connection.execute(text(f'CREATE DATABASE "{name}"'))
                    except ProgrammingError:  # another run created it a moment ago
                        if not _database_exists(connection, name):
                            raise
            break
        except OperationalError:
            if maintenance == "postgres":
                raise
        finally:
            engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _database_exists(connection, name: str) -> bool:
    query = text("SELECT 1 FROM pg_database WHERE datname = :name")
    return connection.scalar(query, {"name": name}) is not None


def _fast_commits(engine) -> None:
    """Commit without waiting for the disk: test data need not survive a power cut.

    An fsync costs about 2 ms here, and the suite commits tens of thousands of times.
    """

    @event.listens_for(engine, "connect")
    def _without_fsync(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: no fsync per commit
            cursor.close()
        else:
            cursor.execute("SET synchronous_commit = off")
            cursor.close()
            dbapi_connection.commit()  # a SET in a transaction that is rolled back is undone


def _empty_database(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from server.config import database_url

    url = database_url(test_database_url(tmp_path_factory))
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        _fast_commits(db.engine)
    _empty_database(application)
    with application.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    yield application
    # Closed here, not left to the garbage collector (a ResourceWarning on PostgreSQL).
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_tables(app) -> None:
    """Delete every row, children before parents, in one transaction.

    Measured faster than asking which tables have rows first, and far faster than TRUNCATE
    on PostgreSQL (about 180 ms); on PostgreSQL the DELETEs go in one round trip.
    """
    tables = list(reversed(db.metadata.sorted_tables))
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
            else:
                for table in tables:
                    connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean(app):
    """Every test starts with empty tables and fresh rate-limit counters."""
    limiter.reset()
    yield
    empty_tables(app)
    limiter.reset()


# ---------------------------------------------------------------- session stores

# The Redis the session tests use: a database number of its own, and under it a key prefix
# per xdist worker, so that one worker's clean-up never touches another's sessions.
TEST_SESSION_REDIS_URL = os.environ.get(
    "TIDEMARK_TEST_SESSION_REDIS_URL", "redis://127.0.0.1:6379/15"
)


def session_key_prefix() -> str:
    return f"tidemark-test-{xdist_worker() or 'main'}:"


@pytest.fixture(scope="session")
def redis_sessions():
    """A Redis session store for the tests, or a skip saying why there is none."""
    redis = pytest.importorskip("redis")
    from server.services.auth_sessions import RedisSessions

    store = RedisSessions(TEST_SESSION_REDIS_URL, session_key_prefix())
    try:
        store.client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(
            f"Redis is not reachable at {TEST_SESSION_REDIS_URL} ({error}): the Redis session "
            "store is not tested here (CI runs Redis at 127.0.0.1:6379)"
        )
    return store


@pytest.fixture(params=["database", "redis"])
def each_session_store(request, app):
    """Run the test once with sessions in the database, once in Redis (emptied before and
    after): `pytestmark = pytest.mark.usefixtures("each_session_store")`."""
    from server.services.auth_sessions import EXTENSION

    if request.param == "database":
        yield app.extensions[EXTENSION]
        return
    store = request.getfixturevalue("redis_sessions")
    store.clear()
    previous = app.extensions[EXTENSION]
    app.extensions[EXTENSION] = store
    try:
        yield store
    finally:
        app.extensions[EXTENSION] = previous
        store.clear()


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table, taken to put the database back exactly as it was."""

    rows: tuple


def take_snapshot(app) -> Snapshot:
    """The rows of every table as they are now."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            return Snapshot(
                tuple(
                    (table, [row._asdict() for row in connection.execute(table.select())])
                    for table in db.metadata.sorted_tables
                )
            )


def restore_snapshot(app, snapshot: Snapshot) -> None:
    """Empty every table, then insert the snapshot's rows, parents before children."""
    empty_tables(app)
    with app.app_context(), db.engine.begin() as connection:
        for table, rows in snapshot.rows:
            if rows:
                connection.execute(table.insert(), rows)


@contextmanager
def database(app):
    """A short application context for reading or writing the database directly.

    Never hold one while making requests: a request would share its `g` and its session.
    """
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


class _Verbs:
    """get/post/put/patch/delete in terms of the subclass's request()."""

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


class Browser(_Verbs):
    """A test client that behaves like the PWA: cookies, and X-CSRF-Token on unsafe requests."""

    def __init__(self, app, csrf: bool = True):
        self.client = app.test_client()
        self.csrf_token: str | None = None
        self.send_csrf = csrf
        self.user: dict | None = None

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/api/v1/auth/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.csrf_token = response.json["csrf_token"]
            self.user = response.json["user"]
        return response

    def request(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if method in {"POST", "PUT", "PATCH", "DELETE"} and self.send_csrf and self.csrf_token:
            headers.setdefault("X-CSRF-Token", self.csrf_token)
        return self.client.open(path, method=method, headers=headers, **kwargs)


class TokenClient(_Verbs):
    """A script's client: a bearer token, no cookies, no CSRF."""

    def __init__(self, app, token: str):
        self.client = app.test_client(use_cookies=False)
        self.token = token

    def request(self, method, path, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)


# ---------------------------------------------------------------- factories


READY_CRISIS = {
    "emergency_number": "112",
    "crisis_line": {"name": "Test Crisis Line", "phone": "0800 111 0111", "sms": None},
    "clinic_phone": "+49 30 1234567",
    "clinic_hours": None,
    "message": None,
}


def make_clinic(
    name: str | None = None, timezone: str = "Europe/Berlin", crisis_ready: bool = True
) -> Clinic:
    """A clinic; with its crisis resources set unless `crisis_ready=False` (no patients yet)."""
    clinic = Clinic(name=name or f"Clinic {uuid.uuid4().hex[:8]}", timezone=timezone)
    if crisis_ready:
        clinic.crisis = READY_CRISIS
    db.session.add(clinic)
    db.session.commit()
    return clinic


def make_clinician(clinic: Clinic, email: str | None = None, admin: bool = False) -> User:
    user = User(
        email=email or f"clinician-{uuid.uuid4().hex[:8]}@example.org",
        password_hash=hash_password(PASSWORD),
        role="clinician",
        is_admin=admin,
        display_name="Dr Test",
        clinic_id=clinic.id,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_patient(
    clinic: Clinic,
    name: str = "Pat Test",
    enrolled: bool = True,
    email: str | None = None,
    timezone: str = "Europe/Berlin",
) -> Patient:
    patient = Patient(clinic_id=clinic.id, display_name=name, timezone=timezone)
    db.session.add(patient)
    db.session.flush()
    if enrolled:
        db.session.add(
            User(
                email=email or f"patient-{uuid.uuid4().hex[:8]}@example.org",
                password_hash=hash_password(PASSWORD),
                role="patient",
                display_name=name,
                clinic_id=clinic.id,
                patient_id=patient.id,
            )
        )
    db.session.commit()
    return patient


def entry_body(instrument: str = "phq9", answers=None, **overrides) -> dict:
    """A valid entry body; `answers` defaults to a moderate PHQ-9 with item 9 at 0."""
    if answers is None:
        answers = {"phq9": [2, 2, 1, 1, 2, 1, 1, 1, 0], "gad7": [1] * 7, "madrs": [2] * 10}[
            instrument
        ]
    body = {
        "id": str(uuid.uuid4()),
        "instrument": instrument,
        "answers": answers,
        "taken_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "context": "routine",
    }
    body.update(overrides)
    return body


# ---------------------------------------------------------------- personas


@dataclass
class World:
    """Two clinics: X with two patients, a clinician and an admin; Y with a clinician."""

    app: object
    clinic_x: Clinic
    clinic_y: Clinic
    patient_a: Patient
    patient_b: Patient
    clinician_x: User
    admin_x: User
    clinician_y: User

    def browser(self, user: User | None = None, csrf: bool = True) -> Browser:
        browser = Browser(self.app, csrf=csrf)
        if user is not None:
            assert browser.login(user.email).status_code == 200
        return browser

    def account_of(self, patient: Patient) -> User:
        with database(self.app) as session:
            return session.scalar(db.select(User).where(User.patient_id == patient.id))

    def as_patient_a(self) -> Browser:
        return self.browser(self.account_of(self.patient_a))

    def as_patient_b(self) -> Browser:
        return self.browser(self.account_of(self.patient_b))

    def as_clinician_x(self) -> Browser:
        return self.browser(self.clinician_x)

    def as_admin_x(self) -> Browser:
        return self.browser(self.admin_x)

    def as_clinician_y(self) -> Browser:
        return self.browser(self.clinician_y)

    def token_for(self, user: User, days: int = 30) -> str:
        browser = self.browser(user)
        response = browser.post(
            "/api/v1/auth/tokens", json={"name": "script", "expires_in_days": days}
        )
        assert response.status_code == 201, response.json
        return response.json["token"]


def make_world(app) -> World:
    """Clinics X and Y and their people, written straight to the database (no requests)."""
    with database(app):
        clinic_x = make_clinic("Clinic X")
        clinic_y = make_clinic("Clinic Y")
        return World(
            app=app,
            clinic_x=clinic_x,
            clinic_y=clinic_y,
            patient_a=make_patient(clinic_x, "Alice A", email="alice@example.org"),
            patient_b=make_patient(clinic_x, "Bob B", email="bob@example.org"),
            clinician_x=make_clinician(clinic_x, "doc.x@example.org"),
            admin_x=make_clinician(clinic_x, "admin.x@example.org", admin=True),
            clinician_y=make_clinician(clinic_y, "doc.y@example.org"),
        )


@pytest.fixture
def world(app) -> World:
    return make_world(app)


# ---------------------------------------------------------------- access-matrix helpers


@dataclass(frozen=True)
class Actor:
    """Who asks, and about whom: patient "a", patient "b" or an "unknown" id."""

    target: str
    connect: object  # world -> client


def new_token(world: World, user: User) -> dict:
    response = world.browser(user).post(
        "/api/v1/auth/tokens", json={"name": "matrix", "expires_in_days": 30}
    )
    assert response.status_code == 201, response.json
    return response.json


def revoked_token(world: World) -> TokenClient:
    """Clinician X's client with a token that was revoked."""
    browser = world.as_clinician_x()
    created = browser.post("/api/v1/auth/tokens", json={"name": "old", "expires_in_days": 30})
    assert browser.delete(f"/api/v1/auth/tokens/{created.json['id']}").status_code == 204
    return TokenClient(world.app, created.json["token"])


def expired_token(world: World) -> TokenClient:
    """Clinician X's client with a token that expired a minute ago."""
    from server.data.models import ApiToken

    created = new_token(world, world.clinician_x)
    with database(world.app) as session:
        session.get(ApiToken, created["id"]).expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
    return TokenClient(world.app, created["token"])


def assert_bare_refusal(response, status: int, secrets) -> None:
    """A refusal is the bare error shape, and none of `secrets` appears in it."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) >= {"code", "status"}
    assert set(body) <= {"code", "status", "message", "errors"}
    assert body["code"] == status
    text = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in text
