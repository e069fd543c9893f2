"""Treatment sessions as a clinic runs them: planned, done or cancelled, and the monitoring
record kept after every dose (API.md, planned sessions and the monitoring record).

Pure Python: no Flask, no database. Sessions are any objects with `started_at` and
`cancelled_at`; thresholds are the clinic's settings, passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PLANNED, DONE, CANCELLED = "planned", "done", "cancelled"
SESSION_STATUSES = (PLANNED, DONE, CANCELLED)

# How sedated or dissociated the patient was at the worst moment, as a monitoring form asks.
SEVERITY_LEVELS = ("none", "mild", "moderate", "severe")
ADVERSE_EVENTS = (
    "nausea",
    "vomiting",
    "dizziness",
    "headache",
    "raised_blood_pressure",
    "anxiety",
    "other",
)

# Plausible readings (API.md): anything outside is a typing error, refused; a reading inside
# but above the clinic's thresholds is real and is marked, never refused.
SYSTOLIC_RANGE = (50, 260)
DIASTOLIC_RANGE = (20, 160)
HEART_RATE_RANGE = (20, 250)
SPO2_RANGE = (50, 100)
MINUTES_RANGE = (0, 1440)
# A reading, or the discharge, belongs to the session it is recorded on: within a day of it
# (pre-dose readings come before the start). A reading is never in the future; a few minutes
# allow for a tablet whose clock runs fast.
READING_WINDOW = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Pressure:
    systolic: int
    diastolic: int

    def exceeded_by(self, systolic: int, diastolic: int) -> bool:
        """Whether a reading is above this threshold: either pressure above its limit."""
        return systolic > self.systolic or diastolic > self.diastolic


@dataclass(frozen=True)
class BloodPressureThresholds:
    """Above `before_dosing` before the session starts, or above `any_time` at any time, a
    reading is raised. Defaults as many ketamine protocols hold a dose (API.md)."""

    before_dosing: Pressure = Pressure(140, 90)
    any_time: Pressure = Pressure(180, 110)


DEFAULT_THRESHOLDS = BloodPressureThresholds()


def session_status(started_at: datetime, cancelled_at: datetime | None, now: datetime) -> str:
    """cancelled once cancelled; else planned while its start is ahead, done after."""
    if cancelled_at is not None:
        return CANCELLED
    return PLANNED if started_at > now else DONE


def held(sessions) -> list:
    """The sessions that are not cancelled: a cancelled one links no entries, starts nothing.

    Rows without a `cancelled_at` (older callers' id/started_at pairs) count as held."""
    return [s for s in sessions if getattr(s, "cancelled_at", None) is None]


def next_planned(sessions, now: datetime):
    """The next session ahead that is not cancelled, or None."""
    ahead = [s for s in held(sessions) if s.started_at > now]
    return min(ahead, key=lambda s: (s.started_at, s.id), default=None)


def raised(
    at: datetime,
    systolic: int,
    diastolic: int,
    started_at: datetime,
    thresholds: BloodPressureThresholds = DEFAULT_THRESHOLDS,
) -> bool:
    """Whether a blood pressure reading is above the clinic's thresholds: the before-dosing one
    for a reading taken before the session started, the any-time one always."""
    if thresholds.any_time.exceeded_by(systolic, diastolic):
        return True
    return at < started_at and thresholds.before_dosing.exceeded_by(systolic, diastolic)


def reading_time_errors(at: datetime, started_at: datetime, now: datetime) -> list[str]:
    """Why a reading (or discharge) time cannot belong to this session; [] when it can."""
    if at > now + CLOCK_SKEW:
        return ["Must not be in the future."]
    if abs(at - started_at) > READING_WINDOW:
        return ["Must be within 24 hours of the session's start."]
    return []


def discharge_time_errors(at: datetime, started_at: datetime, now: datetime) -> list[str]:
    """Why a discharge time cannot be this session's: before it began, a day after, or ahead."""
    if at < started_at:
        return ["Must not be before the session started."]
    return reading_time_errors(at, started_at, now)
