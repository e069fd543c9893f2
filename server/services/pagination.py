"""Keyset pagination behind the one list envelope: {"items", "next_cursor"}."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from sqlalchemy import and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from ..data.extensions import db
from ..domain.errors import Invalid


def _not_a_cursor() -> Invalid:
    return Invalid(fields={"cursor": ["Not a cursor this API gave out."]}, location="query")


def _encode(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(at)
        if at.tzinfo is None or not isinstance(key, str):
            raise ValueError("not a cursor of ours")
        return at.astimezone(UTC), key
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise Invalid(
            fields={"cursor": ["Not a cursor this API gave out."]}, location="query"
        ) from None


def page(
    statement,
    time_column: InstrumentedAttribute,
    id_column: InstrumentedAttribute,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> dict:
    """One page of `statement` ordered by (time, id), and the cursor of the next page."""
    if cursor:
        at, key = _decode(cursor)
        if newest_first:
            after = or_(time_column < at, and_(time_column == at, id_column < key))
        else:
            after = or_(time_column > at, and_(time_column == at, id_column > key))
        statement = statement.where(after)
    order = (time_column.desc(), id_column.desc()) if newest_first else (time_column, id_column)
    rows = list(db.session.scalars(statement.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, time_column.key), getattr(last, id_column.key)])
    return {"items": rows, "next_cursor": next_cursor}


def page_of_list(
    items: list,
    time_attribute: str,
    id_attribute: str,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> dict:
    """`page` for items already in hand (not rows of a query): the same order and cursors."""

    def key(item) -> tuple:
        return (getattr(item, time_attribute), getattr(item, id_attribute))

    rows = sorted(items, key=key, reverse=newest_first)
    if cursor:
        at = _decode(cursor)
        rows = [row for row in rows if (key(row) < at if newest_first else key(row) > at)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode(list(key(rows[-1])))
    return {"items": rows, "next_cursor": next_cursor}


def offset_cursor(offset: int) -> str:
    """A cursor for lists sorted in Python (the panel): an opaque position."""
    return _encode(["offset", offset])


def offset_from_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, offset = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if kind != "offset" or type(offset) is not int or offset < 0:
            raise ValueError("not a cursor of ours")
        return offset
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid(
            fields={"cursor": ["Not a cursor this API gave out."]}, location="query"
        ) from None
