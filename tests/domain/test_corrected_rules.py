"""The outcome rules as corrected in shared/scales.md (issue 11): pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.instruments import GAD7, PHQ9, round_half_up, score
from server.domain.outcomes import (
    POST_SESSION_WINDOW,
    PRE_SESSION_WINDOW,
    choose_baseline,
    context_fits_session,
    headline,
    link_session,
    round1,
    session_pairs,
    summarize,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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


def scored(entry_id, taken_at, answers, context="routine", **kwargs) -> E:
    """An entry as the server stores it: the total is the float nearest the exact one."""
    total = score(PHQ9, list(answers), allow_missing=True).total
    return E(entry_id, taken_at, float(total), context, answers=tuple(answers), **kwargs)


# ------------------------------------------------ 1. the follow-up is never post-session


def test_a_post_session_entry_taken_after_the_follow_up_does_not_move_the_headline():
    entries = [
        E("b", day(0), 20, "baseline"),
        E("routine", day(14), 12),
        E("post", day(15), 3, "post_session", session_id="s1"),
    ]
    baseline, _, latest, comparison = headline(
        PHQ9, entries, [S("s1", day(15) - timedelta(hours=3))]
    )
    assert latest.id == "routine"
    assert (comparison.change, comparison.response, comparison.remission) == (8, False, False)


def test_with_only_post_session_entries_after_the_baseline_there_is_no_follow_up():
    entries = [
        E("b", day(0), 20, "baseline"),
        E("post", day(2), 3, "post_session", session_id="s1"),
    ]
    summary = summarize(PHQ9, entries, [S("s1", day(2) - timedelta(hours=3))], "UTC")
    assert summary.latest.id == "b"
    assert summary.change is None
    assert summary.response is None
    assert summary.outcome_unavailable == "no_follow_up"
    # The post-session entry still shows in the series and in its session's pair.
    assert sum(point["n"] for point in summary.daily) == 2
    assert [entry.id for entry in summary.sessions[0]["post"]] == ["post"]


@pytest.mark.parametrize("context", ["routine", "pre_session"])
def test_every_other_context_can_be_the_follow_up(context):
    entries = [E("b", day(0), 20, "baseline"), E("f", day(14), 9, context)]
    _, _, latest, comparison = headline(PHQ9, entries, [])
    assert latest.id == "f"
    assert comparison.change == 11


contexts = st.sampled_from(["baseline", "pre_session", "post_session", "routine"])
entry_lists = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 27), contexts), min_size=1, max_size=12
).map(
    lambda rows: [
        E(f"e{index}", day(offset), total, context)
        for index, (offset, total, context) in enumerate(rows)
    ]
)


@given(entry_lists)
def test_the_headline_follow_up_is_never_a_post_session_entry(entries):
    _, _, latest, _ = headline(PHQ9, entries, [S("s1", day(10))])
    assert latest is None or latest.context != "post_session"


# ------------------------------------------------ 2. rule 2 only before the first session


def test_a_baseline_entry_taken_after_treatment_began_does_not_reset_the_comparison():
    entries = [
        E("before", day(0), 20),
        E("late-baseline", day(20), 10, "baseline"),
        E("follow-up", day(30), 8),
    ]
    baseline, rule = choose_baseline(entries, [S("s1", day(3))])
    assert (baseline.id, rule) == ("before", 3)
    _, _, _, comparison = headline(PHQ9, entries, [S("s1", day(3))])
    assert comparison.change == 12


def test_a_baseline_entry_before_the_first_session_still_wins_by_rule_2():
    entries = [
        E("marked", day(0), 20, "baseline"),
        E("routine", day(2), 18),
        E("late-baseline", day(20), 10, "baseline"),
    ]
    baseline, rule = choose_baseline(entries, [S("s1", day(3)), S("s2", day(10))])
    assert (baseline.id, rule) == ("marked", 2)


def test_a_baseline_entry_at_the_moment_of_the_first_session_counts_as_before_it():
    entries = [E("marked", day(3), 20, "baseline"), E("later", day(9), 10)]
    baseline, rule = choose_baseline(entries, [S("s1", day(3))])
    assert (baseline.id, rule) == ("marked", 2)


def test_without_sessions_the_latest_baseline_entry_wins_at_any_time():
    entries = [E("first", day(0), 20), E("marked", day(40), 15, "baseline")]
    baseline, rule = choose_baseline(entries, [])
    assert (baseline.id, rule) == ("marked", 2)


def test_a_baseline_entry_after_the_session_falls_to_rule_4_when_nothing_precedes_it():
    entries = [E("late-baseline", day(20), 10, "baseline"), E("later", day(30), 8)]
    baseline, rule = choose_baseline(entries, [S("s1", day(3))])
    # Rule 4 (the first entry) may still pick it, as the first entry, never by rule 2.
    assert (baseline.id, rule) == ("late-baseline", 4)


# ------------------------------------------------ 3. an explicit link must fit its context

SESSION = S("s1", day(10))


@pytest.mark.parametrize(
    "context, taken_at, fits",
    [
        ("pre_session", day(10) - timedelta(hours=1), True),
        ("pre_session", day(10), True),
        ("pre_session", day(10) + timedelta(seconds=1), False),
        ("pre_session", day(13), False),
        ("post_session", day(10) + timedelta(hours=3), True),
        ("post_session", day(10), True),
        ("post_session", day(10) - timedelta(seconds=1), False),
        ("post_session", day(40), True),  # explicit: the direction is checked, no window
        ("routine", day(13), True),
        ("baseline", day(3), True),
    ],
)
def test_an_explicit_session_fits_a_pre_entry_before_it_and_a_post_entry_after_it(
    context, taken_at, fits
):
    assert context_fits_session(context, taken_at, SESSION.started_at) is fits


def test_a_pair_never_takes_a_pre_entry_that_came_after_the_session():
    # Stored before the rule existed: a "pre" three days after its session, after the post.
    entries = [
        E("pre", day(10) - timedelta(hours=2), 18, "pre_session", session_id="s1"),
        E("post", day(11), 12, "post_session", session_id="s1"),
        E("late-pre", day(13), 4, "pre_session", session_id="s1"),
    ]
    (pair,) = session_pairs([SESSION], entries, recall_days=14)
    assert pair["pre"].id == "pre"
    assert pair["delta"] == 6


# ------------------------------------------------ 4. exact arithmetic for prorated totals

B_ANSWERS = (3, 3, 3, 3, 3, 1, None, None, 0)
F_ANSWERS = (2, 2, 2, 1, 1, 1, None, None, 0)


def test_a_prorated_total_is_an_exact_fraction():
    assert score(PHQ9, list(B_ANSWERS), allow_missing=True).total == Fraction(16 * 9, 7)
    assert score(PHQ9, list(F_ANSWERS), allow_missing=True).total == Fraction(9 * 9, 7)


def test_the_proration_example_gives_change_9_and_43_8_percent():
    entries = [
        scored("b", day(0), B_ANSWERS, "baseline"),
        scored("f", day(14), F_ANSWERS),
    ]
    summary = summarize(PHQ9, entries, [], "UTC")
    assert summary.change == 9
    assert summary.percent_change == 43.8
    assert summary.comparison.percent_change == Fraction(175, 4)
    assert summary.reliable_change == "improved"


def test_the_same_example_as_plain_floats_would_have_been_wrong():
    # What the float arithmetic gave: the reason for the fractions.
    b, f = 16 / 7 * 9, 9 / 7 * 9
    assert b - f != 9
    assert round((b - f) / b * 100, 1) == 43.7


def test_a_delta_between_prorated_totals_is_exact():
    entries = [
        scored("pre", day(10) - timedelta(hours=2), B_ANSWERS, "pre_session", session_id="s1"),
        scored("post", day(11), F_ANSWERS, "post_session", session_id="s1"),
    ]
    (pair,) = session_pairs([SESSION], entries, recall_days=14)
    assert pair["delta"] == 9


def test_a_daily_mean_of_prorated_totals_is_rounded_half_up_from_the_exact_mean():
    entries = [
        scored("a", day(0), B_ANSWERS),
        scored("b", day(0) + timedelta(hours=1), (3, 3, 3, 3, 3, 1, 1, None, 0)),
    ]
    # (144/7 + 153/8) / 2 = 2223/112 = 19.848...
    summary = summarize(PHQ9, entries, [], "UTC")
    assert summary.daily[0]["mean"] == 19.8


@pytest.mark.parametrize(
    "value, rounded",
    [
        (Fraction(175, 4), 43.8),
        (Fraction(-175, 4), -43.8),
        (Fraction(63, 7), 9),
        (Fraction(1, 20), 0.1),
        (Fraction(-1, 100), 0.0),
        (2.25, 2.3),
    ],
)
def test_round1_rounds_half_up_exactly(value, rounded):
    assert round1(value) == rounded
    assert str(round1(value)) != "-0.0"


@pytest.mark.parametrize(
    "value, whole", [(Fraction(9, 2), 5), (Fraction(36, 8), 5), (Fraction(27, 7), 4), (4, 4)]
)
def test_a_prorated_total_is_rounded_half_up_to_a_whole_for_bands_and_remission(value, whole):
    assert round_half_up(value) == whole


def test_a_prorated_follow_up_of_4_5_is_mild_and_not_remission():
    # scales.md: "4.5 → 5: mild, not remission".
    answers = (1, 1, 1, 1, 0, 0, None, 0, 0)  # 4 × 9 / 8 = 4.5
    follow_up = score(PHQ9, list(answers), allow_missing=True)
    assert follow_up.total == Fraction(9, 2)
    assert follow_up.severity == "mild"
    entries = [E("b", day(0), 18, "baseline"), scored("f", day(14), answers)]
    _, _, _, comparison = headline(PHQ9, entries, [])
    assert comparison.remission is False


# ------------------------------------------------ 5. overlapping recall of session pairs


@given(
    st.floats(min_value=0, max_value=PRE_SESSION_WINDOW.total_seconds()),
    st.floats(min_value=0, max_value=POST_SESSION_WINDOW.total_seconds()),
    st.sampled_from([PHQ9, GAD7]),
)
def test_every_auto_linked_two_week_recall_pair_is_marked_overlapping(before, after, instrument):
    # scales.md: PHQ-9 and GAD-7 ask about two weeks; pairs closer than 14 days are marked.
    # The windows put an auto-linked pre and post at most 9 days apart: every such pair
    # measures overlapping recall, and says so.
    started = day(10)
    pre_at, post_at = started - timedelta(seconds=before), started + timedelta(seconds=after)
    assert link_session("pre_session", pre_at, [SESSION]) == "s1"
    assert link_session("post_session", post_at, [SESSION]) == "s1"
    entries = [
        E("pre", pre_at, 18, "pre_session", session_id="s1"),
        E("post", post_at, 10, "post_session", session_id="s1"),
    ]
    (pair,) = session_pairs([SESSION], entries, recall_days=instrument.recall_days)
    assert pair["overlapping_recall"] is True


def test_an_instrument_without_recall_window_never_has_overlapping_pairs():
    # scales.md: mood_now asks about "right now": its pairs never have overlapping recall.
    entries = [
        E("pre", day(10) - timedelta(hours=1), 7, "pre_session", session_id="s1"),
        E("post", day(10) + timedelta(hours=3), 3, "post_session", session_id="s1"),
    ]
    (pair,) = session_pairs([SESSION], entries, recall_days=0)
    assert pair["overlapping_recall"] is False
    assert pair["delta"] == 4
