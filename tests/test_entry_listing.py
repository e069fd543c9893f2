"""Listing, reading and voiding a patient's entries."""

from __future__ import annotations

import base64
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from server.data.models import Entry
from tests.conftest import database, entry_body

UTC_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def entries_path(pid: str = "me") -> str:
    return f"/api/v1/patients/{pid}/entries"


def submit(browser, instrument: str = "phq9", pid: str = "me", **fields) -> dict:
    response = browser.post(entries_path(pid), json=entry_body(instrument, **fields))
    assert response.status_code == 201, response.json
    return response.json


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def walk(browser, query: str) -> list[list[dict]]:
    """Every page of the list, following next_cursor until it is null."""
    pages = []
    url = f"{entries_path()}?{query}"
    while True:
        response = browser.get(url)
        assert response.status_code == 200, response.json
        pages.append(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor never ends"
        url = f"{entries_path()}?{query}&cursor={quote(cursor, safe='')}"


@pytest.fixture
def patient(world):
    return world.as_patient_a()


# ---------------------------------------------------------------- the list


def test_the_list_is_the_envelope_of_items_and_next_cursor(patient):
    submit(patient)

    listed = patient.get(entries_path())

    assert listed.status_code == 200
    assert set(listed.json) == {"items", "next_cursor"}
    assert listed.json["next_cursor"] is None
    assert len(listed.json["items"]) == 1


def test_the_list_is_oldest_first_by_taken_at_not_by_submission(patient):
    times = [f"2026-10-{day:02d}T12:00:00+00:00" for day in (1, 2, 3, 4, 5)]
    shuffled = times[:]
    random.Random(7).shuffle(shuffled)
    for taken_at in shuffled:
        submit(patient, taken_at=taken_at)

    listed = patient.get(entries_path())

    assert [item["taken_at"] for item in listed.json["items"]] == [
        t.replace("+00:00", "Z") for t in times
    ]


def test_an_empty_list_has_no_items_and_no_cursor(patient):
    listed = patient.get(entries_path())

    assert listed.json == {"items": [], "next_cursor": None}


# ---------------------------------------------------------------- pagination


def test_pages_of_two_walk_every_entry_exactly_once_in_order(patient):
    # Two entries share a taken_at so that the id has to break the tie across pages.
    times = [
        "2026-10-01T08:00:00+00:00",
        "2026-10-02T08:00:00+00:00",
        "2026-10-02T08:00:00+00:00",
        "2026-10-03T08:00:00+00:00",
        "2026-10-04T08:00:00+00:00",
    ]
    stored = [submit(patient, taken_at=taken_at) for taken_at in times]

    pages = walk(patient, "limit=2")

    assert [len(page) for page in pages] == [2, 2, 1]
    walked = [item["id"] for page in pages for item in page]
    expected = [e["id"] for e in sorted(stored, key=lambda e: (e["taken_at"], e["id"]))]
    assert walked == expected


def test_the_last_page_has_a_null_next_cursor(patient):
    for day in (1, 2, 3, 4):
        submit(patient, taken_at=f"2026-10-{day:02d}T08:00:00+00:00")

    first = patient.get(f"{entries_path()}?limit=2")
    second = patient.get(f"{entries_path()}?limit=2&cursor={quote(first.json['next_cursor'])}")

    assert first.json["next_cursor"] is not None
    assert len(second.json["items"]) == 2
    assert second.json["next_cursor"] is None


def test_the_default_page_holds_one_hundred_entries(app, world, patient):
    account = world.account_of(world.patient_a)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with database(app) as session:
        for hour in range(101):
            session.add(
                Entry(
                    id=str(uuid.uuid4()),
                    patient_id=world.patient_a.id,
                    instrument="gad7",
                    answers=[0] * 7,
                    taken_at=start + timedelta(hours=hour),
                    context="routine",
                    total=0,
                    severity="minimal",
                    flags=[],
                    imputed_items=[],
                    entered_by_id=account.id,
                    entered_by_role="patient",
                    request_hash="0" * 64,
                )
            )
        session.commit()

    listed = patient.get(entries_path())

    assert len(listed.json["items"]) == 100
    assert listed.json["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-1", "1.5"])
