"""Safety flags: opened by a positive safety item, listed for the clinic, resolved with a note."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent, Flag
from tests.conftest import database, entry_body, make_patient

UTC_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FLAGS = "/api/v1/flags"
FLAG_FIELDS = {
    "id",
    "patient",
    "entry",
    "kind",
    "opened_at",
    "status",
    "resolved_by",
    "resolved_at",
    "note",
    "signal",
    "raised_by",
    "age_hours",
    "hours_to_resolve",
    "overdue",
}
ITEM_9_ONLY = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def resolve_path(fid: str) -> str:
    return f"{FLAGS}/{fid}/resolve"


def submit(browser, pid: str = "me", instrument: str = "phq9", answers=None) -> dict:
    response = browser.post(
        f"/api/v1/patients/{pid}/entries", json=entry_body(instrument, answers=answers)
    )
    assert response.status_code == 201, response.json
    return response.json


def open_a_flag(world, pid: str | None = None) -> dict:
    """Patient A (or, through the clinician, patient `pid`) answers item 9 with 1: the flag."""
    if pid is None:
        entry = submit(world.as_patient_a(), answers=ITEM_9_ONLY)
    else:
        entry = submit(world.as_clinician_x(), pid, answers=ITEM_9_ONLY)
    [flag] = [
        item for item in list_flags(world.as_clinician_x()) if item["entry"]["id"] == entry["id"]
    ]
    return flag


def list_flags(browser, query: str = "") -> list[dict]:
    response = browser.get(f"{FLAGS}?{query}" if query else FLAGS)
    assert response.status_code == 200, response.json
    assert response.json["next_cursor"] is None
    return response.json["items"]


def flag_row(app, fid: str) -> dict | None:
    with database(app) as session:
        flag = session.get(Flag, fid)
        if flag is None:
            return None
        return {
            "status": flag.status,
            "resolved_by_id": flag.resolved_by_id,
            "resolved_at": flag.resolved_at,
            "note": flag.note,
            "entry_id": flag.entry_id,
        }


def audit_events(app, action: str) -> list[dict]:
    with database(app) as session:
        return [
            {
                "actor_id": event.actor_id,
                "actor_role": event.actor_role,
                "patient_id": event.patient_id,
                "detail": event.detail,
            }
            for event in session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


@pytest.fixture
def clinician(world):
    return world.as_clinician_x()


# ---------------------------------------------------------------- opening a flag


def test_phq9_item_9_at_1_opens_one_self_harm_flag_whatever_the_total(world, clinician):
    entry = submit(world.as_patient_a(), answers=ITEM_9_ONLY)

    flags = list_flags(clinician)

    assert entry["total"] == 1
    assert entry["flags"] == ["self_harm"]
    assert [(flag["kind"], flag["entry"]["id"], flag["status"]) for flag in flags] == [
        ("self_harm", entry["id"], "open")
    ]


@pytest.mark.parametrize("item_9", [2, 3])
def test_phq9_item_9_above_1_opens_a_flag_too(world, clinician, item_9):
    submit(world.as_patient_a(), answers=[0] * 8 + [item_9])

    assert [flag["kind"] for flag in list_flags(clinician)] == ["self_harm"]


def test_phq9_item_9_at_0_opens_no_flag_even_with_a_severe_total(world, clinician):
    entry = submit(world.as_patient_a(), answers=[3, 3, 3, 3, 3, 3, 3, 3, 0])

    assert entry["severity"] == "severe"
    assert entry["flags"] == []
    assert list_flags(clinician) == []


def test_a_replayed_entry_does_not_open_a_second_flag(app, world, clinician):
    patient = world.as_patient_a()
    body = entry_body(answers=ITEM_9_ONLY)
    assert patient.post("/api/v1/patients/me/entries", json=body).status_code == 201
    assert patient.post("/api/v1/patients/me/entries", json=body).status_code == 200

    assert len(list_flags(clinician)) == 1


@pytest.mark.parametrize(("item_10", "flagged"), [(4, True), (6, True), (3, False), (0, False)])
def test_a_madrs_opens_a_flag_when_item_10_is_4_or_more(world, clinician, item_10, flagged):
    entry = submit(clinician, world.patient_a.id, "madrs", answers=[0] * 9 + [item_10])

    flags = list_flags(clinician)

    assert entry["flags"] == (["self_harm"] if flagged else [])
    assert [(flag["kind"], flag["entry"]["id"]) for flag in flags] == (
        [("self_harm", entry["id"])] if flagged else []
    )


def test_gad7_never_opens_a_flag(world, clinician):
    submit(world.as_patient_a(), instrument="gad7", answers=[3] * 7)

    assert list_flags(clinician) == []


# ---------------------------------------------------------------- the inbox


def test_a_flag_is_listed_with_its_patient_entry_and_state(world, clinician):
    entry = submit(world.as_patient_a(), answers=ITEM_9_ONLY)

    [flag] = list_flags(clinician)

    assert set(flag) == FLAG_FIELDS
    assert flag["patient"]["id"] == world.patient_a.id
    assert flag["patient"]["display_name"] == "Alice A"
    assert flag["entry"]["id"] == entry["id"]
    assert flag["entry"]["answers"] == ITEM_9_ONLY
    assert flag["kind"] == "self_harm"
    assert UTC_SECONDS.match(flag["opened_at"])
    assert (flag["status"], flag["resolved_by"], flag["resolved_at"], flag["note"]) == (
        "open",
        None,
        None,
        None,
    )


def test_the_inbox_is_oldest_first(app, world, clinician):
    fids = [open_a_flag(world)["id"] for _ in range(4)]
    # Opened within the same second: give them distinct times, newest for the first one.
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with database(app) as session:
        for minutes, fid in zip((40, 30, 20, 10), fids, strict=True):
            session.get(Flag, fid).opened_at = base + timedelta(minutes=minutes)
        session.commit()

    listed = list_flags(clinician)

    assert [flag["id"] for flag in listed] == fids[::-1]
    assert listed[0]["opened_at"] == (base + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_inbox_lists_every_patient_of_the_clinic(world, clinician):
    alices = open_a_flag(world)
    bobs = open_a_flag(world, world.patient_b.id)

    listed = list_flags(clinician)

    assert {(flag["id"], flag["patient"]["id"]) for flag in listed} == {
        (alices["id"], world.patient_a.id),
        (bobs["id"], world.patient_b.id),
    }


def test_the_status_filter_separates_open_from_resolved_flags(world, clinician):
    resolved, still_open = open_a_flag(world), open_a_flag(world)
    response = clinician.post(resolve_path(resolved["id"]), json={"note": "Called, safe."})
    assert response.status_code == 200, response.json

    assert [flag["id"] for flag in list_flags(clinician, "status=open")] == [still_open["id"]]
    assert [flag["id"] for flag in list_flags(clinician, "status=resolved")] == [resolved["id"]]
    assert {flag["id"] for flag in list_flags(clinician)} == {resolved["id"], still_open["id"]}


@pytest.mark.parametrize("status", ["bogus", "OPEN", ""])
def test_an_unknown_status_filter_is_refused(world, clinician, status):
    open_a_flag(world)

    response = clinician.get(f"{FLAGS}?status={status}")

    assert response.status_code == 422, response.json
    assert "status" in response.json["errors"]["query"]


def test_a_patient_may_not_read_the_inbox(world):
    open_a_flag(world)

    response = world.as_patient_a().get(FLAGS)

    assert response.status_code == 403, response.json


def test_the_inbox_needs_a_sign_in(world):
    open_a_flag(world)

    response = world.browser().get(FLAGS)

    assert response.status_code == 401, response.json


def test_a_clinician_of_another_clinic_sees_none_of_the_clinics_flags(app, world):
    xs = open_a_flag(world)
    with database(app):
        yves = make_patient(world.clinic_y, "Yves Y")
    ys_entry = submit(world.as_clinician_y(), yves.id, answers=ITEM_9_ONLY)

    seen_by_y = list_flags(world.as_clinician_y())
    seen_by_x = list_flags(world.as_clinician_x())

    assert [flag["entry"]["id"] for flag in seen_by_y] == [ys_entry["id"]]
    assert [flag["id"] for flag in seen_by_x] == [xs["id"]]


def test_a_clinician_of_another_clinic_with_no_flags_sees_an_empty_inbox(world):
    open_a_flag(world)

    assert list_flags(world.as_clinician_y()) == []


def test_the_inbox_pages_through_every_flag_with_limit_1(world, clinician):
    fids = {open_a_flag(world)["id"] for _ in range(3)}
    everything = [flag["id"] for flag in list_flags(clinician)]

    walked = []
    url = f"{FLAGS}?limit=1"
    for _ in range(10):
        response = clinician.get(url)
        assert response.status_code == 200, response.json
        assert len(response.json["items"]) <= 1
        walked += [flag["id"] for flag in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        url = f"{FLAGS}?limit=1&cursor={quote(cursor, safe='')}"

    assert walked == everything
    assert set(walked) == fids


def test_listing_flags_is_audited(app, world, clinician):
    open_a_flag(world)
    before = len(audit_events(app, "flags.read"))

    list_flags(clinician)

    events = audit_events(app, "flags.read")
    assert len(events) == before + 1
    assert (events[-1]["actor_id"], events[-1]["actor_role"]) == (
        world.clinician_x.id,
        "clinician",
    )


# ---------------------------------------------------------------- resolving a flag


def test_a_clinician_resolves_a_flag_with_a_note(app, world, clinician):
    flag = open_a_flag(world)

    response = clinician.post(resolve_path(flag["id"]), json={"note": "Called the patient; safe."})

    assert response.status_code == 200, response.json
    resolved = response.json
    assert set(resolved) == FLAG_FIELDS
    assert resolved["id"] == flag["id"]
    assert resolved["status"] == "resolved"
    assert resolved["resolved_by"] == {"id": world.clinician_x.id, "display_name": "Dr Test"}
    assert UTC_SECONDS.match(resolved["resolved_at"])
    assert resolved["note"] == "Called the patient; safe."
    assert resolved["opened_at"] == flag["opened_at"]
    row = flag_row(app, flag["id"])
    assert (row["status"], row["resolved_by_id"], row["note"]) == (
        "resolved",
        world.clinician_x.id,
        "Called the patient; safe.",
    )
    [listed] = list_flags(clinician, "status=resolved")
    assert listed == resolved


def test_a_note_of_exactly_2000_characters_is_accepted(world, clinician):
    flag = open_a_flag(world)

    response = clinician.post(resolve_path(flag["id"]), json={"note": "n" * 2000})

    assert response.status_code == 200, response.json
    assert response.json["note"] == "n" * 2000


BAD_NOTES = {
    "no note": {},
    "an empty note": {"note": ""},
    "a blank note": {"note": "   \n "},
    "a note of 2001 characters": {"note": "n" * 2001},
    "a null note": {"note": None},
    "a number": {"note": 5},
}


@pytest.mark.parametrize("body", list(BAD_NOTES.values()), ids=list(BAD_NOTES))
def test_a_flag_is_not_resolved_without_a_valid_note(app, world, clinician, body):
    flag = open_a_flag(world)

    response = clinician.post(resolve_path(flag["id"]), json=body)

    assert response.status_code == 422, response.json
    assert "note" in response.json["errors"]["json"]
    assert flag_row(app, flag["id"])["status"] == "open"
    assert [item["id"] for item in list_flags(clinician, "status=open")] == [flag["id"]]


def test_an_unknown_field_in_the_resolution_is_refused(app, world, clinician):
    flag = open_a_flag(world)

    response = clinician.post(resolve_path(flag["id"]), json={"note": "ok", "status": "open"})

    assert response.status_code == 422, response.json
    assert "status" in response.json["errors"]["json"]
    assert flag_row(app, flag["id"])["status"] == "open"


def test_resolving_a_resolved_flag_is_a_conflict_and_keeps_the_first_resolution(
    app, world, clinician
):
    flag = open_a_flag(world)
    first = clinician.post(resolve_path(flag["id"]), json={"note": "First."})
    assert first.status_code == 200, first.json

    again = world.as_admin_x().post(resolve_path(flag["id"]), json={"note": "Second."})

    assert again.status_code == 409, again.json
    assert again.json["code"] == 409
    row = flag_row(app, flag["id"])
    assert (row["resolved_by_id"], row["note"]) == (world.clinician_x.id, "First.")
    assert len(audit_events(app, "flag.resolve")) == 1


def test_a_clinician_of_another_clinic_cannot_resolve_the_flag(app, world):
    flag = open_a_flag(world)

    response = world.as_clinician_y().post(resolve_path(flag["id"]), json={"note": "Not mine."})

    assert response.status_code == 404, response.json
    assert flag_row(app, flag["id"])["status"] == "open"
    assert audit_events(app, "flag.resolve") == []


def test_a_patient_may_not_resolve_their_own_flag(app, world):
    flag = open_a_flag(world)

    response = world.as_patient_a().post(resolve_path(flag["id"]), json={"note": "I'm fine."})

    assert response.status_code == 403, response.json
    assert flag_row(app, flag["id"])["status"] == "open"


def test_resolving_an_unknown_flag_is_not_found(world, clinician):
    response = clinician.post(
        resolve_path("00000000-0000-4000-8000-000000000000"), json={"note": "?"}
    )

    assert response.status_code == 404, response.json


def test_resolving_needs_the_csrf_token(app, world):
    flag = open_a_flag(world)
    without_csrf = world.browser(world.clinician_x, csrf=False)

    response = without_csrf.post(resolve_path(flag["id"]), json={"note": "ok"})

    assert response.status_code == 403, response.json
    assert flag_row(app, flag["id"])["status"] == "open"


def test_a_resolved_flag_is_kept_not_deleted(app, world, clinician):
    flag = open_a_flag(world)

    clinician.post(resolve_path(flag["id"]), json={"note": "Safe."})

    row = flag_row(app, flag["id"])
    assert row is not None
    assert row["entry_id"] == flag["entry"]["id"]
    assert [item["id"] for item in list_flags(clinician)] == [flag["id"]]


def test_voiding_the_entry_does_not_close_its_flag(app, world, clinician):
    flag = open_a_flag(world)
    entry_id = flag["entry"]["id"]

    voided = world.as_patient_a().post(
        f"/api/v1/patients/me/entries/{entry_id}/void", json={"reason": "pressed the wrong one"}
    )

    assert voided.status_code == 200, voided.json
    [still_open] = list_flags(clinician, "status=open")
    assert still_open["id"] == flag["id"]
    assert still_open["entry"]["voided"] is True
    assert flag_row(app, flag["id"])["status"] == "open"
    summary = clinician.get(f"/api/v1/patients/{world.patient_a.id}/summary").json
    assert [item["id"] for item in summary["open_flags"]] == [flag["id"]]


def test_resolving_is_audited_with_the_patient_and_the_actor(app, world, clinician):
    flag = open_a_flag(world)

    clinician.post(resolve_path(flag["id"]), json={"note": "Safe."})

    [event] = audit_events(app, "flag.resolve")
    assert event["patient_id"] == world.patient_a.id
    assert (event["actor_id"], event["actor_role"]) == (world.clinician_x.id, "clinician")
    assert event["detail"]["flag_id"] == flag["id"]


def test_a_refused_resolution_is_not_audited_as_a_resolution(app, world, clinician):
    flag = open_a_flag(world)

    clinician.post(resolve_path(flag["id"]), json={"note": ""})

    assert audit_events(app, "flag.resolve") == []


def test_two_clinicians_resolving_at_once_give_one_200_and_one_409(app, world):
    flag = open_a_flag(world)
    browsers = [world.as_clinician_x(), world.as_admin_x()]
    barrier = threading.Barrier(len(browsers))

    def resolve(browser):
        barrier.wait(timeout=30)
        return browser.post(resolve_path(flag["id"]), json={"note": f"By {browser.user['email']}"})

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        responses = list(pool.map(resolve, browsers))

    assert sorted(response.status_code for response in responses) == [200, 409]
    [winner] = [response.json for response in responses if response.status_code == 200]
    row = flag_row(app, flag["id"])
    assert (row["resolved_by_id"], row["note"]) == (winner["resolved_by"]["id"], winner["note"])
    assert len(audit_events(app, "flag.resolve")) == 1
