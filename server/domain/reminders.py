"""When a reminder is due, and what it says. Pure Python: no Flask, no database.

Three kinds, each for one due item (its `due_key`, so that it is sent once, ever):
- `checkin`: a scheduled check-in that became due (schedule.py), at the patient's
  `time_of_day`, the first one at or after the moment it became due;
- `pre_session`: `pre_session_hours` before a planned session (0: none), until it starts;
- `post_session`: the morning after a session (09:00 local), for the post-session check-in,
  while an entry can still be linked to it (outcomes.POST_SESSION_WINDOW).
None is sent in quiet hours (it waits until they end, across midnight too) or once the item is
done: the check-in taken (a new entry moves the schedule's due time, so it is another item),
a pre- or post-session entry linked to the session. Times are the patient's local times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import schedule
from .instruments import INSTRUMENTS
from .outcomes import POST_SESSION_WINDOW
from .times import utc

KINDS = ("checkin", "pre_session", "post_session")
PRE_SESSION_HOURS_MAX = 48
# The morning after a session: a fixed local time, not time_of_day (an evening by default).
POST_SESSION_MORNING = time(9, 0)
# How long a push service keeps a reminder for a phone that is off (its TTL).
CHECKIN_TTL = timedelta(hours=12)
MIN_TTL = timedelta(minutes=1)


@dataclass(frozen=True)
class Settings:
    """A patient's reminder settings; local times as "HH:MM", quiet hours both or neither."""

    enabled: bool = True
    time_of_day: str = "18:00"
    quiet_start: str | None = "21:00"
    quiet_end: str | None = "08:00"
    pre_session_hours: int = 2
    post_session_next_day: bool = True


DEFAULTS = Settings()


@dataclass(frozen=True)
class Session:
    """A treatment session as reminders see it."""

    id: str
    started_at: datetime
    has_pre_entry: bool
    has_post_entry: bool


@dataclass(frozen=True)
class Reminder:
    """One reminder to send now: what it is for, and the notification (no score, no answer)."""

    kind: str
    due_key: str
    due_at: datetime  # when the item became due (or the session's start)
    title: str
    body: str
    url: str
    ttl_seconds: int

    @property
    def payload(self) -> dict:
        return {"title": self.title, "body": self.body, "url": self.url}


def parse_clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def at_local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`clock` on the local `day`, in UTC. A time that a DST change skips is read with the
    offset before the change (02:30 on a spring-forward day is 03:30 local); a time that
    occurs twice is the first one."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def in_quiet_hours(moment: datetime, settings: Settings, zone: ZoneInfo) -> bool:
    """Whether `moment` falls in the patient's quiet hours (which may cross midnight)."""
    if settings.quiet_start is None or settings.quiet_end is None:
        return False
    local = moment.astimezone(zone).time()
    start, end = parse_clock(settings.quiet_start), parse_clock(settings.quiet_end)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def checkin_time(due_at: datetime, settings: Settings, zone: ZoneInfo) -> datetime:
    """The first `time_of_day` (local) at or after `due_at`."""
    clock = parse_clock(settings.time_of_day)
    day = due_at.astimezone(zone).date()
    at = at_local(day, clock, zone)
    return at if at >= due_at else at_local(day + timedelta(days=1), clock, zone)


def morning_after(started_at: datetime, zone: ZoneInfo) -> datetime:
    """09:00 local on the day after the session's local date."""
    return at_local(
        started_at.astimezone(zone).date() + timedelta(days=1), POST_SESSION_MORNING, zone
    )


def _key(at: datetime) -> str:
    return utc(at)


def _checkin_url(instrument: str, context: str) -> str:
    return f"/#/checkin?instrument={instrument}&context={context}"


def _session_words(started_at: datetime, now: datetime, zone: ZoneInfo) -> str:
    local, today = started_at.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"today at {clock}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"on {local.strftime('%a')} {local.day} {local.strftime('%b')} at {clock}"


def due_reminders(
    now: datetime,
    settings: Settings,
    timezone: str,
    *,
    routine: list[schedule.Due],
    sessions: list[Session],
    pre_session_checkin: bool,
) -> list[Reminder]:
    """The reminders to send to one patient at `now` (before asking whether they were sent).

    `routine`: the schedule's routine items (schedule.due_items); `sessions`: the patient's
    sessions from 8 days ago to 48 hours ahead; `pre_session_checkin`: the schedule asks for a
    pre-session check-in.
    """
    zone = ZoneInfo(timezone)
    if not settings.enabled or in_quiet_hours(now, settings, zone):
        return []
    found = []
    for item in routine:
        if item.context != "routine" or item.due_at > now:
            continue
        if checkin_time(item.due_at, settings, zone) > now:
            continue
        name = INSTRUMENTS[item.instrument].name
        found.append(
            Reminder(
                "checkin",
                f"{item.instrument}@{_key(item.due_at)}",
                item.due_at,
                "Time for a check-in",
                f"Your {name} check-in is due. It takes about two minutes.",
                _checkin_url(item.instrument, "routine"),
                int(CHECKIN_TTL.total_seconds()),
            )
        )
    for session in sessions:
        key = f"{session.id}@{_key(session.started_at)}"
        hours = settings.pre_session_hours
        if (
            hours
            and session.started_at - timedelta(hours=hours) <= now < session.started_at
            and not session.has_pre_entry
        ):
            when = _session_words(session.started_at, now, zone)
            ttl = max(session.started_at - now, MIN_TTL)
            found.append(
                Reminder(
                    "pre_session",
                    key,
                    session.started_at,
                    "Your session is coming up",
                    f"Your session is {when}. Please check in before it."
                    if pre_session_checkin
                    else f"Your session is {when}.",
                    _checkin_url(schedule.PRE_SESSION_INSTRUMENT, "pre_session")
                    if pre_session_checkin
                    else "/#/",
                    int(ttl.total_seconds()),
                )
            )
        closes = session.started_at + POST_SESSION_WINDOW
        if (
            settings.post_session_next_day
            and morning_after(session.started_at, zone) <= now < closes
            and not session.has_post_entry
        ):
            found.append(
                Reminder(
                    "post_session",
                    key,
                    session.started_at,
                    "How are you after your session?",
                    "A short check-in helps your care team see how your session went.",
                    _checkin_url(schedule.PRE_SESSION_INSTRUMENT, "post_session"),
                    int(min(CHECKIN_TTL, max(closes - now, MIN_TTL)).total_seconds()),
                )
            )
    return found