def test_a_limit_outside_1_to_1000_is_rejected(patient, limit):
    response = patient.get(f"{entries_path()}?limit={limit}")

    assert response.status_code == 422, response.json
    assert "limit" in response.json["errors"]["query"]


@pytest.mark.parametrize("limit", ["1", "1000"])
def test_the_limit_edges_are_accepted(patient, limit):
    assert patient.get(f"{entries_path()}?limit={limit}").status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        b64("not json"),
        b64("[]"),
        b64("{}"),
        b64("42"),
        b64('["not a time", "x"]'),
        b64('[null, "x"]'),
        b64('["2026-10-01T08:00:00+00:00", "x", "extra"]'),
        b64('["2026-10-01T08:00:00", "naive"]'),
        "a" * 600,
    ],
    ids=[
        "word",
        "punctuation",
        "not-json",
        "empty-list",
        "object",
        "number",
        "bad-time",
        "null-time",
        "three-values",
        "naive-time",
        "too-long",
    ],
)
def test_a_cursor_the_api_did_not_give_out_is_rejected(patient, cursor):
    submit(patient)

    response = patient.get(f"{entries_path()}?cursor={quote(cursor, safe='')}")

    assert response.status_code == 422, response.json
    assert "cursor" in response.json["errors"]["query"]


def test_an_unknown_query_parameter_is_rejected(patient):
    response = patient.get(f"{entries_path()}?sort=newest")

    assert response.status_code == 422, response.json
    assert "sort" in response.json["errors"]["query"]


# ---------------------------------------------------------------- filters


def test_the_instrument_filter_keeps_only_that_instrument(patient):
    submit(patient, "phq9", taken_at="2026-10-01T08:00:00+00:00")
    gad = submit(patient, "gad7", taken_at="2026-10-02T08:00:00+00:00")
    submit(patient, "phq9", taken_at="2026-10-03T08:00:00+00:00")

    listed = patient.get(f"{entries_path()}?instrument=gad7")

    assert [item["id"] for item in listed.json["items"]] == [gad["id"]]


def test_an_unknown_instrument_filter_is_rejected(patient):
    response = patient.get(f"{entries_path()}?instrument=nope")

    assert response.status_code == 422
    assert "instrument" in response.json["errors"]["query"]


@pytest.fixture
def three_days(patient):
    """Entries on 1, 2 and 3 October at 08:00 UTC, by taken_at."""
    return {
        day: submit(patient, taken_at=f"2026-10-0{day}T08:00:00+00:00")["id"] for day in (1, 2, 3)
    }


def test_since_includes_an_entry_taken_at_exactly_that_time_given_with_an_offset(
    patient, three_days
):
    since = quote("2026-10-02T10:00:00+02:00")  # 08:00 UTC

    listed = patient.get(f"{entries_path()}?since={since}")

    assert [item["id"] for item in listed.json["items"]] == [three_days[2], three_days[3]]


def test_until_includes_an_entry_taken_at_exactly_that_time_given_with_an_offset(
    patient, three_days
):
    until = quote("2026-10-02T03:00:00-05:00")  # 08:00 UTC

    listed = patient.get(f"{entries_path()}?until={until}")

    assert [item["id"] for item in listed.json["items"]] == [three_days[1], three_days[2]]


def test_since_and_until_together_bound_the_list(patient, three_days):
    since = quote("2026-10-01T08:00:01+00:00")
    until = quote("2026-10-03T07:59:59+00:00")

    listed = patient.get(f"{entries_path()}?since={since}&until={until}")

    assert [item["id"] for item in listed.json["items"]] == [three_days[2]]


@pytest.mark.parametrize("name", ["since", "until"])
def test_a_time_filter_without_an_offset_is_rejected(patient, name):
    response = patient.get(f"{entries_path()}?{name}=2026-10-02T08:00:00")

    assert response.status_code == 422
    assert name in response.json["errors"]["query"]


def test_filters_and_pagination_work_together(patient):
    kept = [
        submit(patient, "gad7", taken_at=f"2026-10-0{day}T08:00:00+00:00")["id"]
        for day in (1, 2, 3)
    ]
    submit(patient, "phq9", taken_at="2026-10-02T09:00:00+00:00")

    pages = walk(patient, "instrument=gad7&limit=1")

    assert [item["id"] for page in pages for item in page] == kept


