"""OWASP's device cookies: a browser that signed in to an account before is known to it.

Failed sign-ins from a known browser count against that browser only, so an attacker's
failures elsewhere never lock the owner out of it. The cookie holds the account's id and a
random nonce, signed with the app's secret key; a new one is given at every sign-in.
"""

from __future__ import annotations

import secrets

from flask import after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..data.models import User
from ..services.accounts import KnownDevice

SALT = "tidemark-device-cookie"
PATH = "/api/v1/auth"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _max_age() -> int:
    return current_app.config["DEVICE_COOKIE_DAYS"] * 24 * 60 * 60


def known_device() -> KnownDevice | None:
    """The device this request's cookie names, if the cookie is ours, intact and not too old."""
    raw = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=_max_age())
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, nonce = data.get("u"), data.get("n")
    if not isinstance(user_id, str) or not isinstance(nonce, str):
        return None
    return KnownDevice(user_id=user_id, nonce=nonce)


def remember_device(user: User) -> None:
    """Give this browser a new device cookie for `user` with the answer to this request."""
    value = _serializer().dumps({"u": user.id, "n": secrets.token_urlsafe(16)})

    @after_this_request
    def _set_cookie(response):
        response.set_cookie(
            current_app.config["DEVICE_COOKIE_NAME"],
            value,
            max_age=_max_age(),
            path=PATH,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Strict",
        )
        return response
