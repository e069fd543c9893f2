"""Safety signals: a positive item-9 answer reaches the clinic the moment it is given, opens one
flag for its check-in, and the finished entry joins that flag whichever arrives first."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, Flag, SafetySignal
from tests.conftest import TokenClient, database, entry_body

FLAGS = "/api/v1/flags"
ITEM_9_TEXT = "Thoughts that you would be better off dead or of hurting yourself in some way"


def signals_path(pid: str = "me") -> str:
    return f"/api/v1/patients/{pid}/safety-signals"


def signal_body(**overrides) -> dict:
    """A positive PHQ-9 item 9 ("Several days"), answered a minute ago, for a new check-in."""
    body = {
        "id": str(uuid.uuid4()),
        "checkin_id": str(uuid.uuid4()),
        "instrument": "phq9",
        "item": "phq9_9",
        "answer": 1,
        "answered_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    body.update(overrides)
    return body


def send(browser, body: dict, pid: str = "me", expected: int = 201) -> dict:
    response = browser.post(signals_path(pid), json=body)
    assert response.status_code == expected, response.json
    return response.json


def inbox(browser, query: str = "") -> list[dict]:
    response = browser.get(f"{FLAGS}?{query}" if query else FLAGS)
    assert response.status_code == 200, response.json
    return response.json["items"]


def counts(app) -> tuple[int, int]:
    """How many flags and signals are stored."""
    with database(app) as session:
        return (
            session.scalar(select(func.count()).select_from(Flag)),
            session.scalar(select(func.count()).select_from(SafetySignal)),
        )


def audit_events(app, action: str) -> list[AuditEvent]:
    with database(app) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---------------------------------------------------------------- a signal opens a flag


def test_a_positive_item_9_opens_a_flag_before_the_check_in_is_finished(app, world):
    body = signal_body(answer=2)

    flag = send(world.as_patient_a(), body)

    assert flag["status"] == "open"
    assert flag["kind"] == "self_harm"
    assert flag["patient"]["id"] == world.patient_a.id
    assert flag["entry"] is None
    assert flag["signal"] == {
        "id": body["id"],
        "checkin_id": body["checkin_id"],
        "instrument": "phq9",
        "item": "phq9_9",
        "answer": 2,
        "answered_at": datetime.fromisoformat(body["answered_at"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "received_at": flag["signal"]["received_at"],
    }
    assert flag["raised_by"] == {
        "instrument": "phq9",
        "item": "phq9_9",
        "item_number": 9,
        "item_text": ITEM_9_TEXT,
        "answer": 2,
        "answer_label": "More than half the days",
    }
    assert flag["age_hours"] == 0.0
    assert flag["hours_to_resolve"] is None
    assert flag["overdue"] is False
    assert (flag["resolved_by"], flag["resolved_at"], flag["note"]) == (None, None, None)


def test_the_clinic_sees_the_signals_flag_in_its_inbox_at_once(app, world):
    flag = send(world.as_patient_a(), signal_body())

    [listed] = inbox(world.as_clinician_x(), "status=open")

    assert listed["id"] == flag["id"]
    assert listed["entry"] is None
    assert listed["patient"]["id"] == world.patient_a.id


def test_a_signal_whose_check_in_never_arrives_keeps_its_flag_open(app, world):
    flag = send(world.as_patient_a(), signal_body())
    with database(app) as session:
        session.get(Flag, flag["id"]).opened_at = datetime.now(UTC) - timedelta(days=30)
        session.commit()

    [listed] = inbox(world.as_clinician_x(), "status=open")

    assert (listed["id"], listed["status"], listed["entry"]) == (flag["id"], "open", None)


def test_the_patient_may_name_themself_by_id(app, world):
    flag = send(world.as_patient_a(), signal_body(), pid=world.patient_a.id)

    assert flag["patient"]["id"] == world.patient_a.id


@pytest.mark.parametrize("answer", [1, 2, 3])
def test_every_answer_above_0_is_a_signal(app, world, answer):
    flag = send(world.as_patient_a(), signal_body(answer=answer))

    assert flag["raised_by"]["answer"] == answer


# ---------------------------------------------------------------- replays


def test_a_replayed_signal_answers_200_with_the_same_flag_and_stores_nothing_new(app, world):
    patient = world.as_patient_a()
    body = signal_body()
    first = send(patient, body)

    again = send(patient, body, expected=200)

    assert again["id"] == first["id"]
    assert again["signal"] == first["signal"]
    assert counts(app) == (1, 1)
    assert len(audit_events(app, "safety_signal.receive")) == 1


def test_a_replay_with_the_time_in_another_offset_is_the_same_signal(app, world):
    patient = world.as_patient_a()
    answered = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    body = signal_body(answered_at=answered.isoformat())
    first = send(patient, body)

    berlin = answered.astimezone(timezone(timedelta(hours=1))).isoformat()
    again = send(patient, {**body, "answered_at": berlin}, expected=200)

    assert again["id"] == first["id"]


@pytest.mark.parametrize(
    "change",
    [
        {"answer": 3},
        {"checkin_id": str(uuid.uuid4())},
        {"answered_at": (datetime.now(UTC) - timedelta(minutes=7)).isoformat()},
    ],
)
def test_the_same_id_with_another_body_is_a_409_that_changes_nothing(app, world, change):
    patient = world.as_patient_a()
    body = signal_body()
    first = send(patient, body)

    response = patient.post(signals_path(), json={**body, **change})

    assert response.status_code == 409
    assert "id" in response.json["errors"]["json"]
    assert counts(app) == (1, 1)
    [listed] = inbox(world.as_clinician_x())
    assert listed["id"] == first["id"]


def test_another_patient_reusing_a_signals_id_is_a_409(app, world):
    body = signal_body()
    send(world.as_patient_a(), body)

    response = world.as_patient_b().post(signals_path(), json=body)

    assert response.status_code == 409
    assert counts(app) == (1, 1)


def test_a_replay_after_the_flag_was_resolved_answers_with_the_resolved_flag(app, world):
    patient = world.as_patient_a()
    body = signal_body()
    flag = send(patient, body)
    resolved = world.as_clinician_x().post(
        f"{FLAGS}/{flag['id']}/resolve", json={"note": "Called; safe, seen tomorrow."}
    )
    assert resolved.status_code == 200, resolved.json

    again = send(patient, body, expected=200)

    assert (again["id"], again["status"]) == (flag["id"], "resolved")
    assert counts(app) == (1, 1)


def test_two_signals_of_one_check_in_share_its_one_flag_which_shows_the_strongest(app, world):
    patient = world.as_patient_a()
    checkin = str(uuid.uuid4())

    first = send(patient, signal_body(checkin_id=checkin, answer=1))
    changed = send(patient, signal_body(checkin_id=checkin, answer=3))
    lowered = send(patient, signal_body(checkin_id=checkin, answer=2))

    assert first["id"] == changed["id"] == lowered["id"]
    assert counts(app) == (1, 3)
    assert lowered["signal"]["answer"] == 3
    assert lowered["raised_by"]["answer_label"] == "Nearly every day"


def test_signals_of_two_check_ins_open_two_flags(app, world):
    patient = world.as_patient_a()

    first = send(patient, signal_body())
    second = send(patient, signal_body())

    assert first["id"] != second["id"]
    assert len(inbox(world.as_clinician_x())) == 2


def test_the_same_signal_sent_twice_at_once_is_stored_once(app, world):
    """Two copies of the outbox (two tabs) send the same signal at the same moment."""
    body = signal_body()

    statuses = race(
        (world.as_patient_a(), signals_path(), body), (world.as_patient_a(), signals_path(), body)
    )

    assert sorted(statuses) == [200, 201]
    assert counts(app) == (1, 1)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"item": "phq9_1"}, "item"),
        ({"item": "madrs_10"}, "item"),
        ({"item": "PHQ9_9"}, "item"),
        ({"answer": 0}, "answer"),
        ({"answer": 4}, "answer"),
        ({"answer": -1}, "answer"),
        ({"answer": True}, "answer"),
        ({"answer": 1.0}, "answer"),
        ({"answer": 1.5}, "answer"),
        ({"answer": None}, "answer"),
        ({"answer": "1"}, "answer"),
        ({"instrument": "madrs", "item": "madrs_10", "answer": 4}, "instrument"),
        ({"instrument": "gad7"}, "instrument"),
        ({"instrument": "bdi"}, "instrument"),
        ({"answered_at": "2026-11-27T08:30:00"}, "answered_at"),
        ({"answered_at": "in 10 minutes"}, "answered_at"),
        ({"answered_at": "1999-12-31T23:59:00+00:00"}, "answered_at"),
        ({"answered_at": "yesterday"}, "answered_at"),
        ({"id": "signal-1"}, "id"),
        ({"checkin_id": 7}, "checkin_id"),
        ({"mood": 3}, "mood"),
    ],
)
def test_a_signal_that_is_not_a_positive_safety_answer_is_a_422_naming_the_field(
    app, world, change, field
):
    if change.get("answered_at") == "in 10 minutes":  # computed now, not at collection
        change = {"answered_at": (datetime.now(UTC) + timedelta(minutes=10)).isoformat()}
    response = world.as_patient_a().post(signals_path(), json=signal_body(**change))

    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("missing", ["id", "checkin_id", "instrument", "item", "answer"])
def test_every_field_is_required(app, world, missing):
    body = signal_body()
    del body[missing]

    response = world.as_patient_a().post(signals_path(), json=body)

    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]


def test_an_answer_4_minutes_ahead_of_the_server_clock_is_accepted(app, world):
    ahead = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()

    send(world.as_patient_a(), signal_body(answered_at=ahead))


def test_a_clinician_never_sends_a_signal(app, world):
    clinician = world.as_clinician_x()

    response = clinician.post(signals_path(world.patient_a.id), json=signal_body())

    assert response.status_code == 403
    assert counts(app) == (0, 0)


def test_a_clinicians_token_never_sends_a_signal(app, world):
    client = TokenClient(app, world.token_for(world.clinician_x))

    response = client.post(signals_path(world.patient_a.id), json=signal_body())

    assert response.status_code == 403
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("pid", ["patient_b", "unknown"])
def test_a_signal_for_another_patient_is_a_404(app, world, pid):
    target = world.patient_b.id if pid == "patient_b" else str(uuid.uuid4())

    response = world.as_patient_a().post(signals_path(target), json=signal_body())

    assert response.status_code == 404
    assert counts(app) == (0, 0)


def test_signed_out_a_signal_is_a_401(app, world):
    response = world.browser().post(signals_path(world.patient_a.id), json=signal_body())

    assert response.status_code == 401


def test_a_signal_without_the_csrf_header_is_a_403(app, world):
    patient = world.browser(world.account_of(world.patient_a), csrf=False)

    response = patient.post(signals_path(), json=signal_body())

    assert response.status_code == 403
    assert counts(app) == (0, 0)


# ---------------------------------------------------------------- who sees the flag; audit


def test_another_clinics_clinician_does_not_see_the_flag(app, world):
    send(world.as_patient_a(), signal_body())

    assert inbox(world.as_clinician_y()) == []


def test_a_received_signal_is_audited_with_the_patient_and_the_flag(app, world):
    body = signal_body()
    flag = send(world.as_patient_a(), body)

    [event] = audit_events(app, "safety_signal.receive")

    assert (event.patient_id, event.clinic_id) == (world.patient_a.id, world.clinic_x.id)
    assert (event.actor_id, event.actor_role) == (world.account_of(world.patient_a).id, "patient")
    assert event.detail == {
        "signal_id": body["id"],
        "flag_id": flag["id"],
        "checkin_id": body["checkin_id"],
    }


def test_a_refused_signal_is_not_audited(app, world):
    world.as_patient_a().post(signals_path(), json=signal_body(answer=0))

    assert audit_events(app, "safety_signal.receive") == []


# ---------------------------------------------------------------- the check-in's entry joins


ITEM_9_AT_1 = [1, 1, 1, 1, 1, 1, 1, 1, 1]
ITEM_9_AT_0 = [1, 1, 1, 1, 1, 1, 1, 1, 0]


def finish(browser, checkin_id: str, answers=ITEM_9_AT_1, pid: str = "me", expected: int = 201):
    """The finished check-in: the entry whose id the signal named."""
    response = browser.post(
        f"/api/v1/patients/{pid}/entries", json=entry_body(id=checkin_id, answers=answers)
    )
    assert response.status_code == expected, response.json
    return response.json


def flag_rows(app) -> list[tuple]:
    with database(app) as session:
        return [
            (flag.patient_id, flag.checkin_id, flag.entry_id, flag.status)
            for flag in session.scalars(select(Flag).order_by(Flag.opened_at, Flag.id))
        ]


def test_the_finished_entry_joins_the_signals_flag(app, world):
    patient = world.as_patient_a()
    body = signal_body(answer=2)
    opened = send(patient, body)

    entry = finish(patient, body["checkin_id"], answers=[1, 1, 1, 1, 1, 1, 1, 1, 2])

    [flag] = inbox(world.as_clinician_x())
    assert flag["id"] == opened["id"]
    assert flag["entry"]["id"] == entry["id"] == body["checkin_id"]
    assert flag["signal"]["id"] == body["id"]
    assert flag["raised_by"]["answer"] == 2
    assert counts(app) == (1, 1)


def test_a_signal_after_its_flagged_entry_joins_the_entrys_flag(app, world):
    """The outbox sent the entry first (or the signal's first try failed)."""
    patient = world.as_patient_a()
    checkin = str(uuid.uuid4())
    entry = finish(patient, checkin)
    [before] = inbox(world.as_clinician_x())

    flag = send(patient, signal_body(checkin_id=checkin), expected=201)

    assert flag["id"] == before["id"]
    assert flag["entry"]["id"] == entry["id"]
    assert flag["signal"]["checkin_id"] == checkin
    assert counts(app) == (1, 1)
    assert flag_rows(app) == [(world.patient_a.id, checkin, checkin, "open")]


def test_an_entry_whose_item_9_is_now_0_still_joins_the_signals_flag(app, world):
    """The answer was given: changing it before finishing does not take it back."""
    patient = world.as_patient_a()
    body = signal_body(answer=1)
    opened = send(patient, body)

    entry = finish(patient, body["checkin_id"], answers=ITEM_9_AT_0)

    [flag] = inbox(world.as_clinician_x(), "status=open")
    assert flag["id"] == opened["id"]
    assert flag["entry"]["id"] == entry["id"]
    assert entry["flags"] == []
    # What raised it is the signal, not the entry's 0.
    assert (flag["raised_by"]["answer"], flag["raised_by"]["answer_label"]) == (1, "Several days")


def test_a_signal_after_its_unflagged_entry_opens_the_flag_with_the_entry_on_it(app, world):
    patient = world.as_patient_a()
    checkin = str(uuid.uuid4())
    finish(patient, checkin, answers=ITEM_9_AT_0)
    assert inbox(world.as_clinician_x()) == []

    flag = send(patient, signal_body(checkin_id=checkin))

    assert flag["entry"]["id"] == checkin
    assert flag["raised_by"]["answer"] == 1
    assert counts(app) == (1, 1)


def test_another_patients_entry_with_the_check_in_id_never_joins(app, world):
    body = signal_body()
    send(world.as_patient_a(), body)

    finish(world.as_patient_b(), body["checkin_id"], answers=ITEM_9_AT_1)

    rows = flag_rows(app)
    assert (world.patient_a.id, body["checkin_id"], None, "open") in rows
    assert (world.patient_b.id, body["checkin_id"], body["checkin_id"], "open") in rows
    [flag_of_a] = [
        f for f in inbox(world.as_clinician_x()) if f["patient"]["id"] == world.patient_a.id
    ]
    assert flag_of_a["entry"] is None


def test_another_patients_earlier_entry_with_the_check_in_id_is_not_joined_by_the_signal(
    app, world
):
    checkin = str(uuid.uuid4())
    finish(world.as_patient_b(), checkin, answers=ITEM_9_AT_0)

    flag = send(world.as_patient_a(), signal_body(checkin_id=checkin))

    assert flag["entry"] is None
    assert flag_rows(app) == [(world.patient_a.id, checkin, None, "open")]


def test_a_replayed_entry_after_the_join_changes_nothing(app, world):
    patient = world.as_patient_a()
    body = signal_body()
    send(patient, body)
    entry = entry_body(id=body["checkin_id"], answers=ITEM_9_AT_1)
    assert patient.post("/api/v1/patients/me/entries", json=entry).status_code == 201

    assert patient.post("/api/v1/patients/me/entries", json=entry).status_code == 200

    assert counts(app) == (1, 1)


def test_a_clinicians_paper_form_with_the_check_in_id_joins_too(app, world):
    """The id decides, whoever enters the check-in's entry."""
    body = signal_body()
    opened = send(world.as_patient_a(), body)

    finish(world.as_clinician_x(), body["checkin_id"], pid=world.patient_a.id)

    [flag] = inbox(world.as_clinician_x())
    assert (flag["id"], flag["entry"]["id"]) == (opened["id"], body["checkin_id"])


def race(*requests) -> list[int]:
    """Send (client, path, body) requests at the same moment, one thread each; their statuses."""
    start = threading.Barrier(len(requests))
    statuses = [None] * len(requests)

    def post(index, client, path, body):
        start.wait()
        statuses[index] = client.post(path, json=body).status_code

    threads = [
        threading.Thread(target=post, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize("first", ["signal", "entry"])
@pytest.mark.parametrize("answers", [ITEM_9_AT_1, ITEM_9_AT_0], ids=["item 9 at 1", "at 0"])
def test_a_signal_and_its_entry_arriving_at_once_meet_on_one_flag(app, world, first, answers):
    """Two connections (the outbox's two sends) race; whatever wins, one flag with the entry."""
    for _ in range(6):
        body = signal_body()
        sends = {
            "signal": (world.as_patient_a(), signals_path(), body),
            "entry": (
                world.as_patient_a(),
                "/api/v1/patients/me/entries",
                entry_body(id=body["checkin_id"], answers=answers),
            ),
        }
        order = [first, *(name for name in sends if name != first)]

        assert race(*(sends[name] for name in order)) == [201, 201]

        checkin_flags = [row for row in flag_rows(app) if row[1] == body["checkin_id"]]
        assert checkin_flags == [
            (world.patient_a.id, body["checkin_id"], body["checkin_id"], "open")
        ]


def test_a_signal_stored_between_the_replay_check_and_the_write_is_answered_as_a_replay(
    app, world, monkeypatch
):
    """The race the primary key decides: the look-up saw nothing, the insert meets the key."""
    from server.services import safety

    patient = world.as_patient_a()
    body = signal_body()
    first = send(patient, body)
    real = safety.stored_signal
    calls = []

    def not_yet_seen(signal_id):
        calls.append(signal_id)
        return None if len(calls) == 1 else real(signal_id)

    monkeypatch.setattr(safety, "stored_signal", not_yet_seen)

    again = send(patient, body, expected=200)
    changed = patient.post(signals_path(), json={**body, "answer": 3})

    assert again["id"] == first["id"]
    assert len(calls) >= 2  # the second look-up came after the key refused the insert
    assert changed.status_code == 409
    assert counts(app) == (1, 1)


# ---------------------------------------------------------------- what raised the flag


def test_a_madrs_item_10_flag_says_madrs_item_10(app, world):
    clinician = world.as_clinician_x()
    answers = [2, 2, 2, 2, 2, 2, 2, 2, 2, 4]
    response = clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/entries", json=entry_body("madrs", answers=answers)
    )
    assert response.status_code == 201, response.json

    [flag] = inbox(clinician)

    assert flag["signal"] is None
    assert flag["raised_by"] == {
        "instrument": "madrs",
        "item": "madrs_10",
        "item_number": 10,
        "item_text": "Suicidal thoughts",
        "answer": 4,
        "answer_label": "4",
    }


def test_a_phq9_entrys_flag_is_raised_by_its_item_9(app, world):
    finish(world.as_patient_a(), str(uuid.uuid4()), answers=[0, 0, 0, 0, 0, 0, 0, 0, 3])

    [flag] = inbox(world.as_clinician_x())

    assert flag["signal"] is None
    assert flag["raised_by"] == {
        "instrument": "phq9",
        "item": "phq9_9",
        "item_number": 9,
        "item_text": ITEM_9_TEXT,
        "answer": 3,
        "answer_label": "Nearly every day",
    }


# ---------------------------------------------------------------- one flag


def test_a_clinician_reads_one_flag_and_the_read_is_audited(app, world):
    opened = send(world.as_patient_a(), signal_body())

    response = world.as_clinician_x().get(f"{FLAGS}/{opened['id']}")

    assert response.status_code == 200
    assert response.json == {**opened, "age_hours": response.json["age_hours"]}
    [event] = audit_events(app, "flag.read")
    assert (event.actor_id, event.patient_id, event.detail) == (
        world.clinician_x.id,
        world.patient_a.id,
        {"flag_id": opened["id"]},
    )


@pytest.mark.parametrize(
    ("who", "expected"), [("as_clinician_y", 404), ("as_patient_a", 403), ("as_patient_b", 403)]
)
def test_nobody_else_reads_the_flag(app, world, who, expected):
    opened = send(world.as_patient_a(), signal_body())

    response = getattr(world, who)().get(f"{FLAGS}/{opened['id']}")

    assert response.status_code == expected
    assert "Alice" not in response.get_data(as_text=True)
    assert audit_events(app, "flag.read") == []


@pytest.mark.parametrize("fid", ["6f9d2c4e-0b7a-4c1e-9a55-3d2f1e8b7c60", "not-a-flag", "x" * 200])
def test_an_unknown_flag_is_a_404(app, world, fid):
    assert world.as_clinician_x().get(f"{FLAGS}/{fid}").status_code == 404
