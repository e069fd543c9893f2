"""Baseline, change, response, remission and series (shared/scales.md, Outcomes).

Pure Python: no Flask, no database. Entries and sessions are any objects with the attributes
used here (`id`, `taken_at`, `total`, `context`, `voided`, `session_id`, and `instrument` and
`answers` when they have them; `id`, `started_at`, and `cancelled_at` when they have it), so
the summary, the panel and the exports all share these rules. A cancelled session never took
place: it starts no treatment and links no entries. A planned one (ahead of now) counts like
any other, since every entry so far was taken before it: the rules never read the clock, so
a summary does not change by itself when a planned session's time comes. Arithmetic is exact
(fractions): values are rounded only for answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from .instruments import Instrument, OutcomeRules, exact, exact_total, round_half_up
from .treatment import held

# Rule 3: an entry this long before the first session can be its baseline.
BASELINE_BEFORE_FIRST_SESSION = timedelta(days=7)
# An unlinked pre/post-session entry belongs to the nearest session within these windows.
PRE_SESSION_WINDOW = timedelta(hours=48)
POST_SESSION_WINDOW = timedelta(days=7)

EXPLICIT, BASELINE_CONTEXT, BEFORE_FIRST_SESSION, FIRST_ENTRY = 1, 2, 3, 4


_TENTH = Decimal("0.1")


def round1(value: Fraction | float | None) -> float | None:
    """Round half up to one decimal, exactly, for answers (thresholds use the unrounded value).

    A float is taken as the decimal it prints as, as exact() takes it; decimal rounds that
    half away from zero as round_half_up() does, many times faster than through Fraction
    (the panel rounds two figures a patient)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_UP))
    if isinstance(value, Fraction):
        return round1_ratio(value.numerator, value.denominator)
    return round_half_up(exact(value) * 10) / 10


def round1_ratio(numerator: int, denominator: int) -> float:
    """round1(numerator / denominator) in whole numbers alone (a mean of whole totals):
    the tenths are floor(10·|n/d| + 1/2) = (20·|n| + |d|) // (2·|d|), half away from zero."""
    tenths = (20 * abs(numerator) + abs(denominator)) // (2 * abs(denominator))
    return (tenths if (numerator < 0) == (denominator < 0) else -tenths) / 10


def _counted(entries) -> list:
    """Non-voided entries, oldest first (ties by id, so that every caller agrees)."""
    return sorted((e for e in entries if not e.voided), key=lambda e: (e.taken_at, e.id))


def choose_baseline(
    entries, sessions, explicit_entry_id: str | None = None
) -> tuple[Any | None, int | None]:
    """The baseline entry and the number of the rule that chose it (1–4), or (None, None)."""
    counted = _counted(entries)
    if explicit_entry_id is not None:
        for entry in counted:
            if entry.id == explicit_entry_id:
                return entry, EXPLICIT
    first_session = min((s.started_at for s in held(sessions)), default=None)
    # Rule 2 only before treatment began: a later `baseline` entry never resets the comparison.
    marked = [
        e
        for e in counted
        if e.context == "baseline" and (first_session is None or e.taken_at <= first_session)
    ]
    if marked:
        return marked[-1], BASELINE_CONTEXT
    candidates = [e for e in counted if e.context != "post_session"]
    if first_session is not None:
        window_start = first_session - BASELINE_BEFORE_FIRST_SESSION
        before = [e for e in candidates if window_start <= e.taken_at <= first_session]
        if before:
            return before[-1], BEFORE_FIRST_SESSION
    if candidates:
        return candidates[0], FIRST_ENTRY
    return None, None


@dataclass(frozen=True)
class Comparison:
    change: Fraction | int | None = None  # exact, unrounded
    percent_change: Fraction | None = None  # exact, unrounded
    response: bool | None = None
    remission: bool | None = None
    reliable_change: str | None = None


def compare(
    rules: OutcomeRules, baseline: float, follow_up: float, remission_max: int
) -> Comparison:
    """Change from baseline B to follow-up F, judged by the instrument's rules (exactly)."""
    baseline, follow_up = exact(baseline), exact(follow_up)
    change = baseline - follow_up
    percent = change / baseline * 100 if baseline != 0 else None
    eligible = rules.min_baseline is None or baseline >= rules.min_baseline
    response = None
    remission = None
    if eligible:
        response = None if percent is None else percent >= exact(rules.response_percent)
        # A prorated follow-up is compared with the cut-off after rounding half up (4.5 → 5).
        remission = round_half_up(follow_up) <= remission_max
    reliable = None
    if rules.reliable_change is not None:
        if change >= rules.reliable_change:
            reliable = "improved"
        elif change <= -rules.reliable_change:
            reliable = "worsened"
        else:
            reliable = "no_change"
    return Comparison(_whole(change), percent, response, remission, reliable)


