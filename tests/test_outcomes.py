"""Outcome rules as pure functions, checked against shared/scales.md (Outcomes, Timing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.instruments import GAD7, MADRS, PHQ9, round_half_up
from server.domain.outcomes import (
    choose_baseline,
    compare,
    daily_series,
    headline,
    link_session,
    round1,
    session_pairs,
    summarize,
    weekly_series,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class E:
    id: str
    taken_at: datetime
    total: float
    context: str = "routine"
    voided: bool = False
    session_id: str | None = None


@dataclass(frozen=True)
class S:
    id: str
    started_at: datetime


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def outcome(instrument, baseline: float, follow_up: float, remission_max: int | None = None):
    """The comparison the summary reports for a baseline entry followed by one follow-up."""
    entries = [E("b", day(0), baseline, "baseline"), E("f", day(14), follow_up)]
    _, _, _, comparison = headline(instrument, entries, [], remission_max=remission_max)
    return comparison


# ---------------------------------------------------------------- the worked example


def test_the_worked_example_gives_change_10_and_55_6_percent_with_response_but_no_remission():
    comparison = outcome(PHQ9, 18, 8)
    assert comparison.change == 10
    assert comparison.percent_change == pytest.approx(55.5555, abs=1e-3)
    assert round1(comparison.percent_change) == 55.6
    assert comparison.response is True
    assert comparison.remission is False
    assert comparison.reliable_change == "improved"


def test_the_summary_rounds_the_worked_example_percent_to_one_decimal():
    entries = [E("b", day(0), 18, "baseline"), E("f", day(14), 8)]
    summary = summarize(PHQ9, entries, [], "Europe/Berlin")
    assert (summary.change, summary.percent_change) == (10, 55.6)
    assert (summary.response, summary.remission, summary.reliable_change) == (
        True,
        False,
        "improved",
    )


# ---------------------------------------------------------------- thresholds at their edges

# Written from shared/scales.md, not from the module's data:
# (instrument, B, F, remission_max or None for the default,
#  change, percent (rounded) or None, response, remission, reliable change)
THRESHOLD_CASES = [
    # PHQ-9 response at exactly 50 % and just below
    ("phq9", 20, 10, None, 10, 50.0, True, False, "improved"),
    ("phq9", 19, 10, None, 9, 47.4, False, False, "improved"),
    # PHQ-9 remission: F ≤ 4 (below 5)
    ("phq9", 10, 4, None, 6, 60.0, True, True, "improved"),
    ("phq9", 10, 5, None, 5, 50.0, True, False, "no_change"),
    # PHQ-9 response and remission only when B ≥ 10
    ("phq9", 9, 0, None, 9, 100.0, None, None, "improved"),
    ("phq9", 10, 0, None, 10, 100.0, True, True, "improved"),
    # B = 0: no percent change, no response
    ("phq9", 0, 0, None, 0, None, None, None, "no_change"),
    # PHQ-9 reliable change ±6
    ("phq9", 16, 10, None, 6, 37.5, False, False, "improved"),
    ("phq9", 15, 10, None, 5, 33.3, False, False, "no_change"),
    ("phq9", 10, 15, None, -5, -50.0, False, False, "no_change"),
    ("phq9", 10, 16, None, -6, -60.0, False, False, "worsened"),
    # GAD-7 reliable change ±4
    ("gad7", 14, 10, None, 4, 28.6, False, False, "improved"),
    ("gad7", 13, 10, None, 3, 23.1, False, False, "no_change"),
    ("gad7", 10, 13, None, -3, -30.0, False, False, "no_change"),
    ("gad7", 10, 14, None, -4, -40.0, False, False, "worsened"),
    # GAD-7 remission ≤ 4, response and remission only when B ≥ 10
    ("gad7", 10, 4, None, 6, 60.0, True, True, "improved"),
    ("gad7", 10, 5, None, 5, 50.0, True, False, "improved"),
    ("gad7", 9, 0, None, 9, 100.0, None, None, "improved"),
    # MADRS: no minimum baseline, remission ≤ 12 by default, no reliable change rule
    ("madrs", 5, 2, None, 3, 60.0, True, True, None),
    ("madrs", 30, 12, None, 18, 60.0, True, True, None),
    ("madrs", 30, 13, None, 17, 56.7, True, False, None),
    ("madrs", 22, 11, None, 11, 50.0, True, True, None),
    ("madrs", 22, 11, 10, 11, 50.0, True, False, None),
    ("madrs", 22, 10, 10, 12, 54.5, True, True, None),
    ("madrs", 40, 5, None, 35, 87.5, True, True, None),
    ("madrs", 0, 0, None, 0, None, None, True, None),
]
INSTRUMENTS_BY_ID = {"phq9": PHQ9, "gad7": GAD7, "madrs": MADRS}


@pytest.mark.parametrize(
    "instrument_id, baseline, follow_up, remission_max, change, percent, response, remission, "
    "reliable",
    THRESHOLD_CASES,
)
def test_each_threshold_decides_at_its_published_edge(
    instrument_id,
    baseline,
    follow_up,
    remission_max,
    change,
    percent,
    response,
    remission,
    reliable,
):
    comparison = outcome(INSTRUMENTS_BY_ID[instrument_id], baseline, follow_up, remission_max)
    assert comparison.change == change
    assert round1(comparison.percent_change) == percent
    assert comparison.response is response
    assert comparison.remission is remission
    assert comparison.reliable_change == reliable


def test_a_prorated_follow_up_of_4_4_is_remission_since_it_rounds_to_4():
    # Corrected (issue 11): scales.md compares a prorated total with the remission cut-off
    # "after rounding half up to an integer (4.5 → 5: mild, not remission)"; 4.4 → 4.
    assert outcome(PHQ9, 20, 4.4).remission is True
    assert outcome(PHQ9, 20, 4.5).remission is False


def test_a_percent_change_of_49_96_is_not_a_response_though_it_rounds_to_50():
    comparison = outcome(PHQ9, 25, 12.51)
    assert round1(comparison.percent_change) == 50.0
    assert comparison.response is False


def test_compare_reports_the_unrounded_percent_change():
    comparison = compare(PHQ9.outcome, 18, 8, 4)
    assert comparison.percent_change == pytest.approx(1000 / 18)
    assert comparison.percent_change != 55.6


# ---------------------------------------------------------------- baseline rules


def test_rule_1_an_explicitly_chosen_entry_wins_over_every_other_rule():
    entries = [
        E("first", day(0), 20),
        E("marked", day(1), 19, "baseline"),
        E("later", day(10), 12),
    ]
    sessions = [S("s1", day(11))]
    baseline, rule = choose_baseline(entries, sessions, explicit_entry_id="later")
    assert (baseline.id, rule) == ("later", 1)


def test_rule_1_skips_a_voided_explicit_entry_and_falls_to_the_next_rule():
    entries = [
        E("first", day(0), 20),
        E("marked", day(1), 19, "baseline"),
        E("later", day(10), 12, voided=True),
    ]
    baseline, rule = choose_baseline(entries, [], explicit_entry_id="later")
    assert (baseline.id, rule) == ("marked", 2)


def test_rule_1_ignores_an_explicit_id_that_names_no_entry():
    entries = [E("first", day(0), 20), E("later", day(3), 12)]
    baseline, rule = choose_baseline(entries, [], explicit_entry_id="missing")
    assert (baseline.id, rule) == ("first", 4)


def test_rule_2_the_latest_baseline_context_entry_wins_over_the_session_window():
    entries = [
        E("first", day(0), 20),
        E("marked-early", day(1), 19, "baseline"),
        E("marked-late", day(2), 18, "baseline"),
        E("before-session", day(9), 17),
        E("after", day(20), 9),
    ]
    sessions = [S("s1", day(10))]
    baseline, rule = choose_baseline(entries, sessions)
    assert (baseline.id, rule) == ("marked-late", 2)


def test_rule_2_ignores_a_voided_baseline_context_entry():
    entries = [
        E("first", day(0), 20),
        E("marked", day(1), 19, "baseline", voided=True),
        E("later", day(5), 12),
    ]
    baseline, rule = choose_baseline(entries, [])
    assert (baseline.id, rule) == ("first", 4)


def test_rule_3_takes_the_last_entry_within_7_days_before_the_first_session():
    entries = [
        E("first", day(0), 20),
        E("week-before", day(25), 19),
        E("pre", day(29), 18, "pre_session"),
        E("after", day(31), 10),
    ]
    sessions = [S("s2", day(60)), S("s1", day(30))]
    baseline, rule = choose_baseline(entries, sessions)
    assert (baseline.id, rule) == ("pre", 3)


def test_rule_3_counts_an_entry_exactly_7_days_before_the_first_session():
    session_start = day(30)
    entries = [E("first", day(0), 20), E("edge", session_start - timedelta(days=7), 19)]
    baseline, rule = choose_baseline(entries, [S("s1", session_start)])
    assert (baseline.id, rule) == ("edge", 3)


def test_rule_3_does_not_count_an_entry_7_days_and_1_second_before_the_first_session():
    session_start = day(30)
    entries = [
        E("first", day(0), 20),
        E("too-early", session_start - timedelta(days=7, seconds=1), 19),
    ]
    baseline, rule = choose_baseline(entries, [S("s1", session_start)])
    assert (baseline.id, rule) == ("first", 4)


def test_rule_3_looks_only_before_the_first_session_not_a_later_one():
    entries = [E("first", day(0), 20), E("before-second", day(45), 15)]
    sessions = [S("s1", day(30)), S("s2", day(50))]
    baseline, rule = choose_baseline(entries, sessions)
    assert (baseline.id, rule) == ("first", 4)


def test_rule_3_never_chooses_a_post_session_entry():
    entries = [
        E("first", day(0), 20),
        E("routine", day(24), 19),
        E("post", day(28), 14, "post_session"),
    ]
    baseline, rule = choose_baseline(entries, [S("s1", day(30))])
    assert (baseline.id, rule) == ("routine", 3)


def test_rule_3_never_chooses_a_voided_entry():
    entries = [
        E("first", day(0), 20),
        E("routine", day(24), 19),
        E("voided", day(28), 14, voided=True),
    ]
    baseline, rule = choose_baseline(entries, [S("s1", day(30))])
    assert (baseline.id, rule) == ("routine", 3)


def test_rule_4_takes_the_first_entry_when_no_other_rule_applies():
    entries = [E("later", day(5), 12), E("first", day(0), 20)]
    baseline, rule = choose_baseline(entries, [])
    assert (baseline.id, rule) == ("first", 4)


def test_rule_4_never_chooses_a_post_session_entry():
    entries = [E("post", day(0), 20, "post_session"), E("routine", day(5), 12)]
    baseline, rule = choose_baseline(entries, [])
    assert (baseline.id, rule) == ("routine", 4)


def test_rule_4_never_chooses_a_voided_entry():
    entries = [E("voided", day(0), 20, voided=True), E("routine", day(5), 12)]
    baseline, rule = choose_baseline(entries, [])
    assert (baseline.id, rule) == ("routine", 4)


def test_there_is_no_baseline_without_entries():
    assert choose_baseline([], [S("s1", day(0))]) == (None, None)


def test_there_is_no_baseline_when_every_entry_is_voided():
    entries = [E("a", day(0), 20, "baseline", voided=True), E("b", day(1), 12, voided=True)]
    assert choose_baseline(entries, []) == (None, None)


def test_with_only_one_entry_every_outcome_field_is_null():
    summary = summarize(PHQ9, [E("only", day(0), 18, "baseline")], [], "Europe/Berlin")
    assert summary.baseline.id == "only"
    assert summary.latest.id == "only"
    assert (
        summary.change,
        summary.percent_change,
        summary.response,
        summary.remission,
        summary.reliable_change,
    ) == (None, None, None, None, None)


def test_with_the_explicit_baseline_as_the_latest_entry_every_outcome_field_is_null():
    entries = [E("first", day(0), 20), E("last", day(5), 8)]
    summary = summarize(PHQ9, entries, [], "Europe/Berlin", explicit_baseline_id="last")
    assert summary.baseline_rule == 1
    assert (
        summary.change,
        summary.percent_change,
        summary.response,
        summary.remission,
        summary.reliable_change,
    ) == (None, None, None, None, None)


def test_the_follow_up_is_the_latest_non_voided_entry():
    entries = [
        E("b", day(0), 18, "baseline"),
        E("f", day(7), 8),
        E("voided", day(9), 2, voided=True),
    ]
    _, _, latest, comparison = headline(PHQ9, entries, [])
    assert latest.id == "f"
    assert comparison.change == 10


# ---------------------------------------------------------------- series


def test_the_daily_series_has_one_rounded_mean_and_count_per_day():
    entries = [
        E("a", datetime(2026, 1, 5, 8, tzinfo=UTC), 10),
        E("b", datetime(2026, 1, 5, 12, tzinfo=UTC), 11),
        E("c", datetime(2026, 1, 5, 18, tzinfo=UTC), 11),
        E("d", datetime(2026, 1, 6, 8, tzinfo=UTC), 9),
    ]
    assert daily_series(entries, "UTC") == [
        {"date": date(2026, 1, 5), "mean": 10.7, "n": 3},
        {"date": date(2026, 1, 6), "mean": 9.0, "n": 1},
    ]


def test_the_daily_series_leaves_out_voided_entries():
    entries = [
        E("a", datetime(2026, 1, 5, 8, tzinfo=UTC), 10),
        E("b", datetime(2026, 1, 5, 12, tzinfo=UTC), 20, voided=True),
        E("c", datetime(2026, 1, 6, 8, tzinfo=UTC), 20, voided=True),
    ]
    assert daily_series(entries, "UTC") == [{"date": date(2026, 1, 5), "mean": 10.0, "n": 1}]


def test_the_weekly_series_runs_monday_to_sunday_with_rounded_means():
    entries = [
        E("sun-before", datetime(2026, 1, 4, 12, tzinfo=UTC), 20),  # Sunday
        E("mon", datetime(2026, 1, 5, 12, tzinfo=UTC), 10),  # Monday
        E("wed", datetime(2026, 1, 7, 12, tzinfo=UTC), 11),
        E("sun", datetime(2026, 1, 11, 12, tzinfo=UTC), 11),  # Sunday, same week
        E("voided", datetime(2026, 1, 8, 12, tzinfo=UTC), 27, voided=True),
        E("next-mon", datetime(2026, 1, 12, 12, tzinfo=UTC), 5),
    ]
    assert weekly_series(entries, "UTC") == [
        {"week_start": date(2025, 12, 29), "mean": 20.0, "n": 1},
        {"week_start": date(2026, 1, 5), "mean": 10.7, "n": 3},
        {"week_start": date(2026, 1, 12), "mean": 5.0, "n": 1},
    ]


def test_a_series_of_no_entries_is_empty():
    assert daily_series([], "UTC") == []
    assert weekly_series([E("v", T0, 3, voided=True)], "UTC") == []


# ---------------------------------------------------------------- time zones

NEW_YORK = "America/New_York"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# (UTC instant, local date in New York, local Monday of its ISO week)
NEW_YORK_CASES = [
    # 8 March 2026, 02:00 local: EST (UTC−5) becomes EDT (UTC−4)
    ("2026-03-08T04:30:00Z", date(2026, 3, 7), date(2026, 3, 2)),  # Sat 23:30 EST
    ("2026-03-08T05:30:00Z", date(2026, 3, 8), date(2026, 3, 2)),  # Sun 00:30 EST
    ("2026-03-09T03:30:00Z", date(2026, 3, 8), date(2026, 3, 2)),  # Sun 23:30 EDT
    ("2026-03-09T04:30:00Z", date(2026, 3, 9), date(2026, 3, 9)),  # Mon 00:30 EDT
    # 1 November 2026, 02:00 local: EDT (UTC−4) becomes EST (UTC−5)
    ("2026-11-01T03:30:00Z", date(2026, 10, 31), date(2026, 10, 26)),  # Sat 23:30 EDT
    ("2026-11-01T04:30:00Z", date(2026, 11, 1), date(2026, 10, 26)),  # Sun 00:30 EDT
    ("2026-11-02T04:30:00Z", date(2026, 11, 1), date(2026, 10, 26)),  # Sun 23:30 EST
    ("2026-11-02T05:30:00Z", date(2026, 11, 2), date(2026, 11, 2)),  # Mon 00:30 EST
]


@pytest.mark.parametrize("instant, local_day, week_start", NEW_YORK_CASES)
def test_an_entry_lands_on_the_patients_local_day_and_week_across_daylight_saving(
    instant, local_day, week_start
):
    entries = [E("e", at(instant), 12)]
    assert daily_series(entries, NEW_YORK) == [{"date": local_day, "mean": 12.0, "n": 1}]
    assert weekly_series(entries, NEW_YORK) == [{"week_start": week_start, "mean": 12.0, "n": 1}]


def test_a_sunday_late_evening_entry_stays_in_the_week_before_the_next_monday():
    entries = [
        E("sun-2330-edt", at("2026-03-09T03:30:00Z"), 10),
        E("mon-0030-edt", at("2026-03-09T04:30:00Z"), 20),
    ]
    assert weekly_series(entries, NEW_YORK) == [
        {"week_start": date(2026, 3, 2), "mean": 10.0, "n": 1},
        {"week_start": date(2026, 3, 9), "mean": 20.0, "n": 1},
    ]
    assert daily_series(entries, NEW_YORK) == [
        {"date": date(2026, 3, 8), "mean": 10.0, "n": 1},
        {"date": date(2026, 3, 9), "mean": 20.0, "n": 1},
    ]


def test_entries_either_side_of_the_november_change_group_by_local_day():
    entries = [
        E("sat-2330-edt", at("2026-11-01T03:30:00Z"), 8),
        E("sun-0030-edt", at("2026-11-01T04:30:00Z"), 10),
        E("sun-2330-est", at("2026-11-02T04:30:00Z"), 13),
        E("mon-0030-est", at("2026-11-02T05:30:00Z"), 6),
    ]
    assert daily_series(entries, NEW_YORK) == [
        {"date": date(2026, 10, 31), "mean": 8.0, "n": 1},
        {"date": date(2026, 11, 1), "mean": 11.5, "n": 2},
        {"date": date(2026, 11, 2), "mean": 6.0, "n": 1},
    ]
    assert weekly_series(entries, NEW_YORK) == [
        {"week_start": date(2026, 10, 26), "mean": 10.3, "n": 3},
        {"week_start": date(2026, 11, 2), "mean": 6.0, "n": 1},
    ]


# ---------------------------------------------------------------- sessions


def test_session_pairs_give_pre_posts_and_the_delta_to_the_first_post():
    sessions = [S("s2", day(30)), S("s1", day(10))]
    entries = [
        E("pre1", day(10) - timedelta(hours=2), 18, "pre_session", session_id="s1"),
        E("post1a", day(11), 12, "post_session", session_id="s1"),
        E("post1b", day(17), 9, "post_session", session_id="s1"),
        E("pre2", day(30) - timedelta(hours=1), 15, "pre_session", session_id="s2"),
        E("routine", day(20), 14),
    ]
    pairs = session_pairs(sessions, entries, recall_days=14)
    assert [pair["session"].id for pair in pairs] == ["s1", "s2"]
    first, second = pairs
    assert first["pre"].id == "pre1"
    assert [entry.id for entry in first["post"]] == ["post1a", "post1b"]
    assert first["delta"] == 6
    assert second["pre"].id == "pre2"
    assert second["post"] == []
    assert second["delta"] is None
    assert second["overlapping_recall"] is False


def test_session_pairs_leave_out_voided_entries():
    sessions = [S("s1", day(10))]
    entries = [
        E("pre", day(10) - timedelta(hours=2), 18, "pre_session", session_id="s1"),
        E("post-voided", day(11), 2, "post_session", voided=True, session_id="s1"),
        E("post", day(12), 12, "post_session", session_id="s1"),
    ]
    (pair,) = session_pairs(sessions, entries, recall_days=14)
    assert [entry.id for entry in pair["post"]] == ["post"]
    assert pair["delta"] == 6


@pytest.mark.parametrize(
    "gap, overlapping",
    [
        (timedelta(days=1), True),
        (timedelta(days=14) - timedelta(seconds=1), True),
        (timedelta(days=14), False),
        (timedelta(days=15), False),
    ],
)
def test_a_pair_overlaps_in_recall_only_when_closer_than_14_days(gap, overlapping):
    pre_at = day(10) - timedelta(hours=1)
    entries = [
        E("pre", pre_at, 18, "pre_session", session_id="s1"),
        E("post", pre_at + gap, 10, "post_session", session_id="s1"),
    ]
    (pair,) = session_pairs([S("s1", day(10))], entries, recall_days=14)
    assert pair["overlapping_recall"] is overlapping
    assert pair["delta"] == 8


SESSION_AT = datetime(2026, 4, 10, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "context, taken_at, linked",
    [
        ("pre_session", SESSION_AT - timedelta(hours=48), True),
        ("pre_session", SESSION_AT - timedelta(hours=48, seconds=1), False),
        ("pre_session", SESSION_AT - timedelta(hours=1), True),
        ("post_session", SESSION_AT + timedelta(days=7), True),
        ("post_session", SESSION_AT + timedelta(days=7, seconds=1), False),
        ("post_session", SESSION_AT + timedelta(hours=3), True),
    ],
)
def test_link_session_honours_its_windows_at_the_edges(context, taken_at, linked):
    expected = "s1" if linked else None
    assert link_session(context, taken_at, [S("s1", SESSION_AT)]) == expected


def test_a_pre_session_entry_links_to_the_nearest_of_two_sessions():
    sessions = [
        S("far", SESSION_AT + timedelta(hours=40)),
        S("near", SESSION_AT + timedelta(hours=2)),
    ]
    assert link_session("pre_session", SESSION_AT, sessions) == "near"


def test_a_post_session_entry_links_to_the_nearest_of_two_sessions():
    sessions = [S("far", SESSION_AT - timedelta(days=6)), S("near", SESSION_AT - timedelta(days=1))]
    assert link_session("post_session", SESSION_AT, sessions) == "near"


def test_a_post_session_entry_does_not_link_to_a_session_after_it():
    sessions = [S("later", SESSION_AT + timedelta(hours=1))]
    assert link_session("post_session", SESSION_AT, sessions) is None


@pytest.mark.parametrize("context", ["routine", "baseline"])
def test_routine_and_baseline_entries_are_never_linked_to_a_session(context):
    sessions = [S("s1", SESSION_AT + timedelta(hours=1)), S("s0", SESSION_AT - timedelta(hours=1))]
    assert link_session(context, SESSION_AT, sessions) is None


# ---------------------------------------------------------------- invariants

totals = st.integers(min_value=0, max_value=27)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)
contexts = st.sampled_from(["baseline", "pre_session", "post_session", "routine"])
entry_lists = st.lists(st.tuples(moments, totals, contexts, st.booleans()), max_size=25).map(
    lambda rows: [
        E(f"e{index}", taken_at, total, context, voided)
        for index, (taken_at, total, context, voided) in enumerate(rows)
    ]
)
session_lists = st.lists(moments, max_size=3).map(
    lambda starts: [S(f"s{index}", start) for index, start in enumerate(starts)]
)


@given(totals, totals)
def test_change_is_antisymmetric(baseline, follow_up):
    forward = compare(PHQ9.outcome, baseline, follow_up, 4)
    backward = compare(PHQ9.outcome, follow_up, baseline, 4)
    assert forward.change == -backward.change


@given(st.sampled_from([PHQ9, GAD7, MADRS]), totals, totals)
def test_a_response_always_has_a_percent_change_of_at_least_50(instrument, baseline, follow_up):
    comparison = compare(instrument.outcome, baseline, follow_up, 4)
    if comparison.response:
        assert comparison.percent_change >= 50


@given(st.sampled_from([(PHQ9, 4), (GAD7, 4), (MADRS, 12), (MADRS, 10)]), totals, totals)
def test_a_remission_always_has_a_follow_up_at_or_below_the_threshold(
    instrument_and_threshold, baseline, follow_up
):
    instrument, threshold = instrument_and_threshold
    comparison = compare(instrument.outcome, baseline, follow_up, threshold)
    if comparison.remission:
        assert round_half_up(follow_up) <= threshold


@given(entry_lists, st.sampled_from(["UTC", NEW_YORK, "Europe/Berlin", "Pacific/Auckland"]))
def test_daily_and_weekly_counts_add_up_to_the_non_voided_entries(entries, timezone):
    counted = sum(1 for entry in entries if not entry.voided)
    assert sum(point["n"] for point in daily_series(entries, timezone)) == counted
    assert sum(point["n"] for point in weekly_series(entries, timezone)) == counted


@given(entry_lists, session_lists, st.one_of(st.none(), st.integers(0, 30).map(lambda i: f"e{i}")))
def test_the_chosen_baseline_is_never_voided(entries, sessions, explicit_id):
    baseline, rule = choose_baseline(entries, sessions, explicit_id)
    if baseline is None:
        assert rule is None
        assert all(entry.voided or entry.context == "post_session" for entry in entries)
    else:
        assert baseline.voided is False
        assert rule in (1, 2, 3, 4)


@given(
    st.floats(min_value=-1000, max_value=1000, allow_nan=False)
    | st.integers(-1000, 1000)
    | st.decimals(min_value=-1000, max_value=1000, places=2).map(float)
)
def test_rounding_a_float_through_decimal_agrees_with_the_exact_fraction(value):
    """round1's fast path for floats (decimal) rounds exactly as the Fraction path does,
    ties (x.x5, as the decimal prints) half away from zero."""
    from server.domain.instruments import exact, round_half_up

    assert round1(value) == round_half_up(exact(value) * 10) / 10


@given(st.integers(-10_000, 10_000), st.integers(-400, 400).filter(bool))
def test_rounding_a_ratio_in_whole_numbers_agrees_with_the_exact_fraction(numerator, denominator):
    """round1's whole-number path (a fraction, a mean of whole totals) rounds exactly as the
    Fraction path does: ties half away from zero, and never -0.0."""
    from server.domain.instruments import exact, round_half_up
    from server.domain.outcomes import round1_ratio

    value = Fraction(numerator, denominator)
    expected = round_half_up(exact(value) * 10) / 10
    assert round1(value) == expected
    assert round1_ratio(numerator, denominator) == expected
    assert str(round1(value)) != "-0.0"


def test_rounding_ties_go_half_up_away_from_zero():
    assert [round1(v) for v in (41.25, 41.35, -2.25, 0.05, 55.55, 2.0)] == [
        41.3,
        41.4,
        -2.3,
        0.1,
        55.6,
        2.0,
    ]
