"""Who is asking: session cookies (the PWA) or bearer tokens (scripts), and CSRF for cookies."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from .. import access
from ..data.extensions import csrf, db, login_manager
from ..data.models import ApiToken, User, utcnow
from ..domain.errors import Forbidden, NotSignedIn
from ..services import auth_sessions
from ..services.accounts import SESSION_EXPIRES, SESSION_SECRET, sha256
from . import IMPORT_PATH, UNSAFE_METHODS

# CSRF is not asked of requests that create a session rather than use one.
CSRF_EXEMPT_ENDPOINTS = {
    "auth.login",
    "auth.enroll",
    "auth.reset",
    "passkeys.passkey_login_options",
    "passkeys.passkey_login",
}


class BoundedCookieSession(SecureCookieSessionInterface):
    """The signed cookie expires with its server-side session, never later: re-issued, it
    keeps the same expiry, so that no cookie slides past the session's absolute limit."""

    def get_expiration_time(self, app, session):
        expires = session.get(SESSION_EXPIRES)
        if session.permanent and isinstance(expires, int):
            return datetime.fromtimestamp(expires, UTC)
        return super().get_expiration_time(app, session)


@login_manager.user_loader
def load_user_from_session(user_id: str) -> User | None:
    """The user of the live server-side session the cookie names: the row decides."""
    if request.headers.get("Authorization"):
        return None  # an Authorization header always decides, never a cookie beside it
    live = auth_sessions.live(session.get(SESSION_SECRET))
    if live is None or live.user_id != user_id:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    g.auth_via = "session"
    g.auth_session_id = live.id
    return user


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
    g.api_token_scope = token.scope
    return token.user


@login_manager.unauthorized_handler
def unauthorized():
    raise NotSignedIn("Sign in first (or the token is expired or revoked).")


def check_csrf() -> None:
    """Every unsafe request made with the session cookie must carry X-CSRF-Token."""
    if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    if request.routing_exception is not None:
        return
    if current_user.is_authenticated and g.get("auth_via") == "session":
        csrf.protect()


def check_import_caller() -> None:
    """Only a clinic admin in a signed-in session may send an import: asked before anything
    reads its body (up to 50 MiB), so nobody else can make a worker read and parse one."""
    if request.path == IMPORT_PATH and request.method == "POST":
        if request.routing_exception is None:
            access.administrator()


def check_token_scope() -> None:
    """A "read" token may only GET (and HEAD, OPTIONS)."""
    if request.method not in UNSAFE_METHODS or request.routing_exception is not None:
        return
    if current_user.is_authenticated and g.get("api_token_scope") == "read":
        raise Forbidden('This token\'s scope is "read": it may only read (GET).')


def signed_in_via_token() -> bool:
    return g.get("auth_via") == "token"


def register(app: Flask) -> None:
    app.session_interface = BoundedCookieSession()
    login_manager.session_protection = "basic"
    app.before_request(check_import_caller)  # before the CSRF check, which may read a form
    app.before_request(check_csrf)
    app.before_request(check_token_scope)
