"""Clinicians' bearer tokens for scripts: only a hash of the secret is ever stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..data.extensions import db
from ..data.models import ApiToken, User, utcnow
from . import audit
from .accounts import new_token_secret, sha256
from .pagination import page


@dataclass(frozen=True)
class NewToken:
    """A token just created, with its secret: the only time the secret is known."""

    id: str
    name: str
    token: str
    expires_at: datetime
    scope: str


def create(user: User, name: str, expires_in_days: int, scope: str = "write") -> NewToken:
    """Create a token for `user` (committed); the secret is returned only now."""
    secret = new_token_secret()
    token = ApiToken(
        user_id=user.id,
        name=name,
        scope=scope,
        token_hash=sha256(secret),
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.create",
        actor=user,
        detail={"token_id": token.id, "name": token.name, "scope": scope},
    )
    db.session.commit()
    return NewToken(
        id=token.id, name=token.name, token=secret, expires_at=token.expires_at, scope=scope
    )


def of_user(user: User, limit: int, cursor: str | None) -> dict:
    """One page of the user's tokens, newest first."""
    statement = db.select(ApiToken).where(ApiToken.user_id == user.id)
    return page(statement, ApiToken.created_at, ApiToken.id, limit, cursor, newest_first=True)


def revoke(token: ApiToken) -> None:
    """Revoke a token for good (committed); revoking it again changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token.revoke", detail={"token_id": token.id})
        db.session.commit()
