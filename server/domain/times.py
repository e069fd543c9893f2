"""How times are written in every answer and export."""

from datetime import UTC, datetime


def utc(value: datetime) -> str:
    """Format a datetime the way every answer does: UTC, seconds, Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
