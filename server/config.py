"""Settings read from the environment, with safe defaults for development."""

import os
from pathlib import Path

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-deploy"
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL so that PostgreSQL always goes through psycopg 3."""
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'tidemark.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Build the configuration from environment variables."""
    env = os.environ.get("TIDEMARK_ENV", "production").strip().lower()
    development = env in {"development", "dev", "test", "testing"}
    return {
        "TIDEMARK_ENV": env,
        "DEVELOPMENT": development,
        "SECRET_KEY": os.environ.get("SECRET_KEY")
        or (DEVELOPMENT_SECRET_KEY if development else None),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        "SESSION_COOKIE_SECURE": _flag("TIDEMARK_COOKIE_SECURE", not development),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "TIDEMARK_PUBLIC_URL": os.environ.get("TIDEMARK_PUBLIC_URL", "").rstrip("/"),
        "TIDEMARK_PROXY_COUNT": int(os.environ.get("TIDEMARK_PROXY_COUNT", "0")),
        "TIDEMARK_ENROLLMENT_HOURS": int(os.environ.get("TIDEMARK_ENROLLMENT_HOURS", "72")),
        "TIDEMARK_DEFAULT_TIMEZONE": os.environ.get("TIDEMARK_DEFAULT_TIMEZONE", "UTC"),
        # Passkeys (WebAuthn): the relying party's id and the origin browsers sign for. Empty:
        # from TIDEMARK_PUBLIC_URL, else from the request's own host.
        "TIDEMARK_PASSKEY_RP_ID": os.environ.get("TIDEMARK_PASSKEY_RP_ID", "").strip(),
        "TIDEMARK_PASSKEY_ORIGIN": os.environ.get("TIDEMARK_PASSKEY_ORIGIN", "").rstrip("/"),
        "TIDEMARK_PATIENT_SESSION_HOURS": int(
            os.environ.get("TIDEMARK_PATIENT_SESSION_HOURS", str(30 * 24))
        ),
        "TIDEMARK_CLINICIAN_SESSION_HOURS": int(
            os.environ.get("TIDEMARK_CLINICIAN_SESSION_HOURS", "12")
        ),
        "TIDEMARK_CLINICIAN_IDLE_MINUTES": int(
            os.environ.get("TIDEMARK_CLINICIAN_IDLE_MINUTES", "30")
        ),
        # A database that does not answer is given up on (a 503), never waited on for ever.
        "TIDEMARK_DB_CONNECT_TIMEOUT": int(os.environ.get("TIDEMARK_DB_CONNECT_TIMEOUT", "5")),
        "TIDEMARK_DB_STATEMENT_TIMEOUT": int(os.environ.get("TIDEMARK_DB_STATEMENT_TIMEOUT", "30")),
        # The largest import body: a tidemark.export document is read whole into memory.
        "IMPORT_MAX_CONTENT_LENGTH": int(os.environ.get("TIDEMARK_IMPORT_MAX_MB", "50")) * 2**20,
        # Where signed-in sessions live: "database" (the default: the auth_session table) or
        # a Redis URL (redis://host:6379/0, rediss://..., unix://...), shared by every worker
        # and instance that names it. See services/auth_sessions.py.
        "TIDEMARK_SESSION_STORE": os.environ.get("TIDEMARK_SESSION_STORE", "").strip()
        or "database",
        # Web push reminders: the VAPID private key (PEM or base64url; unset: generated once
        # and kept in the database), the contact push services see (`sub`, a mailto: or
        # https: URL), and the push services' hosts endpoints may name (empty: the default).
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY", "").strip(),
        "TIDEMARK_VAPID_SUBJECT": os.environ.get("TIDEMARK_VAPID_SUBJECT", "").strip(),
        "TIDEMARK_PUSH_HOSTS": os.environ.get("TIDEMARK_PUSH_HOSTS", ""),
    }


class Config:
    """Fixed settings that do not depend on the deployment."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "tidemark_session"
    # The cookie only carries a random session id; the server's session row decides how long
    # it lives (TIDEMARK_*_SESSION_HOURS). The cookie expires with that row and is never
    # re-issued with a later expiry; this is only the signature's outer limit.
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 31
    SESSION_REFRESH_EACH_REQUEST = False
    # With TIDEMARK_SESSION_STORE=redis://...: every key of ours starts with this.
    TIDEMARK_SESSION_KEY_PREFIX = "tidemark:"
    MAX_CONTENT_LENGTH = 64 * 1024
    IMPORT_MAX_CONTENT_LENGTH = 50 * 1024 * 1024

    # The CSRF token lives as long as the session; it is checked by our own hook, which
    # skips bearer-token requests (see auth.py), so Flask-WTF's automatic check is off.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_SSL_STRICT = False

    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    LOGIN_FAILURES_PER_ACCOUNT = "10 per 15 minutes"
    # A browser with a device cookie for the account counts alone (OWASP device cookies).
    LOGIN_FAILURES_PER_DEVICE = "10 per 15 minutes"
    DEVICE_COOKIE_NAME = "tidemark_device"
    DEVICE_COOKIE_DAYS = 365
    LOGIN_FAILURES_PER_ADDRESS = "50 per 15 minutes"
    ENROLL_FAILURES_PER_ADDRESS = "20 per 15 minutes"
    # Passkey challenges are single-use and short-lived; each one handed out is a row, so an
    # address may ask for only so many.
    PASSKEY_CHALLENGE_SECONDS = 300
    PASSKEY_CHALLENGES_PER_ADDRESS = "100 per 15 minutes"

    # argon2id with RFC 9106's second recommended option (the low-memory one: 3 passes over
    # 64 MiB, 4 lanes), which is also argon2-cffi's default. Tests lower them for speed.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    # Web push: how many push services are asked at once in a sending pass, and how long each
    # may take to answer.
    PUSH_WORKERS = 8
    PUSH_TIMEOUT_SECONDS = 10

    API_TITLE = "Tidemark"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