def _whole(value: Fraction) -> Fraction | int:
    return int(value) if value.denominator == 1 else value


def daily_series(entries, timezone: str) -> list[dict]:
    """One point per local day: the mean of that day's totals and their count."""
    return _series(entries, timezone, lambda day: day, "date")


def weekly_series(entries, timezone: str) -> list[dict]:
    """One point per ISO week (Monday start, local time): mean total and count."""
    return _series(entries, timezone, lambda day: day - timedelta(days=day.weekday()), "week_start")


def _series(entries, timezone, bucket_of, key: str) -> list[dict]:
    zone = ZoneInfo(timezone)
    buckets: dict[date, list[Fraction | int]] = defaultdict(list)
    for entry in _counted(entries):
        # Whole totals as ints, so that most days' means need no Fraction (see _mean).
        total = _whole(exact_total(entry))
        buckets[bucket_of(entry.taken_at.astimezone(zone).date())].append(total)
    return [
        {key: day, "mean": _mean(totals), "n": len(totals)}
        for day, totals in sorted(buckets.items())
    ]


def _mean(totals: list) -> float:
    """round1 of the mean: of whole totals (nearly every day) without building a Fraction."""
    total = sum(totals)
    if isinstance(total, int):
        return round1_ratio(total, len(totals))
    return round1(Fraction(total) / len(totals))


def context_fits_session(context: str, taken_at: datetime, started_at: datetime) -> bool:
    """Whether an entry may name this session: a pre-session entry is taken before it starts
    (or as it starts), a post-session entry after (API.md); other contexts always fit."""
    if context == "pre_session":
        return taken_at <= started_at
    if context == "post_session":
        return taken_at >= started_at
    return True


def overlapping_recall(pre_at: datetime, post_at: datetime, recall_days: int) -> bool:
    """Whether a pre and a post answer about overlapping time: closer than the recall window
    (14 days for PHQ-9 and GAD-7, so every auto-linked pair; never with no recall window)."""
    return recall_days > 0 and post_at - pre_at < timedelta(days=recall_days)


def link_session(context: str, taken_at: datetime, sessions) -> str | None:
    """The nearest session within the window of a pre- or post-session entry, or None."""
    sessions = held(sessions)
    if context == "pre_session":
        candidates = [
            s for s in sessions if timedelta(0) <= s.started_at - taken_at <= PRE_SESSION_WINDOW
        ]
    elif context == "post_session":
        candidates = [
            s for s in sessions if timedelta(0) <= taken_at - s.started_at <= POST_SESSION_WINDOW
        ]
    else:
        return None
    if not candidates:
        return None
    nearest = min(candidates, key=lambda s: (abs(s.started_at - taken_at), s.started_at, s.id))
    return nearest.id


def session_pairs(sessions, entries, recall_days: int) -> list[dict]:
    """Per session (cancelled ones left out): its pre entry, its post entries, the delta, and
    overlapping recall."""
    of_session = defaultdict(list)  # oldest first within each session, as _counted orders
    for entry in _counted(entries):
        if entry.session_id is not None:
            of_session[entry.session_id].append(entry)
    pairs = []
    for session in sorted(held(sessions), key=lambda s: (s.started_at, s.id)):
        # An entry whose time contradicts its context (stored before links were checked)
        # stays in the series but is never paired: a "pre" after the session is not a pre.
        linked = [
            e
            for e in of_session.get(session.id, ())
            if context_fits_session(e.context, e.taken_at, session.started_at)
        ]
        pres = [e for e in linked if e.context == "pre_session"]
        posts = [e for e in linked if e.context == "post_session"]
        pre = pres[-1] if pres else None
        first_post = posts[0] if posts else None
        delta = None
        overlapping = False
        if pre is not None and first_post is not None:
            delta = round1(exact_total(pre) - exact_total(first_post))
            overlapping = overlapping_recall(pre.taken_at, first_post.taken_at, recall_days)
        pairs.append(
            {
                "session": session,
                "pre": pre,
                "post": posts,
                "delta": delta,
                "overlapping_recall": overlapping,
            }
        )
    return pairs


