"""The rating scales as data, and their scoring. Pure Python: no Flask, no database.

Every number here comes from shared/scales.md; the source of each is named beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    loinc: str | None = None


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    label: str


@dataclass(frozen=True)
class OutcomeRules:
    """Thresholds for change from baseline (shared/scales.md, Outcomes)."""

    response_percent: float  # response: percent change at or above this
    remission_max: int  # remission: follow-up total at or below this
    # Response and remission are reported only when the baseline is at least this (else null).
    min_baseline: int | None
    reliable_change: int | None  # points; None: no fixed rule, reported as null
    minimal_important_difference: int | None  # for display


@dataclass(frozen=True)
class Offer:
    """When the app offers a quick rating around a session [project choice, scales.md]."""

    before_hours: int  # a session starts within this many hours: the pre-session rating
    after_min_hours: int  # from this many hours after a session starts ...
    after_max_hours: int  # ... to this many: the post-session rating


QUESTIONNAIRE, QUICK_RATING = "questionnaire", "quick_rating"


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    version: str
    rater: str  # "self" or "clinician"
    recall: str  # ISO 8601 duration ("PT0S": right now)
    stem: str | None
    items: tuple[Item, ...]
    options: tuple[Option, ...]
    bands: tuple[Band, ...]
    # item id -> lowest answer that opens a safety flag
    safety_items: dict[str, int] = field(default_factory=dict)
    loinc: str | None = None
    total_loinc: str | None = None
    questionnaire_url: str | None = None
    attribution: str | None = None
    # How many items a clinician transcribing paper may leave empty (never a safety item).
    max_missing_items: int = 0
    # PHQ-9's unscored tenth question, if the instrument has one.
    difficulty: DifficultyQuestion | None = None
    # None: not a scale of severity (no bands, no baseline, change, response or remission).
    outcome: OutcomeRules | None = None
    # QUESTIONNAIRE, or QUICK_RATING (one question about right now, never a severity score).
    kind: str = QUESTIONNAIRE
    offered: Offer | None = None

    @property
    def recall_days(self) -> int:
        """The recall window in days, from the ISO 8601 duration (P14D, P7D; PT0S is 0)."""
        if not self.recall.endswith("D"):
            return 0
        return int(self.recall.removeprefix("P").removesuffix("D"))

    @property
    def min(self) -> int:
        return 0

    @property
    def max(self) -> int:
        return len(self.items) * max(option.value for option in self.options)

    @property
    def option_values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    def band_for(self, total: float) -> str | None:
        """The band label of a total (None for a rating without bands); a prorated total is
        banded after rounding half up."""
        whole = round_half_up(total)
        if not self.bands:
            if self.min <= whole <= self.max:
                return None
            raise ValueError(f"{total} is outside {self.id}'s range {self.min}-{self.max}")
        for band in self.bands:
            if band.min <= whole <= band.max:
                return band.label
        raise ValueError(f"{total} is outside {self.id}'s range {self.min}-{self.max}")


def exact(value: Fraction | int | float) -> Fraction:
    """A total or change as an exact fraction; a float is taken as the decimal it prints as."""
    if isinstance(value, float):
        # A whole number (most totals) needs no parsing of its decimal form.
        return Fraction(int(value)) if value.is_integer() else Fraction(repr(value))
    return Fraction(value)


def round_half_up(value: Fraction | int | float) -> int:
    """The whole number a prorated total is banded as (4.5 → 5; scales.md, Outcomes)."""
    value = exact(value)
    whole = math.floor(abs(value) + Fraction(1, 2))
    return whole if value >= 0 else -whole


@dataclass(frozen=True)
class DifficultyQuestion:
    text: str
    loinc: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Score:
    total: Fraction | int  # exact: a prorated total is a fraction (16 × 9 / 7), never a float
    severity: str | None  # None: the instrument has no bands (mood_now)
    flags: tuple[str, ...]
    imputed_items: tuple[int, ...]  # 1-based positions of the items that were prorated

    @property
    def prorated(self) -> bool:
        return bool(self.imputed_items)


SELF_HARM = "self_harm"

# PHQ-9 and GAD-7 answer options, with their LOINC answer codes (scales.md).
FREQUENCY = (
    Option(0, "Not at all", "LA6568-5"),
    Option(1, "Several days", "LA6569-3"),
    Option(2, "More than half the days", "LA6570-1"),
    Option(3, "Nearly every day", "LA6571-9"),
)

PFIZER_ATTRIBUTION = (
    "PHQ-9 and GAD-7 © Pfizer Inc. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, "
    "Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission "
    "required to reproduce, translate, display or distribute."
)

PHQ9 = Instrument(
    id="phq9",
    name="PHQ-9",
    version="1",
    rater="self",
    recall="P14D",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=(
        Item("phq9_1", "Little interest or pleasure in doing things", "44250-9"),
        Item("phq9_2", "Feeling down, depressed, or hopeless", "44255-8"),
        Item("phq9_3", "Trouble falling or staying asleep, or sleeping too much", "44259-0"),
        Item("phq9_4", "Feeling tired or having little energy", "44254-1"),
        Item("phq9_5", "Poor appetite or overeating", "44251-7"),
        Item(
            "phq9_6",
            "Feeling bad about yourself — or that you are a failure or have let yourself or your "
            "family down",
            "44258-2",
        ),
        Item(
            "phq9_7",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "44252-5",
        ),
        Item(
            "phq9_8",
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
            "being so fidgety or restless that you have been moving around a lot more than usual",
            "44253-3",
        ),
        Item(
            "phq9_9",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            "44260-8",
        ),
    ),
    options=FREQUENCY,
    # Kroenke, Spitzer & Williams 2001.
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    safety_items={"phq9_9": 1},  # any answer above 0
    loinc="44249-1",
    total_loinc="44261-6",
    questionnaire_url="http://loinc.org/q/44249-1",
    attribution=PFIZER_ATTRIBUTION,
    max_missing_items=2,  # NHS Data Dictionary proration rule
    outcome=OutcomeRules(
        response_percent=50,
        remission_max=4,  # below 5
        min_baseline=10,  # NQF/CMS depression measures
        reliable_change=6,  # NHS Talking Therapies
        minimal_important_difference=5,  # Löwe 2004
    ),
    difficulty=DifficultyQuestion(
        text=(
            "If you checked off any problems, how difficult have these problems made it for you "
            "to do your work, take care of things at home, or get along with other people?"
        ),
        loinc="69722-7",
        # The LOINC answer codes are out of numeric order: mapped by code, not by position.
        options=(
            Option(0, "Not difficult at all", "LA6572-7"),
            Option(1, "Somewhat difficult", "LA6573-5"),
            Option(2, "Very difficult", "LA6575-0"),
            Option(3, "Extremely difficult", "LA6574-3"),
        ),
    ),
)

GAD7 = Instrument(
    id="gad7",
    name="GAD-7",
    version="1",
    rater="self",
    recall="P14D",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        Item("gad7_1", "Feeling nervous, anxious or on edge", "69725-0"),
        Item("gad7_2", "Not being able to stop or control worrying", "68509-9"),
        Item("gad7_3", "Worrying too much about different things", "69733-4"),
        Item("gad7_4", "Trouble relaxing", "69734-2"),
        Item("gad7_5", "Being so restless that it is hard to sit still", "69735-9"),
        Item("gad7_6", "Becoming easily annoyed or irritable", "69689-8"),
        Item("gad7_7", "Feeling afraid as if something awful might happen", "69736-7"),
    ),
    options=FREQUENCY,
    # Spitzer et al. 2006.
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
    loinc="69737-5",
    total_loinc="70274-6",
    questionnaire_url="http://loinc.org/q/69737-5",
    attribution=PFIZER_ATTRIBUTION,
    outcome=OutcomeRules(
        response_percent=50,
        remission_max=4,  # project choice
        min_baseline=10,  # project choice, as PHQ-9
        reliable_change=4,  # NHS Talking Therapies
        minimal_important_difference=4,
    ),
)

# MADRS is copyrighted (Royal College of Psychiatrists): item names only, no anchors.
MADRS = Instrument(
    id="madrs",
    name="MADRS",
    version="1",
    rater="clinician",
    recall="P7D",
    stem=None,
    items=tuple(
        Item(f"madrs_{number}", name)
        for number, name in enumerate(
            (
                "Apparent sadness",
                "Reported sadness",
                "Inner tension",
                "Reduced sleep",
                "Reduced appetite",
                "Concentration difficulties",
                "Lassitude",
                "Inability to feel",
                "Pessimistic thoughts",
                "Suicidal thoughts",
            ),
            start=1,
        )
    ),
    options=tuple(Option(value, str(value)) for value in range(7)),
    # Snaith et al.
    bands=(
        Band(0, 6, "symptom-free"),
        Band(7, 19, "mild"),
        Band(20, 34, "moderate"),
        Band(35, 60, "severe"),
    ),
    safety_items={"madrs_10": 4},  # project choice: suicidal thoughts rated 4 or above
    attribution="MADRS © Montgomery & Åsberg 1979; item names only, rated by a clinician.",
    outcome=OutcomeRules(
        response_percent=50,
        remission_max=12,  # esketamine trials; a clinic may choose 10 (KetECT)
        min_baseline=None,
        reliable_change=None,  # no fixed rule
        minimal_important_difference=None,
    ),
)

# The MADRS remission cut-offs a clinic may choose between (scales.md).
MADRS_REMISSION_CHOICES = (12, 10)

# [project choice, scales.md] One question about right now, answered before a session and a
# few hours after it, so that a pre/post pair measures the moment it claims to. Not a scale
# of severity: no bands, no outcome rules, no safety item (PHQ-9 item 9 is the safety question).
MOOD_NOW = Instrument(
    id="mood_now",
    name="Quick mood rating",
    version="1",
    rater="self",
    recall="PT0S",
    stem=None,
    items=(Item("mood_now", "Right now, how low or depressed do you feel?"),),
    # Only the two ends are labelled.
    options=tuple(
        Option(value, {0: "Not at all", 10: "As low as I can imagine"}.get(value, str(value)))
        for value in range(11)
    ),
    bands=(),
    attribution="Tidemark's own quick rating; not a diagnostic scale.",
    outcome=None,
    kind=QUICK_RATING,
    offered=Offer(before_hours=12, after_min_hours=2, after_max_hours=24),
)

INSTRUMENTS: dict[str, Instrument] = {i.id: i for i in (PHQ9, GAD7, MADRS, MOOD_NOW)}


def _total(instrument: Instrument, answers) -> Fraction | int:
    """The sum, or with missing answers the exact prorated total: mean answered × item count."""
    answered = [a for a in answers if a is not None]
    if len(answered) == len(answers):
        return sum(answered)
    total = Fraction(sum(answered) * len(instrument.items), len(answered))
    return int(total) if total.denominator == 1 else total


def exact_total(entry) -> Fraction:
    """An entry's total, exactly. A prorated total is stored as the nearest float, so it is
    recomputed from the entry's answers (16 × 9 / 7, not 20.571428571428573)."""
    instrument = INSTRUMENTS.get(getattr(entry, "instrument", None))
    answers = getattr(entry, "answers", None)
    if instrument is not None and answers and None in answers:
        if len(answers) == len(instrument.items) and any(a is not None for a in answers):
            return Fraction(_total(instrument, answers))
    return exact(entry.total)


