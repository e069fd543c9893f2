"""One error shape for every failure, from the views and from the framework itself."""

import logging
from http import HTTPStatus

from flask import Flask, has_request_context, jsonify, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sql
from werkzeug.exceptions import HTTPException, InternalServerError

from ..domain.errors import DomainError

log = logging.getLogger(__name__)
KIB = 1024
MIB = 1024 * KIB

# Headers a framework exception carries that the client needs (405 Allow, 429 Retry-After).
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}
_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept this method; the Allow header lists those it does.",
}


def error_response(code: int, name: str, message: str | None = None, errors=None, headers=None):
    """Build the JSON error answer: {"code", "status", "message"?, "errors"?}."""
    payload = {"code": code, "status": name}
    if message:
        payload["message"] = message
    if errors:
        payload["errors"] = errors
    response = jsonify(payload)
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(error: HTTPException):
    if isinstance(error, CSRFError):
        return error_response(403, "Forbidden", "The X-CSRF-Token header is missing or wrong.")
    data = getattr(error, "data", None) or {}
    headers = {key: value for key, value in error.get_headers() if key.lower() in _KEPT_HEADERS}
    headers.update(data.get("headers") or {})
    message = data.get("message") or _MESSAGES.get(error.code)
    if error.code == 413:
        message = _too_large()
    if message is None and error.code != 422 and error.description:
        message = error.description
    return error_response(
        error.code or 500,
        error.name,
        message,
        data.get("errors") or data.get("messages"),
        headers,
    )


def _too_large() -> str:
    """Name the limit of the endpoint that refused the body."""
    limit = request.max_content_length if has_request_context() else None
    if not limit:
        return "The body is too large."
    size = f"{limit // MIB} MiB" if limit >= MIB else f"{limit // KIB} KiB"
    return f"The body is too large: {size} at most here (64 KiB; 50 MiB for an import)."


def handle_domain_error(error: DomainError):
    """A refusal raised by a service or an access check, in the one error shape."""
    fields = {error.location: error.fields} if error.fields else None
    return error_response(
        error.status, HTTPStatus(error.status).phrase, error.message, fields, error.headers
    )


# How long a client should wait before trying again when the database is not answering.
RETRY_AFTER_UNAVAILABLE = 5


def database_unavailable(error: Exception) -> bool:
    """True when the database failed to answer (could not connect, timed out, was busy),
    as opposed to a fault of ours in a query, which stays a 500."""
    if isinstance(error, sql.TimeoutError):  # no pooled connection came free in time
        return True
    if type(error).__module__.startswith("redis"):  # the session store, when it is Redis
        import redis

        return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)
    if not isinstance(error, sql.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    module = type(original).__module__
    if module.startswith("psycopg"):
        import psycopg

        # Connection failures and timeouts (including statement_timeout's QueryCanceled);
        # not the OperationalError subclasses that name a fault of the query itself.
        return isinstance(original, psycopg.OperationalError) and not isinstance(
            original, psycopg.errors.ProgramLimitExceeded
        )
    if module.startswith("sqlite3"):
        text = str(original).lower()
        return "locked" in text or "busy" in text or "unable to open" in text
    return False


def handle_unexpected(error: Exception):
    if database_unavailable(error):
        log.warning("the database is not answering: %s", error)
        return error_response(
            503,
            "Service Unavailable",
            "The database is not answering just now; nothing was saved. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        )
    log.exception("unhandled error", exc_info=error)
    return error_response(500, InternalServerError().name, "Something went wrong on our side.")


def register(app: Flask) -> None:
    """Install the handlers; they replace flask-smorest's, which drop the Allow header."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
