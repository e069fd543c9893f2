"""Entries are stored under the client's id: a replay is answered, never stored twice."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from server.data.models import Entry, Flag
from tests.conftest import database, entry_body

TAKEN_AT = "2026-11-20T09:15:00+01:00"
SELF_HARM_ANSWERS = [2, 2, 1, 1, 2, 1, 1, 1, 2]


def entries_path(pid: str = "me") -> str:
    return f"/api/v1/patients/{pid}/entries"


def entry_rows(app, entry_id: str | None = None) -> int:
    statement = select(func.count()).select_from(Entry)
    if entry_id is not None:
        statement = statement.where(Entry.id == entry_id)
    with database(app) as session:
        return session.scalar(statement)


def flag_rows(app) -> int:
    with database(app) as session:
        return session.scalar(select(func.count()).select_from(Flag))


def assert_error_shape(response, status: int) -> None:
    assert response.status_code == status, response.json
    assert response.json["code"] == status
    assert isinstance(response.json["status"], str)
    assert set(response.json) <= {"code", "status", "message", "errors"}


def replay_all_at_once(browsers, path: str, body: dict) -> tuple[list[int], list]:
    """Send the same body from every browser at the same moment: statuses and responses."""
    barrier = threading.Barrier(len(browsers))

    def send(browser):
        barrier.wait(timeout=30)
        return browser.post(path, json=body)

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        responses = list(pool.map(send, browsers))
    return [response.status_code for response in responses], responses


# ---------------------------------------------------------------- sequential replays


def test_a_replayed_entry_is_answered_200_with_the_same_entry(world):
    patient = world.as_patient_a()
    body = entry_body(taken_at=TAKEN_AT, note="slept badly")

    first = patient.post(entries_path(), json=body)
    second = patient.post(entries_path(), json=body)

    assert first.status_code == 201, first.json
    assert second.status_code == 200, second.json
    assert second.json == first.json
    assert second.json["id"] == body["id"]


def test_a_replayed_entry_is_not_stored_twice(app, world):
    patient = world.as_patient_a()
    body = entry_body(taken_at=TAKEN_AT)

    patient.post(entries_path(), json=body)
    patient.post(entries_path(), json=body)

    assert entry_rows(app) == 1


def test_a_replay_with_the_same_instant_in_another_offset_is_still_a_replay(app, world):
    patient = world.as_patient_a()
    body = entry_body(taken_at="2026-11-20T09:15:00+01:00")

    first = patient.post(entries_path(), json=body)
    again = patient.post(entries_path(), json={**body, "taken_at": "2026-11-20T08:15:00Z"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert entry_rows(app) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"answers": [3, 2, 1, 1, 2, 1, 1, 1, 0]},
        {"taken_at": "2026-11-20T09:16:00+01:00"},
        {"note": "a note the first time did not have"},
        {"context": "baseline"},
        {"difficulty": 1},
    ],
    ids=["answers", "taken_at", "note", "context", "difficulty"],
)
def test_the_same_id_with_a_different_body_is_a_conflict(app, world, change):
    patient = world.as_patient_a()
    body = entry_body(taken_at=TAKEN_AT)
    stored = patient.post(entries_path(), json=body)
    assert stored.status_code == 201

    conflict = patient.post(entries_path(), json={**body, **change})

    assert_error_shape(conflict, 409)
    assert entry_rows(app) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"answers": [3, 3, 3, 3, 3, 3, 3, 3, 3]},
        {"taken_at": "2026-11-21T09:15:00+01:00"},
        {"note": "overwritten?"},
    ],
    ids=["answers", "taken_at", "note"],
)
def test_a_conflicting_replay_leaves_the_stored_entry_unchanged(app, world, change):
    patient = world.as_patient_a()
    body = entry_body(taken_at=TAKEN_AT, note="the original note")
    stored = patient.post(entries_path(), json=body)

    patient.post(entries_path(), json={**body, **change})

    after = patient.get(f"{entries_path()}/{body['id']}")
    assert after.status_code == 200
    assert after.json == stored.json
    assert entry_rows(app) == 1


# ---------------------------------------------------------------- another patient's id


def test_another_patient_reusing_an_entry_id_gets_a_conflict_that_reveals_nothing(app, world):
    body = entry_body(taken_at=TAKEN_AT, note="private to Alice")
    assert world.as_patient_a().post(entries_path(), json=body).status_code == 201

    reused = world.as_patient_b().post(entries_path(), json=body)

    assert_error_shape(reused, 409)
    text = reused.get_data(as_text=True)
    assert "answers" not in reused.json
    assert "private to Alice" not in text
    assert "Alice" not in text
    assert world.patient_a.id not in text


def test_a_clinician_filing_an_id_of_patient_a_under_patient_b_gets_a_conflict(app, world):
    body = entry_body(taken_at=TAKEN_AT, note="private to Alice")
    assert world.as_patient_a().post(entries_path(), json=body).status_code == 201

    reused = world.as_clinician_x().post(entries_path(world.patient_b.id), json=body)

    assert_error_shape(reused, 409)
    text = reused.get_data(as_text=True)
    assert "answers" not in reused.json
    assert "private to Alice" not in text
    assert world.patient_a.id not in text


def test_a_reused_id_for_another_patient_leaves_the_entry_with_its_patient(app, world):
    body = entry_body(taken_at=TAKEN_AT)
    world.as_patient_a().post(entries_path(), json=body)

    world.as_patient_b().post(entries_path(), json=body)

    with database(app) as session:
        owners = session.scalars(select(Entry.patient_id)).all()
    assert owners == [world.patient_a.id]
    assert world.as_patient_b().get(entries_path()).json["items"] == []


# ---------------------------------------------------------------- concurrent replays


def test_two_simultaneous_replays_store_one_entry_and_answer_201_and_200(app, world):
    account = world.account_of(world.patient_a)
    browsers = [world.browser(account) for _ in range(2)]
    body = entry_body(taken_at=TAKEN_AT)

    statuses, responses = replay_all_at_once(browsers, entries_path(), body)

    assert sorted(statuses) == [200, 201], [r.json for r in responses]
    assert responses[0].json == responses[1].json
    assert entry_rows(app) == 1


def test_ten_simultaneous_replays_answer_one_201_and_nine_200(app, world):
    account = world.account_of(world.patient_a)
    browsers = [world.browser(account) for _ in range(10)]
    body = entry_body(taken_at=TAKEN_AT)

    statuses, responses = replay_all_at_once(browsers, entries_path(), body)

    assert sorted(statuses) == [200] * 9 + [201], [r.json for r in responses]
    assert len({response.json["received_at"] for response in responses}) == 1
    assert entry_rows(app) == 1


# ---------------------------------------------------------------- safety flags


def test_a_replayed_self_harm_entry_opens_exactly_one_flag(app, world):
    patient = world.as_patient_a()
    body = entry_body(answers=SELF_HARM_ANSWERS, taken_at=TAKEN_AT)

    first = patient.post(entries_path(), json=body)
    second = patient.post(entries_path(), json=body)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["flags"] == ["self_harm"]
    assert flag_rows(app) == 1


def test_simultaneous_replays_of_a_self_harm_entry_open_exactly_one_flag(app, world):
    account = world.account_of(world.patient_a)
    browsers = [world.browser(account) for _ in range(5)]
    body = entry_body(answers=SELF_HARM_ANSWERS, taken_at=TAKEN_AT)

    statuses, _ = replay_all_at_once(browsers, entries_path(), body)

    assert sorted(statuses) == [200] * 4 + [201]
    assert flag_rows(app) == 1


# ---------------------------------------------------------------- replay after a void


def test_a_replay_after_the_entry_was_voided_answers_200_with_the_voided_entry(app, world):
    patient = world.as_patient_a()
    body = entry_body(taken_at=TAKEN_AT)
    assert patient.post(entries_path(), json=body).status_code == 201
    voided = patient.post(f"{entries_path()}/{body['id']}/void", json={"reason": "wrong day"})
    assert voided.status_code == 200

    replay = patient.post(entries_path(), json=body)

    assert replay.status_code == 200, replay.json
    assert replay.json["voided"] is True
    assert replay.json["void_reason"] == "wrong day"
    assert entry_rows(app) == 1


def test_a_replay_after_a_void_does_not_reopen_the_entry_or_its_flag(app, world):
    patient = world.as_patient_a()
    body = entry_body(answers=SELF_HARM_ANSWERS, taken_at=TAKEN_AT)
    patient.post(entries_path(), json=body)
    patient.post(f"{entries_path()}/{body['id']}/void", json={"reason": "entered twice"})

    patient.post(entries_path(), json=body)

    with database(app) as session:
        entry = session.get(Entry, body["id"])
        assert entry.voided is True
    assert flag_rows(app) == 1


def test_a_fresh_id_with_the_same_content_is_a_new_entry(app, world):
    patient = world.as_patient_a()
    body = entry_body(taken_at=TAKEN_AT)
    patient.post(entries_path(), json=body)

    other = patient.post(entries_path(), json={**body, "id": str(uuid.uuid4())})

    assert other.status_code == 201
    assert entry_rows(app) == 2
