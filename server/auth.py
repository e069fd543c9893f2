"""Who is asking: session cookies (the PWA) or bearer tokens (scripts), and CSRF for cookies."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, g, request
from flask_login import current_user
from flask_smorest import abort

from .extensions import csrf, db, login_manager
from .models import ApiToken, User, utcnow
from .web import UNSAFE_METHODS

TOKEN_PREFIX = "tmk_"
# CSRF is not asked of requests that create a session rather than use one.
CSRF_EXEMPT_ENDPOINTS = {"auth.login", "auth.enroll"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password; with no user, hash anyway so that timing does not reveal the account."""
    hasher = _hasher()
    if user is None:
        hasher.hash(password)
        return False
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@login_manager.user_loader
def load_user_from_session(user_id: str) -> User | None:
    if request.headers.get("Authorization"):
        return None  # an Authorization header always decides, never a cookie beside it
    user = db.session.get(User, user_id)
    if user is not None and user.active:
        g.auth_via = "session"
        return user
    return None


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = db.session.scalar(
        db.select(ApiToken).where(ApiToken.token_hash == sha256(secret.strip()))
    )
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if not token.user.active or not token.user.is_clinician:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = utcnow()
        db.session.commit()
    g.auth_via = "token"
    g.api_token_id = token.id
    return token.user


@login_manager.unauthorized_handler
def unauthorized():
    abort(401, message="Sign in first (or the token is expired or revoked).")


def check_csrf() -> None:
    """Every unsafe request made with the session cookie must carry X-CSRF-Token."""
    if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    if request.routing_exception is not None:
        return
    if current_user.is_authenticated and g.get("auth_via") == "session":
        csrf.protect()


def signed_in_via_token() -> bool:
    return g.get("auth_via") == "token"


def register(app: Flask) -> None:
    login_manager.session_protection = "basic"
    app.before_request(check_csrf)