# ---------------------------------------------------------------- times


def test_times_are_answered_in_utc_with_a_z_and_whole_seconds(patient):
    stored = submit(patient, taken_at="2026-11-20T09:30:15.987654+01:00")

    listed = patient.get(entries_path()).json["items"][0]

    assert stored["taken_at"] == listed["taken_at"] == "2026-11-20T08:30:15Z"
    assert UTC_SECONDS.match(listed["received_at"])


# ---------------------------------------------------------------- one entry


def test_one_entry_is_read_by_its_id(patient):
    stored = submit(patient, note="after a long walk")

    response = patient.get(f"{entries_path()}/{stored['id']}")

    assert response.status_code == 200
    assert response.json == stored
    assert response.json["note"] == "after a long walk"


def test_an_unknown_entry_id_is_not_found(patient):
    response = patient.get(f"{entries_path()}/{uuid.uuid4()}")

    assert response.status_code == 404


# ---------------------------------------------------------------- voiding


def test_voiding_an_entry_marks_it_with_the_reason(patient):
    stored = submit(patient)

    response = patient.post(
        f"{entries_path()}/{stored['id']}/void", json={"reason": "entered by mistake"}
    )

    assert response.status_code == 200, response.json
    assert response.json["id"] == stored["id"]
    assert response.json["voided"] is True
    assert response.json["void_reason"] == "entered by mistake"
    assert UTC_SECONDS.match(response.json["voided_at"])


def test_a_voided_entry_stays_in_the_list_marked(patient):
    kept = submit(patient, taken_at="2026-10-01T08:00:00+00:00")
    voided = submit(patient, taken_at="2026-10-02T08:00:00+00:00")
    patient.post(f"{entries_path()}/{voided['id']}/void", json={"reason": "duplicate"})

    items = patient.get(entries_path()).json["items"]

    assert [(item["id"], item["voided"]) for item in items] == [
        (kept["id"], False),
        (voided["id"], True),
    ]
    assert items[1]["void_reason"] == "duplicate"


def test_voiding_an_entry_twice_is_a_conflict(patient):
    stored = submit(patient)
    path = f"{entries_path()}/{stored['id']}/void"
    patient.post(path, json={"reason": "first"})

    again = patient.post(path, json={"reason": "second"})

    assert again.status_code == 409
    assert patient.get(f"{entries_path()}/{stored['id']}").json["void_reason"] == "first"


@pytest.mark.parametrize(
    "body", [{"reason": ""}, {"reason": "   "}, {}, {"reason": None}, {"reason": "x" * 2001}]
)
def test_a_void_without_a_real_reason_is_rejected(patient, body):
    stored = submit(patient)

    response = patient.post(f"{entries_path()}/{stored['id']}/void", json=body)

    assert response.status_code == 422, response.json
    assert "reason" in response.json["errors"]["json"]
    assert patient.get(f"{entries_path()}/{stored['id']}").json["voided"] is False


def test_a_void_with_an_unknown_field_is_rejected(patient):
    stored = submit(patient)

    response = patient.post(
        f"{entries_path()}/{stored['id']}/void", json={"reason": "typo", "delete": True}
    )

    assert response.status_code == 422


def test_a_clinician_can_void_a_patients_entry(world, patient):
    stored = submit(patient)

    response = world.as_clinician_x().post(
        f"{entries_path(world.patient_a.id)}/{stored['id']}/void", json={"reason": "transcribed"}
    )

    assert response.status_code == 200
    assert response.json["voided"] is True


def test_another_patient_cannot_void_the_entry(world, patient):
    stored = submit(patient)
    other = world.as_patient_b()

    via_me = other.post(f"{entries_path()}/{stored['id']}/void", json={"reason": "not mine"})
    via_id = other.post(
        f"{entries_path(world.patient_a.id)}/{stored['id']}/void", json={"reason": "not mine"}
    )

    assert (via_me.status_code, via_id.status_code) == (404, 404)
    assert patient.get(f"{entries_path()}/{stored['id']}").json["voided"] is False
