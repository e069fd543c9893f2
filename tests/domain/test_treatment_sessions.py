"""Planned and cancelled sessions in the outcome rules, session status and raised readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.instruments import PHQ9
from server.domain.outcomes import (
    BASELINE_CONTEXT,
    BEFORE_FIRST_SESSION,
    FIRST_ENTRY,
    choose_baseline,
    headline,
    link_session,
    session_pairs,
    summarize,
)
from server.domain.treatment import (
    BloodPressureThresholds,
    Pressure,
    next_planned,
    raised,
    reading_time_errors,
    session_status,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@dataclass(frozen=True)
class E:
    id: str
    taken_at: datetime
    total: float
    context: str = "routine"
    voided: bool = False
    session_id: str | None = None
    instrument: str = "phq9"
    answers: tuple | None = None


@dataclass(frozen=True)
class S:
    id: str
    started_at: datetime
    cancelled_at: datetime | None = None


def cancelled(session_id: str, started_at: datetime) -> S:
    return S(session_id, started_at, cancelled_at=started_at - timedelta(days=1))


# ------------------------------------------------ status


@pytest.mark.parametrize(
    ("started_at", "cancelled_at", "status"),
    [
        (day(1), None, "planned"),
        (day(-1), None, "done"),
        (day(0), None, "done"),  # it has started: no longer ahead
        (day(1), day(-2), "cancelled"),
        (day(-1), day(-2), "cancelled"),
    ],
)
def test_a_session_is_planned_done_or_cancelled(started_at, cancelled_at, status):
    assert session_status(started_at, cancelled_at, now=day(0)) == status


def test_the_next_session_is_the_nearest_one_ahead_that_is_not_cancelled():
    sessions = [S("past", day(-3)), cancelled("off", day(1)), S("later", day(5)), S("next", day(2))]
    assert next_planned(sessions, now=day(0)).id == "next"


def test_there_is_no_next_session_when_every_one_ahead_is_cancelled():
    assert next_planned([S("past", day(-3)), cancelled("off", day(1))], now=day(0)) is None


# ------------------------------------------------ cancelled sessions in the outcome rules


def test_a_cancelled_first_session_does_not_stop_a_later_baseline_entry_by_rule_2():
    # The only session was cancelled: treatment has not begun, so rule 2 takes the later
    # baseline entry, as it would with no session at all.
    entries = [E("early", day(0), 18, "baseline"), E("later", day(10), 16, "baseline")]
    baseline, rule = choose_baseline(entries, [cancelled("off", day(5))])
    assert (baseline.id, rule) == ("later", BASELINE_CONTEXT)


def test_the_same_entries_with_that_session_held_keep_the_earlier_baseline():
    entries = [E("early", day(0), 18, "baseline"), E("later", day(10), 16, "baseline")]
    baseline, rule = choose_baseline(entries, [S("held", day(5))])
    assert (baseline.id, rule) == ("early", BASELINE_CONTEXT)


def test_rule_3_looks_before_the_first_session_that_was_not_cancelled():
    entries = [E("a", day(0), 20), E("b", day(3), 19), E("c", day(12), 17), E("d", day(20), 9)]
    sessions = [cancelled("off", day(4)), S("first", day(14))]
    baseline, rule = choose_baseline(entries, sessions)
    assert (baseline.id, rule) == ("c", BEFORE_FIRST_SESSION)


def test_with_every_session_cancelled_rule_4_takes_the_first_entry():
    entries = [E("a", day(0), 20), E("b", day(3), 19), E("c", day(9), 12)]
    baseline, rule = choose_baseline(entries, [cancelled("off", day(4))])
    assert (baseline.id, rule) == ("a", FIRST_ENTRY)


def test_a_cancelled_session_links_no_entry_and_the_nearest_held_one_does():
    taken_at = day(1) - 3 * HOUR
    sessions = [cancelled("off", day(1)), S("held", day(1) + 5 * HOUR)]
    assert link_session("pre_session", taken_at, sessions) == "held"
    assert link_session("pre_session", taken_at, [cancelled("off", day(1))]) is None
    assert link_session("post_session", day(1) + 2 * HOUR, [cancelled("off", day(1))]) is None


def test_a_cancelled_session_has_no_pair_in_the_summary():
    entries = [E("pre", day(1) - HOUR, 15, "pre_session", session_id="held")]
    pairs = session_pairs([cancelled("off", day(0)), S("held", day(1))], entries, 14)
    assert [pair["session"].id for pair in pairs] == ["held"]


# ------------------------------------------------ planned sessions in the outcome rules


def test_a_planned_session_bounds_rule_3_before_it_has_happened():
    # Every entry so far precedes the planned session: the last within 7 days before it is
    # the baseline, and with nothing after it there is no follow-up, so no change is shown
    # between two check-ins taken before any treatment.
    entries = [E("enrolled", day(0), 21), E("week", day(10), 19), E("today", day(12), 18)]
    baseline, rule, latest, comparison = headline(PHQ9, entries, [S("planned", day(14))])
    assert (baseline.id, rule, latest.id) == ("today", BEFORE_FIRST_SESSION, "today")
    assert comparison.change is None


def test_the_baseline_stays_the_same_when_the_planned_session_takes_place():
    # No clock is read: the outcome before the session is the one after it, until an entry
    # or a session changes (the panel's snapshot is refreshed only on writes).
    before = [E("enrolled", day(0), 21), E("today", day(12), 18)]
    after = [*before, E("post", day(14) + 3 * HOUR, 9, "post_session", session_id="s")]
    sessions = [S("s", day(14))]
    first = choose_baseline(before, sessions)
    second = choose_baseline(after, sessions)
    assert first == second
    assert summarize(PHQ9, after, sessions, "UTC").change is None  # post-session: no follow-up


def test_a_pre_session_entry_links_to_the_planned_session_it_comes_before():
    assert link_session("pre_session", day(2) - 2 * HOUR, [S("planned", day(2))]) == "planned"


# ------------------------------------------------ raised readings

STRICT = BloodPressureThresholds(before_dosing=Pressure(130, 85), any_time=Pressure(160, 100))


@pytest.mark.parametrize(
    ("offset", "systolic", "diastolic", "expected"),
    [
        (-HOUR, 140, 90, False),  # at the threshold is not above it
        (-HOUR, 141, 80, True),
        (-HOUR, 120, 91, True),
        (HOUR, 150, 95, False),  # after dosing only the any-time threshold applies
        (HOUR, 181, 90, True),
        (HOUR, 170, 111, True),
        (-HOUR, 181, 111, True),
        (timedelta(0), 150, 80, False),  # at the start: dosing has begun
    ],
)
def test_a_reading_is_raised_above_the_default_thresholds(offset, systolic, diastolic, expected):
    started_at = day(0)
    assert raised(started_at + offset, systolic, diastolic, started_at) is expected


@pytest.mark.parametrize(
    ("offset", "systolic", "diastolic", "expected"),
    [
        (-HOUR, 135, 80, True),
        (-HOUR, 125, 84, False),
        (HOUR, 161, 80, True),
        (HOUR, 150, 95, False),
    ],
)
def test_a_clinic_s_own_thresholds_decide_what_is_raised(offset, systolic, diastolic, expected):
    started_at = day(0)
    assert raised(started_at + offset, systolic, diastolic, started_at, STRICT) is expected


@pytest.mark.parametrize(
    ("at", "now", "problem"),
    [
        (day(0) - 2 * HOUR, day(0) - HOUR, None),  # before dosing, before the start
        (day(0) + 3 * HOUR, day(2), None),
        (day(0) + 6 * HOUR + 4 * timedelta(minutes=1), day(0) + 6 * HOUR, None),  # clock skew
        (day(0) + 25 * HOUR, day(2), "within 24 hours"),
        (day(0) - 25 * HOUR, day(2), "within 24 hours"),
        (day(0) + 7 * HOUR, day(0) + 6 * HOUR, "future"),
    ],
)
def test_a_reading_must_belong_to_its_session_and_not_be_ahead(at, now, problem):
    errors = reading_time_errors(at, day(0), now=now)
    if problem is None:
        assert errors == []
    else:
        assert problem in errors[0]
