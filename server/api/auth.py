"""Sign-in, sign-out, enrollment and bearer tokens."""

import math
import time
from datetime import timedelta

from flask import current_app, request, session
from flask.views import MethodView
from flask_login import current_user, login_user, logout_user
from flask_smorest import Blueprint, abort
from flask_wtf.csrf import generate_csrf
from limits import parse
from werkzeug.exceptions import HTTPException

from .. import access
from ..data.extensions import db, limiter
from ..data.models import ApiToken, User, utcnow
from ..domain.crisis import crisis_text_of
from ..services import audit, enrollment
from ..services.accounts import new_token_secret, sha256, verify_password
from ..services.pagination import page
from ..web.auth import signed_in_via_token
from . import documented_errors
from .schemas import (
    EnrollIn,
    ListQuery,
    LoginIn,
    NewTokenOut,
    NoBody,
    SignedInOut,
    TokenIn,
    TokenOut,
    envelope,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")

TokenList = envelope(TokenOut, "TokenList")


def user_out(user: User) -> dict:
    return {
        "id": user.id,
        "role": user.role,
        "is_admin": user.is_admin,
        "email": user.email,
        "display_name": user.display_name,
        "clinic": {
            "id": user.clinic.id,
            "name": user.clinic.name,
            "crisis_resources": crisis_text_of(user.clinic),
        },
        "patient_id": user.patient_id,
    }


def _session_for(user: User) -> dict:
    session.clear()  # a new session id on every sign-in: no fixation
    login_user(user)
    session.permanent = True
    return {"user": user_out(user), "csrf_token": generate_csrf()}


def _too_many(limits_and_keys: list[tuple[str, tuple[str, ...]]]) -> None:
    """Answer 429 with Retry-After if any of these failure counters is full."""
    strategy = limiter.limiter
    waits = []
    for limit_text, key in limits_and_keys:
        item = parse(current_app.config[limit_text])
        if not strategy.test(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            waits.append(max(1, math.ceil(reset_at - time.time())))
    if waits:
        abort(
            429,
            message="Too many attempts. Wait and try again.",
            headers={"Retry-After": str(max(waits))},
        )


def _count_failure(limits_and_keys: list[tuple[str, tuple[str, ...]]]) -> None:
    for limit_text, key in limits_and_keys:
        limiter.limiter.hit(parse(current_app.config[limit_text]), *key)


def _client_address() -> str:
    return request.remote_addr or "unknown"


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, SignedInOut)
@documented_errors(blp, 401, 429)
def login(body):
    """Sign in with email and password (sets the session cookie)"""
    email = body["email"].strip().lower()
    counters = [
        ("LOGIN_FAILURES_PER_ACCOUNT", ("login-account", email)),
        ("LOGIN_FAILURES_PER_ADDRESS", ("login-address", _client_address())),
    ]
    try:
        _too_many(counters)
    except HTTPException:
        audit.record(
            "auth.login_failed", actor=None, detail={"email": email[:254], "reason": "rate_limited"}
        )
        db.session.commit()
        raise
    user = db.session.scalar(db.select(User).where(User.email == email))
    if not verify_password(user, body["password"]) or not user.active:
        _count_failure(counters)
        db.session.rollback()
        audit.record(
            "auth.login_failed",
            actor=None,
            clinic_id=user.clinic_id if user else None,
            detail={"email": email[:254]},
        )
        db.session.commit()
        abort(401, message="The email or password is wrong.")
    answer = _session_for(user)
    audit.record("auth.login", actor=user)
    db.session.commit()
    return answer


@blp.route("/logout", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(204)
@documented_errors(blp, 403)
def logout(_body):
    """Sign out (ends the session)"""
    if current_user.is_authenticated and not signed_in_via_token():
        audit.record("auth.logout")
        db.session.commit()
    logout_user()
    session.clear()


@blp.route("/me", methods=["GET"])
@blp.response(200, SignedInOut)
@documented_errors(blp, 401)
def me():
    """Who is signed in, with a CSRF token for this session"""
    user = access.signed_in_user()
    return {"user": user_out(user), "csrf_token": generate_csrf()}


@blp.route("/enroll", methods=["POST"])
@blp.arguments(EnrollIn)
@blp.response(201, SignedInOut)
@documented_errors(blp, 429)
def enroll(body):
    """Create a patient account from an enrollment code (signs the patient in)"""
    counters = [("ENROLL_FAILURES_PER_ADDRESS", ("enroll-address", _client_address()))]
    _too_many(counters)
    try:
        user = enrollment.enroll(
            body["code"], body["email"], body["password"], body.get("display_name")
        )
    except enrollment.EnrollmentRefused as refused:
        if refused.bad_code:
            _count_failure(counters)
        abort(422, errors={"json": refused.errors})
    return _session_for(user)


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenIn)
    @blp.response(201, NewTokenOut)
    @documented_errors(blp, 401, 403)
    def post(self, body):
        """Create a bearer token for scripts (the secret is shown only now)"""
        user = access.clinician()
        if signed_in_via_token():
            abort(403, message="A token cannot create tokens; sign in to create one.")
        secret = new_token_secret()
        token = ApiToken(
            user_id=user.id,
            name=body["name"],
            token_hash=sha256(secret),
            expires_at=utcnow() + timedelta(days=body["expires_in_days"]),
        )
        db.session.add(token)
        db.session.flush()
        audit.record("token.create", detail={"token_id": token.id, "name": token.name})
        db.session.commit()
        return {"id": token.id, "name": token.name, "token": secret, "expires_at": token.expires_at}

    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, TokenList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """List my tokens, newest first (never the secrets)"""
        user = access.clinician()
        statement = db.select(ApiToken).where(ApiToken.user_id == user.id)
        return page(
            statement, ApiToken.created_at, ApiToken.id, query["limit"], query["cursor"], True
        )


@blp.route("/tokens/<string:token_id>")
class TokenDetail(MethodView):
    @blp.arguments(NoBody, required=False)
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, _body, token_id):
        """Revoke one of my tokens"""
        token = access.own_token(token_id)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record("token.revoke", detail={"token_id": token.id})
            db.session.commit()
