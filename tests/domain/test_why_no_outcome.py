"""Why response and remission are null: one rule for the panel and the summary."""

from __future__ import annotations

import pytest

from server.domain.instruments import INSTRUMENTS
from server.domain.outcomes import Comparison, compare, why_no_outcome

PHQ9 = INSTRUMENTS["phq9"].outcome
MADRS = INSTRUMENTS["madrs"].outcome


@pytest.mark.parametrize(
    ("outcome", "baseline_total", "min_baseline", "reason"),
    [
        (None, None, 10, "no_entries"),
        (Comparison(), 18, 10, "no_follow_up"),
        (Comparison(), None, 10, "no_follow_up"),  # post-session entries only: no baseline
        (compare(PHQ9, 18, 8, 4), 18, 10, None),
        (compare(PHQ9, 18, 20, 4), 18, 10, None),  # worse: response and remission are False
        (compare(PHQ9, 9, 2, 4), 9, 10, "baseline_below_minimum"),
        (compare(MADRS, 0, 3, 12), 0, None, None),  # remission still says something
        (Comparison(change=0), 0, None, "baseline_zero"),
    ],
)
def test_the_reason_an_outcome_is_missing(outcome, baseline_total, min_baseline, reason):
    assert why_no_outcome(outcome, baseline_total, min_baseline) == reason