class ScoringError(ValueError):
    """Answers that cannot be scored; `errors` maps a field or item position to messages."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


def score(instrument: Instrument, answers: list[int | None], allow_missing: bool = False) -> Score:
    """Check answers against the instrument and compute total, band and safety flags.

    `allow_missing` is for a clinician transcribing paper: up to `max_missing_items` nulls,
    never on a safety item; the total is then prorated (mean of answered items × item count).
    """
    if len(answers) != len(instrument.items):
        raise ScoringError({"answers": [f"Must have exactly {len(instrument.items)} answers."]})

    lowest, highest = min(instrument.option_values), max(instrument.option_values)
    item_errors: dict[int, list[str]] = {}
    missing: list[int] = []
    for position, (item, answer) in enumerate(zip(instrument.items, answers, strict=True)):
        if answer is None:
            if not allow_missing or instrument.max_missing_items == 0:
                item_errors[position] = ["An answer is required."]
            elif item.id in instrument.safety_items:
                item_errors[position] = ["This item is never imputed; it must be answered."]
            else:
                missing.append(position)
        elif isinstance(answer, bool) or not isinstance(answer, int):
            item_errors[position] = [f"Must be a whole number from {lowest} to {highest}."]
        elif answer not in instrument.option_values:
            item_errors[position] = [f"Must be a whole number from {lowest} to {highest}."]
    if item_errors:
        raise ScoringError({"answers": item_errors})
    if len(missing) > instrument.max_missing_items:
        raise ScoringError(
            {"answers": [f"At most {instrument.max_missing_items} answers may be missing."]}
        )

    total = _total(instrument, answers)

    flags = tuple(
        sorted(
            {
                SELF_HARM
                for item, answer in zip(instrument.items, answers, strict=True)
                if item.id in instrument.safety_items
                and answer is not None
                and answer >= instrument.safety_items[item.id]
            }
        )
    )
    return Score(
        total=total,
        severity=instrument.band_for(total),
        flags=flags,
        imputed_items=tuple(position + 1 for position in missing),
    )
