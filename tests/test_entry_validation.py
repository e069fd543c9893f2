"""POST /api/v1/patients/{pid}/entries refuses what API.md and scales.md forbid, and stores nothing.

Every refusal is checked three ways: the status, the field named in `errors["json"]`, and an
empty table afterwards (through the list endpoint and in the database itself).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from server.data.models import Entry, Flag, TreatmentSession
from tests.conftest import database, entry_body

MINE = "/api/v1/patients/me/entries"


def entries_url(world) -> str:
    return f"/api/v1/patients/{world.patient_a.id}/entries"


def stored_rows(app) -> tuple[int, int]:
    """(entries, flags) in the database, counted directly."""
    with database(app) as session:
        entries = session.scalar(select(func.count()).select_from(Entry))
        flags = session.scalar(select(func.count()).select_from(Flag))
    return entries, flags


def assert_nothing_stored(app, world) -> None:
    listed = world.as_clinician_x().get(entries_url(world))
    assert listed.status_code == 200
    assert listed.json["items"] == []
    assert stored_rows(app) == (0, 0)


def assert_error_shape(response, code: int) -> None:
    assert response.status_code == code, response.json
    assert response.json["code"] == code
    assert isinstance(response.json["status"], str) and response.json["status"]


def in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def without(field: str) -> dict:
    body = entry_body()
    del body[field]
    return body


def with_value(field: str, value) -> dict:
    """A valid body with one field set as given (entry_body() would replace answers=None)."""
    body = entry_body()
    body[field] = value
    return body


# (case, a body built when the test runs, the field that errors["json"] must name)
REFUSED_FROM_A_PATIENT = [
    ("a_boolean_answer", lambda: entry_body(answers=[True, 1, 1, 1, 1, 1, 1, 1, 0]), "answers"),
    ("a_float_answer_of_2_0", lambda: entry_body(answers=[2.0, 1, 1, 1, 1, 1, 1, 1, 0]), "answers"),
    ("a_float_answer_of_2_5", lambda: entry_body(answers=[2.5, 1, 1, 1, 1, 1, 1, 1, 0]), "answers"),
    ("a_string_answer", lambda: entry_body(answers=["2", 1, 1, 1, 1, 1, 1, 1, 0]), "answers"),
    (
        "a_null_answer_from_a_patient",
        lambda: entry_body(answers=[None, 1, 1, 1, 1, 1, 1, 1, 0]),
        "answers",
    ),
    ("too_few_answers", lambda: entry_body(answers=[1] * 8), "answers"),
    ("too_many_answers", lambda: entry_body(answers=[1] * 10), "answers"),
    (
        "an_answer_above_the_range",
        lambda: entry_body(answers=[4, 1, 1, 1, 1, 1, 1, 1, 0]),
        "answers",
    ),
    ("a_negative_answer", lambda: entry_body(answers=[-1, 1, 1, 1, 1, 1, 1, 1, 0]), "answers"),
    ("answers_of_null", lambda: with_value("answers", None), "answers"),
    ("answers_as_an_object", lambda: entry_body(answers={"1": 2, "2": 1}), "answers"),
    ("answers_missing", lambda: without("answers"), "answers"),
    ("an_unknown_field", lambda: entry_body(mood="fine"), "mood"),
    (
        "an_unknown_instrument",
        lambda: entry_body(instrument="bdi2", answers=[1] * 21),
        "instrument",
    ),
    ("a_missing_id", lambda: without("id"), "id"),
    ("an_id_that_is_not_a_uuid", lambda: entry_body(id="entry-1"), "id"),
    ("a_huge_string_id", lambda: entry_body(id="a" * 20_000), "id"),
    (
        "a_taken_at_without_an_offset",
        lambda: entry_body(
            taken_at=(datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
        ),
        "taken_at",
    ),
    ("a_taken_at_6_minutes_in_the_future", lambda: entry_body(taken_at=in_minutes(6)), "taken_at"),
    (
        "a_taken_at_a_day_in_the_future",
        lambda: entry_body(taken_at=in_minutes(24 * 60)),
        "taken_at",
    ),
    (
        "a_taken_at_before_2000",
        lambda: entry_body(taken_at="1999-12-31T23:59:59+00:00"),
        "taken_at",
    ),
    ("a_taken_at_that_is_not_a_time", lambda: entry_body(taken_at="yesterday"), "taken_at"),
    ("a_note_of_2001_characters", lambda: entry_body(note="n" * 2001), "note"),
    ("a_difficulty_on_gad7", lambda: entry_body("gad7", difficulty=1), "difficulty"),
    ("a_difficulty_of_4", lambda: entry_body(difficulty=4), "difficulty"),
    ("a_negative_difficulty", lambda: entry_body(difficulty=-1), "difficulty"),
    ("a_boolean_difficulty", lambda: entry_body(difficulty=True), "difficulty"),
    ("an_unknown_context", lambda: entry_body(context="weekly"), "context"),
    ("a_missing_context", lambda: without("context"), "context"),
    (
        "a_session_that_does_not_exist",
        lambda: entry_body(session_id=str(uuid.uuid4())),
        "session_id",
    ),
    ("a_client_sent_total", lambda: entry_body(total=3), "total"),
    ("a_client_sent_severity", lambda: entry_body(severity="minimal"), "severity"),
    ("a_client_sent_flags", lambda: entry_body(flags=[]), "flags"),
    (
        "a_self_harm_answer_with_a_future_time",
        lambda: entry_body(answers=[0, 0, 0, 0, 0, 0, 0, 0, 3], taken_at=in_minutes(60)),
        "taken_at",
    ),
]


@pytest.mark.parametrize(
    ("make_body", "field"),
    [pytest.param(make, field, id=case) for case, make, field in REFUSED_FROM_A_PATIENT],
)
def test_it_rejects_an_invalid_entry_from_a_patient_and_stores_nothing(
    app, world, make_body, field
):
    response = world.as_patient_a().post(MINE, json=make_body())
    assert_error_shape(response, 422)
    assert field in response.json["errors"]["json"], response.json
    assert_nothing_stored(app, world)


def test_it_rejects_a_boolean_answer(app, world):
    response = world.as_patient_a().post(MINE, json=entry_body(answers=[1] * 8 + [False]))
    assert_error_shape(response, 422)
    assert set(response.json["errors"]["json"]) == {"answers"}
    assert_nothing_stored(app, world)


def test_it_names_every_failing_field_at_once(app, world):
    body = entry_body(answers=[1] * 8, context="weekly", note="n" * 2001, mood="fine")
    response = world.as_patient_a().post(MINE, json=body)
    assert_error_shape(response, 422)
    assert {"answers", "context", "note", "mood"} <= set(response.json["errors"]["json"])
    assert_nothing_stored(app, world)


def test_it_rejects_the_session_of_another_patient(app, world):
    with database(app) as session:
        other = TreatmentSession(
            patient_id=world.patient_b.id,
            started_at=datetime.now(UTC) - timedelta(hours=2),
            treatment="ketamine_iv",
            created_by_id=world.clinician_x.id,
        )
        session.add(other)
        session.commit()
        other_id = other.id
    body = entry_body(context="post_session", session_id=other_id)
    response = world.as_clinician_x().post(entries_url(world), json=body)
    assert_error_shape(response, 422)
    assert "session_id" in response.json["errors"]["json"]
    assert_nothing_stored(app, world)


# ---------------------------------------------------------------- the edges that are accepted


@pytest.mark.parametrize(
    "make_body",
    [
        pytest.param(lambda: entry_body(note="n" * 2000), id="a_note_of_2000_characters"),
        pytest.param(lambda: entry_body(difficulty=3), id="a_difficulty_of_3_on_phq9"),
        pytest.param(lambda: entry_body(difficulty=None), id="a_null_difficulty"),
        pytest.param(
            lambda: entry_body(taken_at="2000-01-01T00:00:00+00:00"),
            id="taken_at_on_1_january_2000",
        ),
        pytest.param(
            lambda: entry_body(
                taken_at=(datetime.now(UTC) - timedelta(minutes=30))
                .astimezone(timezone(timedelta(hours=-5)))
                .isoformat()
            ),
            id="taken_at_with_a_negative_offset",
        ),
    ],
)
def test_it_accepts_an_entry_just_inside_the_limits(app, world, make_body):
    body = make_body()
    response = world.as_patient_a().post(MINE, json=body)
    assert response.status_code == 201, response.json
    assert response.json["id"] == body["id"]
    assert stored_rows(app) == (1, 0)


def test_a_taken_at_4_minutes_in_the_future_is_accepted(app, world):
    body = entry_body(taken_at=in_minutes(4))
    response = world.as_patient_a().post(MINE, json=body)
    assert response.status_code == 201, response.json
    assert stored_rows(app) == (1, 0)


# ---------------------------------------------------------------- bodies that are not entries


def test_malformed_json_is_a_400(app, world):
    response = world.as_patient_a().post(
        MINE, data='{"id": "x", "answers": [1,', content_type="application/json"
    )
    assert_error_shape(response, 400)
    assert_nothing_stored(app, world)


def test_a_json_list_as_the_body_is_a_400(app, world):
    response = world.as_patient_a().post(
        MINE, data=json.dumps([entry_body()]), content_type="application/json"
    )
    assert_error_shape(response, 400)
    assert_nothing_stored(app, world)


def test_a_body_over_64_kib_is_a_413(app, world):
    body = entry_body(note="n" * (65 * 1024))
    response = world.as_patient_a().post(MINE, json=body)
    assert_error_shape(response, 413)
    assert_nothing_stored(app, world)


# ---------------------------------------------------------------- who may rate what


def test_a_patient_submitting_a_madrs_is_forbidden_and_nothing_is_stored(app, world):
    response = world.as_patient_a().post(MINE, json=entry_body("madrs", answers=[2] * 9 + [5]))
    assert_error_shape(response, 403)
    assert_nothing_stored(app, world)


def test_a_clinician_may_submit_a_madrs(app, world):
    body = entry_body("madrs", answers=[2] * 10)
    response = world.as_clinician_x().post(entries_url(world), json=body)
    assert response.status_code == 201, response.json
    assert response.json["instrument"] == "madrs"
    assert response.json["total"] == 20
    assert response.json["severity"] == "moderate"
    assert response.json["flags"] == []
    assert response.json["entered_by"]["role"] == "clinician"
    assert stored_rows(app) == (1, 0)


def test_a_clinician_madrs_with_suicidal_thoughts_at_4_opens_a_flag(app, world):
    body = entry_body("madrs", answers=[1] * 9 + [4])
    response = world.as_clinician_x().post(entries_url(world), json=body)
    assert response.status_code == 201, response.json
    assert response.json["total"] == 13
    assert response.json["flags"] == ["self_harm"]
    assert stored_rows(app) == (1, 1)


def test_a_clinician_transcribing_a_phq9_with_2_nulls_gets_a_prorated_total(app, world):
    body = entry_body(answers=[2, 2, 1, 1, None, 1, None, 1, 0])
    response = world.as_clinician_x().post(entries_url(world), json=body)
    assert response.status_code == 201, response.json
    entry = response.json
    assert entry["prorated"] is True
    assert entry["imputed_items"] == [5, 7]
    # answered: 7 items summing to 8 -> 8 / 7 * 9 = 10.2857..., stored unrounded
    assert entry["total"] == pytest.approx(72 / 7)
    assert entry["total"] != round(entry["total"])
    assert entry["severity"] == "moderate"
    assert entry["answers"] == [2, 2, 1, 1, None, 1, None, 1, 0]
    assert entry["flags"] == []
    assert stored_rows(app) == (1, 0)


def test_a_complete_entry_is_not_marked_prorated(app, world):
    response = world.as_patient_a().post(MINE, json=entry_body())
    assert response.status_code == 201, response.json
    assert response.json["prorated"] is False
    assert response.json["imputed_items"] == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(entry_body(answers=[1, 1, 1, 1, 1, 1, 1, 1, None]), id="null_on_item_9"),
        pytest.param(
            entry_body(answers=[None, 1, 1, 1, 1, 1, 1, None, None]),
            id="null_on_item_9_and_two_more",
        ),
        pytest.param(entry_body(answers=[None, None, None, 1, 1, 1, 1, 1, 0]), id="three_nulls"),
        pytest.param(entry_body("gad7", answers=[None, 1, 1, 1, 1, 1, 1]), id="a_null_on_gad7"),
        pytest.param(entry_body("madrs", answers=[None] + [2] * 9), id="a_null_on_madrs"),
    ],
)
def test_a_clinician_may_not_leave_these_answers_empty(app, world, body):
    response = world.as_clinician_x().post(entries_url(world), json=body)
    assert_error_shape(response, 422)
    assert "answers" in response.json["errors"]["json"], response.json
    assert_nothing_stored(app, world)


def test_a_clinician_is_refused_a_client_sent_total_too(app, world):
    body = entry_body(answers=[2, 2, 1, 1, None, 1, None, 1, 0], total=10)
    response = world.as_clinician_x().post(entries_url(world), json=body)
    assert_error_shape(response, 422)
    assert "total" in response.json["errors"]["json"]
    assert_nothing_stored(app, world)


# ---------------------------------------------------------------- scores come from the server


@pytest.mark.parametrize(
    ("answers", "total", "severity", "flags"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 1], 1, "minimal", ["self_harm"]),
        ([2, 2, 1, 1, 2, 1, 1, 1, 0], 11, "moderate", []),
        ([3, 3, 3, 3, 3, 2, 2, 1, 0], 20, "severe", []),
        ([3, 3, 3, 3, 3, 3, 3, 3, 3], 27, "severe", ["self_harm"]),
    ],
)
def test_the_total_severity_and_flags_of_a_stored_entry_are_computed_by_the_server(
    app, world, answers, total, severity, flags
):
    response = world.as_patient_a().post(MINE, json=entry_body(answers=answers))
    assert response.status_code == 201, response.json
    assert response.json["total"] == total
    assert response.json["severity"] == severity
    assert response.json["flags"] == flags
    assert stored_rows(app) == (1, len(flags))
    listed = world.as_patient_a().get(MINE)
    assert [(e["total"], e["severity"]) for e in listed.json["items"]] == [(total, severity)]
