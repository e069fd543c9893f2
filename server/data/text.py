"""Columns read as the text the API writes, formatted by the database itself.

For reads of many rows at once (the clinic export): no Python object per timestamp or per
JSON value, only the string that goes into the document.
"""

from __future__ import annotations

from sqlalchemy import Text, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String


class utc_text(FunctionElement):  # noqa: N801 (used like a SQL function)
    """A UTCDateTime column as the API's UTC text, "2026-11-27T08:30:00Z" (seconds cut, as
    api.schemas.UTCTime does); NULL stays NULL."""

    type = String()
    inherit_cache = True
    name = "utc_text"


@compiles(utc_text)
def _utc_text_postgresql(element, compiler, **kw):
    (column,) = list(element.clauses)
    text = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return compiler.process(text, **kw)


@compiles(utc_text, "sqlite")
def _utc_text_sqlite(element, compiler, **kw):
    (column,) = list(element.clauses)  # stored naive, in UTC: "2026-11-27 08:30:00.000000"
    return compiler.process(func.strftime("%Y-%m-%dT%H:%M:%SZ", column), **kw)


def json_text(column):
    """A JSON column as its stored JSON text, not decoded."""
    return cast(column, Text)
