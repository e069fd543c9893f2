"""A clinic's crisis resources: what a patient can dial at once when a safety item is positive.

The clinic sets them (PATCH /api/v1/clinic {"crisis"}); the PWA shows every number as a link
that calls or texts it, and adds, in its own words, that answers are not watched around the
clock. Patients are added only once a crisis line and the clinic's own number are set.
"""

from __future__ import annotations

import re

PHONE_CHARACTERS = re.compile(r"[0-9 +\-()]{2,32}")
PHONE_RULE = "Digits, spaces and + - ( ), 2 to 32 characters, at least 2 of them digits."

NOT_READY = (
    "Set the clinic's crisis resources (crisis line and clinic phone) before adding patients: "
    "Admin → Crisis resources."
)


def is_phone_number(text: str) -> bool:
    """A number a phone can dial: digits, spaces and + - ( ), 2–32 characters, 2+ digits."""
    return PHONE_CHARACTERS.fullmatch(text) is not None and sum(c.isdigit() for c in text) >= 2
