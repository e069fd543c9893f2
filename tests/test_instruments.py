"""Scoring, bands, safety flags and proration (pure), and the instruments endpoint (HTTP).

Every expected value here is copied from shared/scales.md by hand, never read from
server.instruments, so that a wrong number in the module's data makes a test fail.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.instruments import GAD7, INSTRUMENTS, MADRS, PHQ9, ScoringError, score

# ---------------------------------------------------------------- expected data (scales.md)

# (instrument id, number of items, highest answer)
SHAPES = {"phq9": (9, 3), "gad7": (7, 3), "madrs": (10, 6)}

PHQ9_BANDS = [
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 19, "moderately severe"),
    (20, 27, "severe"),
]
GAD7_BANDS = [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]
MADRS_BANDS = [(0, 6, "symptom-free"), (7, 19, "mild"), (20, 34, "moderate"), (35, 60, "severe")]

BAND_EDGES = [
    ("phq9", 0, "minimal"),
    ("phq9", 4, "minimal"),
    ("phq9", 5, "mild"),
    ("phq9", 9, "mild"),
    ("phq9", 10, "moderate"),
    ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately severe"),
    ("phq9", 19, "moderately severe"),
    ("phq9", 20, "severe"),
    ("phq9", 27, "severe"),
    ("gad7", 0, "minimal"),
    ("gad7", 4, "minimal"),
    ("gad7", 5, "mild"),
    ("gad7", 9, "mild"),
    ("gad7", 10, "moderate"),
    ("gad7", 14, "moderate"),
    ("gad7", 15, "severe"),
    ("gad7", 21, "severe"),
    ("madrs", 0, "symptom-free"),
    ("madrs", 6, "symptom-free"),
    ("madrs", 7, "mild"),
    ("madrs", 19, "mild"),
    ("madrs", 20, "moderate"),
    ("madrs", 34, "moderate"),
    ("madrs", 35, "severe"),
    ("madrs", 60, "severe"),
]

PHQ9_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family "
    "down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being "
    "so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
PHQ9_DIFFICULTY = (
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people?"
)
PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD7_ITEMS = [
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
]
GAD7_ITEM_LOINC = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY_OPTIONS = [
    (0, "Not at all", "LA6568-5"),
    (1, "Several days", "LA6569-3"),
    (2, "More than half the days", "LA6570-1"),
    (3, "Nearly every day", "LA6571-9"),
]
DIFFICULTY_LOINC_BY_LABEL = {
    "Not difficult at all": "LA6572-7",
    "Somewhat difficult": "LA6573-5",
    "Very difficult": "LA6575-0",
    "Extremely difficult": "LA6574-3",
}
MADRS_ITEM_NAMES = [
    "apparent sadness",
    "reported sadness",
    "inner tension",
    "reduced sleep",
    "reduced appetite",
    "concentration difficulties",
    "lassitude",
    "inability to feel",
    "pessimistic thoughts",
    "suicidal thoughts",
]
PFIZER_LINE = "PHQ-9 and GAD-7 © Pfizer Inc."
PFIZER_ATTRIBUTION = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
    "with an educational grant from Pfizer Inc. No permission required to reproduce, translate, "
    "display or distribute."
)


def answers_for(instrument_id: str, total: int) -> list[int]:
    """Complete answers adding up to `total`, filled from the first item on (safety items last)."""
    count, highest = SHAPES[instrument_id]
    answers = []
    remaining = total
    for _ in range(count):
        answer = min(highest, remaining)
        answers.append(answer)
        remaining -= answer
    assert remaining == 0, f"{total} is out of reach for {instrument_id}"
    return answers


def expected_band(bands, total: int) -> str:
    matches = [label for low, high, label in bands if low <= total <= high]
    assert len(matches) == 1
    return matches[0]


# ---------------------------------------------------------------- totals and bands


@pytest.mark.parametrize(("instrument_id", "total", "label"), BAND_EDGES)
def test_a_total_on_a_band_edge_gets_the_band_from_scales_md(instrument_id, total, label):
    result = score(INSTRUMENTS[instrument_id], answers_for(instrument_id, total))
    assert result.total == total
    assert result.severity == label
    assert result.imputed_items == ()
    assert result.prorated is False


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9))
def test_any_complete_phq9_scores_its_sum_its_band_and_a_flag_only_when_item_9_is_positive(
    answers,
):
    result = score(PHQ9, answers)
    assert result.total == sum(answers)
    assert isinstance(result.total, int)
    assert result.severity == expected_band(PHQ9_BANDS, sum(answers))
    assert ("self_harm" in result.flags) == (answers[8] > 0)
    assert set(result.flags) <= {"self_harm"}
    assert result.imputed_items == ()


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=7, max_size=7))
def test_any_complete_gad7_scores_its_sum_and_its_band_and_never_flags(answers):
    result = score(GAD7, answers)
    assert result.total == sum(answers)
    assert result.severity == expected_band(GAD7_BANDS, sum(answers))
    assert list(result.flags) == []


@given(st.lists(st.integers(min_value=0, max_value=6), min_size=10, max_size=10))
def test_any_complete_madrs_scores_its_sum_its_band_and_a_flag_only_from_item_10_at_4(answers):
    result = score(MADRS, answers)
    assert result.total == sum(answers)
    assert result.severity == expected_band(MADRS_BANDS, sum(answers))
    assert ("self_harm" in result.flags) == (answers[9] >= 4)


# ---------------------------------------------------------------- safety flags


def test_phq9_item_9_at_1_flags_self_harm_even_with_a_total_of_1():
    result = score(PHQ9, [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.total == 1
    assert result.severity == "minimal"
    assert list(result.flags) == ["self_harm"]


@pytest.mark.parametrize("item_9", [1, 2, 3])
def test_phq9_item_9_above_0_flags_self_harm_whatever_the_other_answers(item_9):
    assert list(score(PHQ9, [3] * 8 + [item_9]).flags) == ["self_harm"]
    assert list(score(PHQ9, [0] * 8 + [item_9]).flags) == ["self_harm"]


def test_phq9_item_9_at_0_gives_no_flag_even_with_a_severe_total():
    result = score(PHQ9, [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert result.total == 24
    assert result.severity == "severe"
    assert list(result.flags) == []


def test_gad7_never_flags_even_at_its_maximum():
    assert list(score(GAD7, [3] * 7).flags) == []


def test_madrs_item_10_at_3_gives_no_flag():
    assert list(score(MADRS, [6] * 9 + [3]).flags) == []


@pytest.mark.parametrize("item_10", [4, 5, 6])
def test_madrs_item_10_at_4_or_above_flags_self_harm(item_10):
    assert list(score(MADRS, [0] * 9 + [item_10]).flags) == ["self_harm"]


def test_madrs_a_high_answer_on_another_item_gives_no_flag():
    assert list(score(MADRS, [6] * 9 + [0]).flags) == []


# ---------------------------------------------------------------- proration


def test_one_missing_phq9_item_is_prorated_as_the_mean_of_the_answered_times_9():
    result = score(PHQ9, [3, 3, None, 3, 3, 3, 3, 2, 0], allow_missing=True)
    # answered: 8 items summing to 20 -> 20 / 8 * 9 = 22.5
    assert result.total == 22.5
    assert result.severity == "severe"
    assert result.imputed_items == (3,)
    assert result.prorated is True


def test_two_missing_phq9_items_give_an_unrounded_prorated_total():
    result = score(PHQ9, [1, 1, 1, None, 1, 1, None, 1, 0], allow_missing=True)
    # answered: 7 items summing to 6 -> 6 / 7 * 9 = 7.714...
    assert result.total == pytest.approx(54 / 7)
    assert result.total != round(result.total)
    assert result.severity == "mild"
    assert result.imputed_items == (4, 7)
    assert result.prorated is True


def test_a_prorated_total_of_4_5_is_banded_as_5_after_rounding_half_up():
    result = score(PHQ9, [1, 1, 1, 1, None, 0, 0, 0, 0], allow_missing=True)
    # answered: 8 items summing to 4 -> 4 / 8 * 9 = 4.5, which rounds half up to 5 (mild);
    # rounding half to even, or truncating, would give 4 (minimal).
    assert result.total == 4.5
    assert result.severity == "mild"


def test_a_prorated_total_of_13_5_is_banded_as_14():
    result = score(PHQ9, [2, 2, 2, 2, 2, 2, None, 0, 0], allow_missing=True)
    # answered: 8 items summing to 12 -> 13.5 -> 14 (moderate)
    assert result.total == 13.5
    assert result.severity == "moderate"


@pytest.mark.parametrize(
    ("total", "label"),
    [
        (4.5, "mild"),
        (4.49, "minimal"),
        (9.5, "moderate"),
        (14.5, "moderately severe"),
        (19.5, "severe"),
        (9.4999, "mild"),
    ],
)
def test_a_fractional_phq9_total_is_banded_after_rounding_half_up(total, label):
    assert PHQ9.band_for(total) == label


def test_a_prorated_phq9_keeps_the_self_harm_flag_from_item_9():
    result = score(PHQ9, [None, 1, 1, 1, 1, 1, 1, 1, 2], allow_missing=True)
    assert list(result.flags) == ["self_harm"]
    assert result.imputed_items == (1,)


def test_three_missing_phq9_items_are_rejected():
    with pytest.raises(ScoringError) as raised:
        score(PHQ9, [None, None, None, 1, 1, 1, 1, 1, 0], allow_missing=True)
    assert "answers" in raised.value.errors


@pytest.mark.parametrize(
    "answers",
    [
        [1, 1, 1, 1, 1, 1, 1, 1, None],
        [None, 1, 1, 1, 1, 1, 1, 1, None],
    ],
)
def test_a_missing_phq9_item_9_is_never_imputed(answers):
    with pytest.raises(ScoringError) as raised:
        score(PHQ9, answers, allow_missing=True)
    assert "answers" in raised.value.errors


@pytest.mark.parametrize(
    "answers",
    [
        [None, 1, 1, 1, 1, 1, 1, 1, 0],
        [None, None, 1, 1, 1, 1, 1, 1, 0],
    ],
)
def test_a_patient_may_leave_no_phq9_item_empty(answers):
    with pytest.raises(ScoringError) as raised:
        score(PHQ9, answers, allow_missing=False)
    assert "answers" in raised.value.errors


def test_missing_answers_are_refused_by_default():
    with pytest.raises(ScoringError):
        score(PHQ9, [None, 1, 1, 1, 1, 1, 1, 1, 0])


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [(GAD7, [None, 1, 1, 1, 1, 1, 1]), (MADRS, [None, 2, 2, 2, 2, 2, 2, 2, 2, 2])],
)
def test_only_phq9_may_be_prorated(instrument, answers):
    with pytest.raises(ScoringError):
        score(instrument, answers, allow_missing=True)


@pytest.mark.parametrize(
    "answers",
    [
        [1] * 8,
        [1] * 10,
        [1, 1, 1, 1, 1, 1, 1, 1, 4],
        [1, 1, 1, 1, 1, 1, 1, 1, -1],
        [True, 1, 1, 1, 1, 1, 1, 1, 0],
        [2.0, 1, 1, 1, 1, 1, 1, 1, 0],
        ["2", 1, 1, 1, 1, 1, 1, 1, 0],
    ],
)
def test_malformed_phq9_answers_cannot_be_scored(answers):
    with pytest.raises(ScoringError):
        score(PHQ9, answers, allow_missing=True)


# ---------------------------------------------------------------- GET /api/v1/instruments


@pytest.fixture
def listed(app):
    response = app.test_client().get("/api/v1/instruments")
    assert response.status_code == 200
    return response.json


@pytest.fixture
def by_id(listed):
    return {instrument["id"]: instrument for instrument in listed["items"]}


def test_the_instrument_list_needs_no_sign_in_and_has_the_list_envelope(listed):
    assert set(listed) == {"items", "next_cursor"}
    assert listed["next_cursor"] is None
    assert sorted(instrument["id"] for instrument in listed["items"]) == [
        "gad7",
        "madrs",
        "mood_now",
        "phq9",
    ]


def test_one_instrument_can_be_read_by_its_id(app, by_id):
    response = app.test_client().get("/api/v1/instruments/phq9")
    assert response.status_code == 200
    assert response.json == by_id["phq9"]


def test_an_unknown_instrument_is_a_404_in_the_error_shape(app):
    response = app.test_client().get("/api/v1/instruments/nope")
    assert response.status_code == 404
    assert response.json["code"] == 404
    assert response.json["status"] == "Not Found"


def test_the_phq9_items_use_the_official_wording(by_id):
    phq9 = by_id["phq9"]
    assert phq9["stem"] == PHQ9_STEM
    assert [item["text"] for item in phq9["items"]] == PHQ9_ITEMS


def test_the_phq9_item_9_text_is_exact_and_it_is_the_safety_item(by_id):
    phq9 = by_id["phq9"]
    item_9 = phq9["items"][8]
    assert item_9["text"] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert phq9["safety_items"] == [item_9["id"]]


def test_the_phq9_carries_its_loinc_codes(by_id):
    phq9 = by_id["phq9"]
    assert [item["loinc"] for item in phq9["items"]] == PHQ9_ITEM_LOINC
    assert phq9["loinc"] == "44249-1"
    assert phq9["total_loinc"] == "44261-6"


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7"])
def test_the_frequency_options_carry_their_loinc_answer_codes(by_id, instrument_id):
    options = by_id[instrument_id]["options"]
    assert [(o["value"], o["label"], o["loinc"]) for o in options] == FREQUENCY_OPTIONS


def test_the_difficulty_answers_are_mapped_to_loinc_by_code_not_by_position(by_id):
    difficulty = by_id["phq9"]["difficulty"]
    assert difficulty["text"] == PHQ9_DIFFICULTY
    assert difficulty["loinc"] == "69722-7"
    by_value = {o["value"]: (o["label"], o["loinc"]) for o in difficulty["options"]}
    assert by_value == {
        0: ("Not difficult at all", "LA6572-7"),
        1: ("Somewhat difficult", "LA6573-5"),
        2: ("Very difficult", "LA6575-0"),
        3: ("Extremely difficult", "LA6574-3"),
    }
    assert {o["label"]: o["loinc"] for o in difficulty["options"]} == DIFFICULTY_LOINC_BY_LABEL


@pytest.mark.parametrize(
    ("instrument_id", "rater", "highest", "bands"),
    [
        ("phq9", "self", 27, PHQ9_BANDS),
        ("gad7", "self", 21, GAD7_BANDS),
        ("madrs", "clinician", 60, MADRS_BANDS),
    ],
)
def test_each_instrument_lists_its_range_rater_and_bands(
    by_id, instrument_id, rater, highest, bands
):
    instrument = by_id[instrument_id]
    assert instrument["rater"] == rater
    assert (instrument["min"], instrument["max"]) == (0, highest)
    assert [(b["min"], b["max"], b["label"]) for b in instrument["bands"]] == bands


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7"])
def test_the_self_report_scales_ask_about_the_last_two_weeks(by_id, instrument_id):
    assert by_id[instrument_id]["recall"] == "P14D"


def test_the_gad7_has_its_official_wording_and_no_moderately_severe_band(by_id):
    gad7 = by_id["gad7"]
    assert gad7["stem"] == GAD7_STEM
    assert [item["text"] for item in gad7["items"]] == GAD7_ITEMS
    assert [item["loinc"] for item in gad7["items"]] == GAD7_ITEM_LOINC
    assert "moderately severe" not in [band["label"] for band in gad7["bands"]]
    assert gad7["safety_items"] == []
    assert gad7["loinc"] == "69737-5"


def test_the_madrs_is_clinician_rated_with_item_names_and_no_rating_anchors(by_id):
    madrs = by_id["madrs"]
    assert madrs["rater"] == "clinician"
    assert [item["text"].lower() for item in madrs["items"]] == MADRS_ITEM_NAMES
    for item in madrs["items"]:
        assert set(item) <= {"id", "text", "loinc"}
    assert [option["value"] for option in madrs["options"]] == list(range(7))
    for option in madrs["options"]:
        # An anchor is a sentence describing a rating; a bare label is at most a word or two.
        assert len(option["label"].split()) <= 2, option
    assert madrs["safety_items"] == [madrs["items"][9]["id"]]


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7"])
def test_the_pfizer_attribution_is_shown_with_phq9_and_gad7(by_id, instrument_id):
    attribution = by_id[instrument_id]["attribution"]
    assert PFIZER_LINE in attribution
    assert PFIZER_ATTRIBUTION in attribution
