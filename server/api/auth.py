"""Sign-in, sign-out, enrollment, sessions, passwords and bearer tokens."""

from flask import request, session
from flask.views import MethodView
from flask_login import current_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from .. import access
from ..services import accounts, auth_sessions, enrollment, tokens
from ..web import devices
from ..web.auth import signed_in_via_token
from . import documented_errors
from .schemas import (
    AuthSessionOut,
    EnrollIn,
    ListQuery,
    LoginIn,
    NewTokenOut,
    NoBody,
    PasswordChangeIn,
    ResetIn,
    SignedInOut,
    TokenIn,
    TokenOut,
    envelope,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")

TokenList = envelope(TokenOut, "TokenList")
SessionList = envelope(AuthSessionOut, "AuthSessionList")


def _client_address() -> str:
    return request.remote_addr or "unknown"


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, SignedInOut)
@documented_errors(blp, 401, 429)
def login(body):
    """Sign in with email and password (sets the session cookie)"""
    user = accounts.sign_in(
        body["email"], body["password"], _client_address(), devices.known_device()
    )
    devices.remember_device(user)
    return accounts.start_session(user)


@blp.route("/logout", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(204)
@documented_errors(blp, 403)
def logout(_body):
    """Sign out (ends the session for every copy of its cookie)"""
    if current_user.is_authenticated and not signed_in_via_token():
        accounts.sign_out(access.signed_in_user())
    logout_user()
    session.clear()


@blp.route("/me", methods=["GET"])
@blp.response(200, SignedInOut)
@documented_errors(blp, 401)
def me():
    """Who is signed in, with a CSRF token for this session"""
    return {"user": access.signed_in_user(), "csrf_token": generate_csrf()}


@blp.route("/enroll", methods=["POST"])
@blp.arguments(EnrollIn)
@blp.response(201, SignedInOut)
@documented_errors(blp, 429)
def enroll(body):
    """Create a patient account from an enrollment code (signs the patient in)"""
    user = enrollment.enroll(
        body["code"],
        body["email"],
        body["password"],
        body.get("display_name"),
        address=_client_address(),
    )
    devices.remember_device(user)
    return accounts.start_session(user)


@blp.route("/reset", methods=["POST"])
@blp.arguments(ResetIn)
@blp.response(200, SignedInOut)
@documented_errors(blp, 429)
def reset(body):
    """Set a new password with a reset code from the clinic (signs in; every other session
    of the account ends)"""
    user = enrollment.reset_password(body["code"], body["new_password"], address=_client_address())
    devices.remember_device(user)
    return accounts.start_session(user)


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, SessionList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """My signed-in sessions (browsers and devices), newest first"""
        user = access.in_person()
        return auth_sessions.of_user(user, query["limit"], query["cursor"])

    @blp.arguments(NoBody, required=False)
    @blp.response(204)
    @documented_errors(blp, 401, 403)
    def delete(self, _body):
        """Sign out everywhere else: end all my sessions but this one"""
        accounts.end_other_sessions(access.in_person())


@blp.route("/sessions/<string:session_id>", methods=["DELETE"])
@blp.arguments(NoBody, required=False)
@blp.response(204)
@documented_errors(blp, 401, 403, 404)
def end_session(_body, session_id):
    """End one of my sessions (signs that browser out)"""
    row = access.own_session(session_id)
    accounts.end_session(access.in_person(), row)


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeIn)
@blp.response(204)
@documented_errors(blp, 401, 403, 429)
def change_password(body):
    """Change my password; every other session of mine ends"""
    accounts.change_password(
        access.in_person(),
        body["current_password"],
        body["new_password"],
        _client_address(),
    )


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenIn)
    @blp.response(201, NewTokenOut)
    @documented_errors(blp, 401, 403)
    def post(self, body):
        """Create a bearer token for scripts (the secret is shown only now)"""
        access.in_person()
        return tokens.create(
            access.clinician(), body["name"], body["expires_in_days"], body["scope"]
        )

    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, TokenList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """List my tokens, newest first (never the secrets)"""
        return tokens.of_user(access.clinician(), query["limit"], query["cursor"])


@blp.route("/tokens/<string:token_id>")
class TokenDetail(MethodView):
    @blp.arguments(NoBody, required=False)
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, _body, token_id):
        """Revoke one of my tokens (in a signed-in session, never with a token)"""
        access.in_person()
        tokens.revoke(access.own_token(token_id))
