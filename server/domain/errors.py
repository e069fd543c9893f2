"""The few ways a request can be refused, in the clinic's terms; api/errors.py maps them to
the one JSON error shape. Services and access checks raise these and never speak HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal: `message` for people, `fields` naming what failed, at `location`."""

    status = 400

    def __init__(
        self,
        message: str | None = None,
        fields: dict | None = None,
        location: str = "json",
        headers: dict | None = None,
    ):
        super().__init__(message or str(fields))
        self.message = message
        self.fields = fields
        self.location = location
        self.headers = headers or {}


class NotSignedIn(DomainError):
    """Nobody is signed in (or the token is expired or revoked)."""

    status = 401


class Forbidden(DomainError):
    """Signed in, but this person may not do this."""

    status = 403


class NotFound(DomainError):
    """No such thing, or one that belongs to another patient or clinic."""

    status = 404


class Conflict(DomainError):
    """The request contradicts what is stored (a replay with another body, already done)."""

    status = 409


class Invalid(DomainError):
    """The request parsed but a field is wrong; `fields` says which and why."""

    status = 422


class TooManyAttempts(DomainError):
    """Over a limit; `retry_after` seconds until the next attempt may succeed."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency (the database) is not answering."""

    status = 503
