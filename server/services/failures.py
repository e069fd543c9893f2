"""Counters of failed attempts (sign-ins, enrollment codes), shared by every worker.

With a shared rate-limit storage (`RATELIMIT_STORAGE_URI`, e.g. redis://) they live there;
with the default `memory://`, which each worker would keep alone, they live in the database.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from limits import RateLimitItem
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select

from ..data.extensions import db
from ..data.models import FailedAttempt

EXTENSION = "tidemark_failures"
# Rows older than this are no use to any limit (the longest is 15 minutes).
KEPT_FOR = timedelta(days=1)


class StorageCounters:
    """Moving windows in the rate-limit storage (Redis): shared by every worker and host."""

    def __init__(self, uri: str, options: dict):
        self.strategy = MovingWindowRateLimiter(storage_from_string(uri, **options))

    def wait(self, limit: RateLimitItem, key: tuple[str, ...]) -> int | None:
        if self.strategy.test(limit, *key):
            return None
        reset_at = self.strategy.get_window_stats(limit, *key).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def hit(self, limit: RateLimitItem, key: tuple[str, ...]) -> None:
        self.strategy.hit(limit, *key)

    def reset(self) -> None:
        self.strategy.storage.reset()


class DatabaseCounters:
    """Moving windows over rows of failed_attempt: shared by every worker of one database."""

    @staticmethod
    def _name(key: tuple[str, ...]) -> str:
        return ":".join(key)[:400]

    def wait(self, limit: RateLimitItem, key: tuple[str, ...]) -> int | None:
        now = datetime.now(UTC)
        window = timedelta(seconds=limit.get_expiry())
        count, oldest = db.session.execute(
            select(func.count(FailedAttempt.id), func.min(FailedAttempt.at)).where(
                FailedAttempt.counter == self._name(key), FailedAttempt.at > now - window
            )
        ).one()
        if count < limit.amount:
            return None
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        return max(1, math.ceil((oldest + window - now).total_seconds()))

    def hit(self, limit: RateLimitItem, key: tuple[str, ...]) -> None:
        """Count one failure (committed at once, so that a refusal keeps its count)."""
        now = datetime.now(UTC)
        db.session.execute(delete(FailedAttempt).where(FailedAttempt.at < now - KEPT_FOR))
        db.session.add(FailedAttempt(counter=self._name(key), at=now))
        db.session.commit()

    def reset(self) -> None:
        db.session.execute(delete(FailedAttempt))
        db.session.commit()


def init_app(app: Flask) -> None:
    """Choose where this app counts failures, from RATELIMIT_STORAGE_URI."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith("memory://"):
        app.extensions[EXTENSION] = DatabaseCounters()
    else:
        options = app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}
        app.extensions[EXTENSION] = StorageCounters(uri, options)


def counters() -> StorageCounters | DatabaseCounters:
    return current_app.extensions[EXTENSION]
