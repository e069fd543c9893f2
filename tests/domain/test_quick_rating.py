"""mood_now, the quick rating (scales.md): one answer 0–10, no bands, no outcome rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.instruments import MOOD_NOW, PHQ9, QUICK_RATING, ScoringError, score
from server.domain.outcomes import headline, summarize, why_no_outcome

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def hour(n: float) -> datetime:
    return T0 + timedelta(hours=n)


@dataclass(frozen=True)
class E:
    id: str
    taken_at: datetime
    total: float
    context: str = "routine"
    voided: bool = False
    session_id: str | None = None
    instrument: str = "mood_now"
    answers: tuple | None = None


@dataclass(frozen=True)
class S:
    id: str
    started_at: datetime


def test_it_is_one_question_answered_0_to_10_with_only_the_ends_labelled():
    assert [item.text for item in MOOD_NOW.items] == [
        "Right now, how low or depressed do you feel?"
    ]
    assert (MOOD_NOW.min, MOOD_NOW.max) == (0, 10)
    labels = {option.value: option.label for option in MOOD_NOW.options}
    assert labels[0] == "Not at all"
    assert labels[10] == "As low as I can imagine"
    assert all(labels[value] == str(value) for value in range(1, 10))
    assert MOOD_NOW.kind == QUICK_RATING
    assert MOOD_NOW.rater == "self"


@pytest.mark.parametrize("answer", [0, 4, 10])
def test_an_answer_is_its_own_total_with_no_band_and_no_flag(answer):
    scored = score(MOOD_NOW, [answer])

    assert (scored.total, scored.severity, scored.flags) == (answer, None, ())


@pytest.mark.parametrize("answers", [[11], [-1], [True], [2.5], [None], [3, 4], []])
def test_anything_but_one_whole_number_from_0_to_10_is_refused(answers):
    with pytest.raises(ScoringError):
        score(MOOD_NOW, answers, allow_missing=True)


def test_it_has_no_bands_no_safety_item_and_no_outcome_rules():
    assert MOOD_NOW.bands == ()
    assert MOOD_NOW.safety_items == {}
    assert MOOD_NOW.outcome is None
    assert MOOD_NOW.recall_days == 0


def pairs_history():
    session = S("s1", hour(0))
    entries = [
        E("e0", hour(-30), 8, "baseline"),
        E("e1", hour(-1), 7, "pre_session", session_id="s1"),
        E("e2", hour(3), 3, "post_session", session_id="s1"),
        E("e3", hour(50), 6, "routine"),
    ]
    return session, entries


def test_its_summary_has_no_baseline_change_response_remission_or_reliable_change():
    session, entries = pairs_history()

    summary = summarize(MOOD_NOW, entries, [session], "Europe/Berlin")

    assert (summary.baseline, summary.baseline_rule) == (None, None)
    assert (summary.change, summary.percent_change) == (None, None)
    assert (summary.response, summary.remission, summary.reliable_change) == (None, None, None)
    assert summary.outcome_unavailable == "not_a_scale"
    assert set(summary.thresholds.values()) == {None, 0}  # no thresholds; recall 0 days


def test_its_summary_says_not_a_scale_even_without_entries():
    summary = summarize(MOOD_NOW, [], [], "Europe/Berlin")

    assert summary.outcome_unavailable == "not_a_scale"


def test_its_latest_is_the_newest_entry_that_is_not_post_session():
    session, entries = pairs_history()

    _, _, latest, _ = headline(MOOD_NOW, entries[:3], [session])

    assert latest.id == "e1"


def test_its_series_is_computed_like_any_others():
    session, entries = pairs_history()

    summary = summarize(MOOD_NOW, entries, [session], "UTC")

    assert [(p["date"].isoformat(), p["mean"], p["n"]) for p in summary.daily] == [
        ("2026-03-01", 8, 1),
        ("2026-03-02", 5, 2),  # the pre (7) and the post (3) of the session day
        ("2026-03-04", 6, 1),
    ]


def test_its_session_pair_has_a_delta_and_never_overlapping_recall():
    session, entries = pairs_history()

    [pair] = summarize(MOOD_NOW, entries, [session], "UTC").sessions

    assert (pair["pre"].id, [e.id for e in pair["post"]]) == ("e1", ["e2"])
    assert pair["delta"] == 4  # 7 before, 3 after: lower is better
    assert pair["overlapping_recall"] is False


def test_a_phq9_pair_as_close_together_still_overlaps():
    """The contrast that makes the quick rating worth having."""
    session = S("s1", hour(0))
    entries = [
        E("p1", hour(-1), 14, "pre_session", session_id="s1", instrument="phq9"),
        E("p2", hour(3), 9, "post_session", session_id="s1", instrument="phq9"),
    ]

    [pair] = summarize(PHQ9, entries, [session], "UTC").sessions

    assert pair["overlapping_recall"] is True


def test_the_reason_is_not_a_scale_whatever_the_comparison():
    assert why_no_outcome(None, None, None, has_outcome_rules=False) == "not_a_scale"
    assert why_no_outcome(None, None, 10) == "no_entries"