@dataclass
class Summary:
    instrument: str
    baseline: Any | None
    baseline_rule: int | None
    latest: Any | None
    comparison: Comparison
    thresholds: dict
    daily: list[dict] = field(default_factory=list)
    weekly: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    # The patient's open safety flags: not an outcome, but read beside it.
    open_flags: list = field(default_factory=list)
    # Any counted entry of the instrument, of any context (post-session ones included).
    has_entries: bool = False

    @property
    def change(self):
        return round1(self.comparison.change)

    @property
    def percent_change(self):
        return round1(self.comparison.percent_change)

    @property
    def response(self):
        return self.comparison.response

    @property
    def remission(self):
        return self.comparison.remission

    @property
    def reliable_change(self):
        return self.comparison.reliable_change

    # False for a quick rating (mood_now): no baseline, change, response or remission, ever.
    has_outcome_rules: bool = True

    @property
    def outcome_unavailable(self) -> str | None:
        # "no_entries" only when there are none: entries that are all post-session (never a
        # follow-up) give "no_follow_up", as the panel's snapshot does.
        return why_no_outcome(
            self.comparison if self.has_entries else None,
            exact_total(self.baseline) if self.baseline is not None else None,
            self.thresholds["min_baseline"],
            has_outcome_rules=self.has_outcome_rules,
        )


def why_no_outcome(
    outcome,
    baseline_total: float | None,
    min_baseline: int | None,
    *,
    has_outcome_rules: bool = True,
) -> str | None:
    """Why response and remission are null (a value of vocabularies.OUTCOME_UNAVAILABLE).

    `outcome` has change, response and remission (a Comparison, or the panel's snapshot), or
    is None when the patient has no entries of the instrument. An instrument without outcome
    rules (a quick rating, not a scale) never has them: "not_a_scale".
    """
    if not has_outcome_rules:
        return "not_a_scale"
    if outcome is None:
        return "no_entries"
    if outcome.response is not None or outcome.remission is not None:
        return None
    if outcome.change is None:
        return "no_follow_up"
    if min_baseline is not None and baseline_total < min_baseline:
        return "baseline_below_minimum"
    if baseline_total == 0:
        return "baseline_zero"
    return None


def thresholds(instrument: Instrument, remission_max: int | None) -> dict:
    rules = instrument.outcome
    if rules is None:  # a quick rating: no thresholds at all
        return {
            "response_percent": None,
            "remission_max": None,
            "min_baseline": None,
            "reliable_change": None,
            "minimal_important_difference": None,
            "recall_days": instrument.recall_days,
        }
    return {
        "response_percent": rules.response_percent,
        "remission_max": remission_max,
        "min_baseline": rules.min_baseline,
        "reliable_change": rules.reliable_change,
        "minimal_important_difference": rules.minimal_important_difference,
        "recall_days": instrument.recall_days,
    }


def headline(
    instrument: Instrument,
    entries,
    sessions,
    explicit_baseline_id: str | None = None,
    remission_max: int | None = None,
) -> tuple[Any | None, int | None, Any | None, Comparison]:
    """Baseline (and its rule), follow-up and their comparison: what the panel shows.

    The follow-up F (`latest`) is the latest entry of any context but `post_session`: one
    taken hours after a dose shows in the series and its pair, never in the headline.
    An instrument without outcome rules (mood_now) has no baseline and no comparison."""
    comparable = [e for e in _counted(entries) if e.context != "post_session"]
    latest = comparable[-1] if comparable else None
    if instrument.outcome is None:
        return None, None, latest, Comparison()
    remission_max = instrument.outcome.remission_max if remission_max is None else remission_max
    baseline, rule = choose_baseline(entries, sessions, explicit_baseline_id)
    comparison = Comparison()
    if baseline is not None and latest is not None and latest.taken_at > baseline.taken_at:
        comparison = compare(
            instrument.outcome, exact_total(baseline), exact_total(latest), remission_max
        )
    return baseline, rule, latest, comparison


def summarize(
    instrument: Instrument,
    entries,
    sessions,
    timezone: str,
    explicit_baseline_id: str | None = None,
    remission_max: int | None = None,
) -> Summary:
    """Everything a clinician decides from, for one patient and one instrument."""
    if instrument.outcome is not None and remission_max is None:
        remission_max = instrument.outcome.remission_max
    baseline, rule, latest, comparison = headline(
        instrument, entries, sessions, explicit_baseline_id, remission_max
    )
    return Summary(
        instrument=instrument.id,
        baseline=baseline,
        baseline_rule=rule,
        latest=latest,
        comparison=comparison,
        thresholds=thresholds(instrument, remission_max),
        daily=daily_series(entries, timezone),
        weekly=weekly_series(entries, timezone),
        sessions=session_pairs(sessions, entries, instrument.recall_days),
        has_entries=bool(_counted(entries)),
        has_outcome_rules=instrument.outcome is not None,
    )
