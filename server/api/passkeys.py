"""Passkeys (WebAuthn): register one while signed in, sign in with one, list and remove them.

Binary WebAuthn fields travel as base64url, as the browser's toJSON() and
PublicKeyCredential.parseCreationOptionsFromJSON() have them. Managing passkeys needs a
signed-in session (a bearer token is refused, 403), like every other account setting.
"""

from urllib.parse import urlsplit

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..data.models import User
from ..domain.errors import Forbidden
from ..services import accounts, passkeys
from ..web import devices
from ..web.auth import signed_in_via_token
from . import documented_errors
from .schemas import (
    ListQuery,
    NoBody,
    PasskeyIn,
    PasskeyLoginIn,
    PasskeyOut,
    SignedInOut,
    envelope,
)

blp = Blueprint("passkeys", __name__, url_prefix="/api/v1", description="Passkeys")

PasskeyList = envelope(PasskeyOut, "PasskeyList")
CREATION_OPTIONS = {
    "type": "object",
    "description": "PublicKeyCredentialCreationOptions as JSON, for "
    "navigator.credentials.create({publicKey}) once its challenge, user.id and "
    "excludeCredentials ids are decoded from base64url. The challenge is single-use and "
    "expires in 5 minutes.",
}
REQUEST_OPTIONS = {
    "type": "object",
    "description": "PublicKeyCredentialRequestOptions as JSON (no allowCredentials: the "
    "browser offers the person's passkeys for this site; userVerification required). The "
    "challenge is single-use and expires in 5 minutes.",
}


def _relying_party() -> passkeys.RelyingParty:
    """The RP id and origin from the configuration, else from the public URL, else from the
    request's own host (a browser signs for the origin it is on, so this is what it sends)."""
    config = current_app.config
    origin = config["TIDEMARK_PASSKEY_ORIGIN"] or config["TIDEMARK_PUBLIC_URL"]
    if origin:
        parts = urlsplit(origin)
        origin = f"{parts.scheme}://{parts.netloc}"
    else:
        origin = request.host_url.rstrip("/")
    rp_id = config["TIDEMARK_PASSKEY_RP_ID"] or urlsplit(origin).hostname
    return passkeys.RelyingParty(id=rp_id, origin=origin)


def _in_person() -> User:
    """The signed-in user, in a session of their own (not a bearer token)."""
    user = access.signed_in_user()
    if signed_in_via_token():
        raise Forbidden("Passkeys are managed in a signed-in session, not with a token.")
    return user


def _client_address() -> str:
    return request.remote_addr or "unknown"


@blp.route("/auth/passkeys/registration/options", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, CREATION_OPTIONS)
@documented_errors(blp, 401, 403, 429)
def registration_options(_body):
    """Start registering a passkey for me (the creation options, with a new challenge)"""
    options = passkeys.registration_options(_in_person(), _relying_party(), _client_address())
    return jsonify(options)


@blp.route("/auth/passkeys")
class Passkeys(MethodView):
    @blp.arguments(PasskeyIn)
    @blp.response(201, PasskeyOut)
    @documented_errors(blp, 401, 403, 409)
    def post(self, body):
        """Register a passkey: the browser's new credential for my challenge, with a name"""
        return passkeys.register(_in_person(), body["name"], body["credential"], _relying_party())

    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, PasskeyList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """List my passkeys, newest first"""
        return passkeys.of_user(_in_person(), query["limit"], query["cursor"])


@blp.route("/auth/passkeys/<string:passkey_id>")
class PasskeyDetail(MethodView):
    @blp.arguments(NoBody, required=False)
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404, 409)
    def delete(self, _body, passkey_id):
        """Remove one of my passkeys (409: my clinic requires one and it is my last)"""
        _in_person()
        passkeys.remove(access.own_passkey(passkey_id))


@blp.route("/auth/passkey-login/options", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, REQUEST_OPTIONS)
@documented_errors(blp, 429)
def passkey_login_options(_body):
    """Start signing in with a passkey (the request options, with a new challenge)"""
    return jsonify(passkeys.login_options(_relying_party(), _client_address()))


@blp.route("/auth/passkey-login", methods=["POST"])
@blp.arguments(PasskeyLoginIn)
@blp.response(200, SignedInOut)
@documented_errors(blp, 401, 429)
def passkey_login(body):
    """Sign in with a passkey: the browser's assertion for my challenge (sets the session
    cookie, as password sign-in does)"""
    user = passkeys.sign_in(body["credential"], _relying_party(), _client_address())
    devices.remember_device(user)
    return accounts.start_session(user)


@blp.route("/clinicians/<string:clinician_id>/passkeys", methods=["DELETE"])
@blp.arguments(NoBody, required=False)
@blp.response(204)
@documented_errors(blp, 401, 403, 404)
def remove_clinicians_passkeys(_body, clinician_id):
    """Remove every passkey of a clinician of my clinic (admin): a lost device; they sign in
    with their password again and register a new one"""
    admin = _in_person()
    passkeys.remove_all_of(access.clinician_in_clinic(clinician_id), admin)
