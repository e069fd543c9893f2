"""Check-in schedules and what is due. Pure Python: no Flask, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# PHQ-9 every 14 days (its recall window), and a PHQ-9 before each session on session days.
DEFAULT_SCHEDULE = {"instruments": [{"instrument": "phq9", "every_days": 14}], "pre_session": True}
PRE_SESSION_INSTRUMENT = "phq9"


@dataclass(frozen=True)
class Due:
    instrument: str
    context: str
    due_at: datetime
    overdue: bool
    session_id: str | None = None


def effective(schedule: dict | None) -> dict:
    """The patient's schedule, or the default when a clinician has not set one."""
    return schedule if schedule is not None else DEFAULT_SCHEDULE


def due_items(
    schedule: dict | None,
    *,
    now: datetime,
    timezone: str,
    start: datetime,
    last_taken: dict[str, datetime],
    sessions: list[tuple[str, datetime]],
    sessions_with_pre_entry: set[str],
) -> list[Due]:
    """What the patient should fill in next, oldest due first.

    `start` is when the schedule began (enrollment); `last_taken` the latest non-voided entry
    per instrument; `sessions` (id, started_at) of the patient.
    """
    plan = effective(schedule)
    items = []
    for scheduled in plan["instruments"]:
        instrument = scheduled["instrument"]
        last = last_taken.get(instrument)
        due_at = last + timedelta(days=scheduled["every_days"]) if last else start
        items.append(Due(instrument, "routine", due_at, now >= due_at))
    if plan.get("pre_session"):
        zone = ZoneInfo(timezone)
        today = now.astimezone(zone).date()
        for session_id, started_at in sessions:
            if started_at.astimezone(zone).date() != today:
                continue
            if session_id in sessions_with_pre_entry or now >= started_at:
                continue
            items.append(Due(PRE_SESSION_INSTRUMENT, "pre_session", started_at, False, session_id))
    return sorted(items, key=lambda item: item.due_at)
