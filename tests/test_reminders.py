"""Reminders by web push, end to end: settings and subscriptions over HTTP, `send-reminders`
passes at chosen times, and a stand-in push service on loopback that decrypts each message
with the subscription's own keys and checks its VAPID signature."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.data.extensions import db
from server.data.models import Patient, PushSubscription, ReminderDelivery, VapidKey
from server.services import reminders
from tests.conftest import Browser, database, entry_body, make_patient
from tests.push_service import PushService

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIPTIONS = "/api/v1/patients/me/push-subscriptions"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def service(app, monkeypatch):
    """The stand-in push service, and the server allowed to reach it (and nothing else)."""
    push_service = PushService()
    monkeypatch.setitem(app.config, "TIDEMARK_PUSH_HOSTS", "127.0.0.1")
    yield push_service
    push_service.stop()


def patient_with_phone(world, service, *, timezone="Europe/Berlin", settings=None, name=None):
    """A patient of clinic X, created 2026-01-01, whose phone is subscribed; their client."""
    with database(world.app) as session:
        patient = make_patient(world.clinic_x, name or "Pat Phone", timezone=timezone)
        session.get(Patient, patient.id).created_at = at("2026-01-01T00:00:00Z")
        session.commit()
        email = patient.account.email
    client = world.browser()
    assert client.login(email).status_code == 200
    phone = service.subscriber()
    assert client.post(SUBSCRIPTIONS, json=phone.subscription()).status_code == 201
    if settings is not None:
        body = {**client.get("/api/v1/patients/me/reminders").json, **settings}
        body.pop("devices")
        response = client.put("/api/v1/patients/me/reminders", json=body)
        assert response.status_code == 200, response.json
    return patient, client, phone


def checked_in(client, taken_at: str, **fields) -> None:
    response = client.post(
        "/api/v1/patients/me/entries", json=entry_body(taken_at=taken_at, **fields)
    )
    assert response.status_code == 201, response.json


def send_at(app, when: str) -> reminders.PassResult:
    with app.app_context():
        try:
            return reminders.send_due(at(when))
        finally:
            db.session.remove()


def urls(service, phone) -> list[str]:
    return [payload["url"] for payload in service.payloads(phone)]


# ---------------------------------------------------------------- what arrives


def test_a_due_check_in_arrives_encrypted_for_the_phone_and_signed_with_the_servers_key(
    app, world, service
):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")  # next PHQ-9 due 2026-01-19T10:00Z
    key = Browser(app).get("/api/v1/push/key").json["public_key"]

    send_at(app, "2026-01-19T17:00:00+00:00")  # 18:00 in Berlin

    [message] = service.to(phone)
    assert message.problems == []
    assert message.vapid_key == key
    assert message.payload == {
        "title": "Time for a check-in",
        "body": "Your PHQ-9 check-in is due. It takes about two minutes.",
        "url": "/#/checkin?instrument=phq9&context=routine",
    }
    assert message.ttl == 12 * 3600
    assert message.urgency == "normal"


def test_the_payload_names_no_score_and_no_answer(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00", answers=[3, 3, 3, 3, 3, 3, 3, 3, 0])

    send_at(app, "2026-01-19T17:00:00+00:00")

    [payload] = service.payloads(phone)
    assert set(payload) == {"title", "body", "url"}
    text = json.dumps(payload)
    assert "24" not in text and "severe" not in text.lower()


def test_a_check_in_is_reminded_at_each_patients_own_local_time(app, world, service):
    _, berlin, berlin_phone = patient_with_phone(world, service, name="Berlin")
    _, la, la_phone = patient_with_phone(
        world, service, timezone="America/Los_Angeles", name="Los Angeles"
    )
    for client in (berlin, la):
        checked_in(client, "2026-01-05T10:00:00+00:00")  # both due 2026-01-19T10:00Z

    send_at(app, "2026-01-19T16:59:00+00:00")
    assert service.received == []
    send_at(app, "2026-01-19T17:00:00+00:00")  # 18:00 in Berlin, 09:00 in Los Angeles
    assert (len(service.to(berlin_phone)), len(service.to(la_phone))) == (1, 0)
    send_at(app, "2026-01-20T01:59:00+00:00")
    assert len(service.to(la_phone)) == 0
    send_at(app, "2026-01-20T02:00:00+00:00")  # 18:00 in Los Angeles
    assert (len(service.to(berlin_phone)), len(service.to(la_phone))) == (1, 1)


def test_quiet_hours_across_midnight_hold_a_reminder_until_they_end(app, world, service):
    _, client, phone = patient_with_phone(
        world,
        service,
        settings={"time_of_day": "23:00", "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    checked_in(client, "2026-01-05T10:00:00+00:00")

    for when in (
        "2026-01-19T22:00:00+00:00",
        "2026-01-20T03:00:00+00:00",
        "2026-01-20T05:59:00+00:00",
    ):
        send_at(app, when)  # 23:00, 04:00, 06:59 in Berlin
    assert service.received == []
    send_at(app, "2026-01-20T06:00:00+00:00")  # 07:00 in Berlin
    assert urls(service, phone) == ["/#/checkin?instrument=phq9&context=routine"]


def test_the_reminder_follows_the_local_clock_over_the_spring_dst_change(app, world, service):
    _, client, phone = patient_with_phone(world, service, timezone="America/New_York")
    # Due 2026-03-08T12:00Z, the day clocks in New York go forward (EST -5 to EDT -4).
    checked_in(client, "2026-02-22T12:00:00+00:00")

    send_at(app, "2026-03-08T21:59:00+00:00")
    assert service.received == []
    send_at(app, "2026-03-08T22:00:00+00:00")  # 18:00 EDT (at EST it would be 23:00Z)
    assert len(service.to(phone)) == 1


def test_quiet_hours_end_at_the_local_time_after_the_autumn_dst_change(app, world, service):
    _, client, phone = patient_with_phone(
        world,
        service,
        timezone="America/New_York",
        settings={"time_of_day": "07:30", "quiet_start": "21:00", "quiet_end": "08:00"},
    )
    # Due 2026-11-01T03:00Z (23:00 EDT on 31 October); clocks go back at 02:00 that night.
    checked_in(client, "2026-10-18T03:00:00+00:00")

    send_at(app, "2026-11-01T12:30:00+00:00")  # 07:30 EST: quiet until 08:00
    send_at(app, "2026-11-01T12:59:00+00:00")
    assert service.received == []
    send_at(app, "2026-11-01T13:00:00+00:00")  # 08:00 EST (at EDT it would be 12:00Z)
    assert len(service.to(phone)) == 1


def test_a_planned_session_is_reminded_the_chosen_hours_before_it(app, world, service):
    patient, client, phone = patient_with_phone(world, service, settings={"pre_session_hours": 3})
    checked_in(client, "2026-02-09T10:00:00+00:00")  # nothing routine due that week
    session = world.as_clinician_x().post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"started_at": "2026-02-10T14:00:00+00:00", "treatment": "esketamine_nasal"},
    )
    assert session.status_code == 201

    send_at(app, "2026-02-10T10:59:00+00:00")
    assert service.received == []
    send_at(app, "2026-02-10T11:00:00+00:00")
    send_at(app, "2026-02-10T11:30:00+00:00")

    [payload] = service.payloads(phone)
    assert payload["url"] == "/#/checkin?instrument=phq9&context=pre_session"
    assert payload["body"] == "Your session is today at 15:00. Please check in before it."


def test_no_pre_session_reminder_once_the_pre_session_check_in_is_done(app, world, service):
    patient, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-02-09T10:00:00+00:00")
    world.as_clinician_x().post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"started_at": "2026-02-10T14:00:00+00:00", "treatment": "ketamine_iv"},
    )
    checked_in(client, "2026-02-10T11:30:00+00:00", context="pre_session")

    send_at(app, "2026-02-10T12:00:00+00:00")

    assert service.received == []


def test_the_morning_after_a_session_asks_for_the_post_session_check_in(app, world, service):
    patient, client, phone = patient_with_phone(world, service, settings={"pre_session_hours": 0})
    checked_in(client, "2026-02-09T10:00:00+00:00")
    world.as_clinician_x().post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"started_at": "2026-02-10T14:00:00+00:00", "treatment": "ketamine_iv"},
    )

    send_at(app, "2026-02-10T12:00:00+00:00")  # pre-session reminders are off
    send_at(app, "2026-02-11T07:59:00+00:00")
    assert service.received == []
    send_at(app, "2026-02-11T08:00:00+00:00")  # 09:00 in Berlin, the next day
    send_at(app, "2026-02-11T09:00:00+00:00")

    assert urls(service, phone) == ["/#/checkin?instrument=phq9&context=post_session"]


def test_a_cancelled_session_is_neither_reminded_before_nor_asked_about_after(app, world, service):
    patient, client, phone = patient_with_phone(world, service, settings={"pre_session_hours": 3})
    checked_in(client, "2026-02-09T10:00:00+00:00")  # nothing routine due that week
    clinician = world.as_clinician_x()
    session = clinician.post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"started_at": "2026-02-10T14:00:00+00:00", "treatment": "ketamine_iv"},
    ).json
    cancelled = clinician.patch(
        f"/api/v1/patients/{patient.id}/sessions/{session['id']}", json={"status": "cancelled"}
    )
    assert cancelled.status_code == 200, cancelled.json

    send_at(app, "2026-02-10T11:00:00+00:00")  # when the pre-session reminder would go
    send_at(app, "2026-02-11T08:00:00+00:00")  # and the morning-after one

    assert service.received == []


def test_no_morning_after_reminder_once_a_post_session_entry_is_linked(app, world, service):
    patient, client, phone = patient_with_phone(world, service, settings={"pre_session_hours": 0})
    checked_in(client, "2026-02-09T10:00:00+00:00")
    world.as_clinician_x().post(
        f"/api/v1/patients/{patient.id}/sessions",
        json={"started_at": "2026-02-10T14:00:00+00:00", "treatment": "ketamine_iv"},
    )
    checked_in(client, "2026-02-10T20:00:00+00:00", context="post_session")

    send_at(app, "2026-02-11T08:00:00+00:00")

    assert service.received == []


def test_nothing_is_sent_for_a_check_in_taken_since_it_became_due(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")
    checked_in(client, "2026-01-19T12:00:00+00:00")  # after it became due, before 18:00

    send_at(app, "2026-01-19T17:00:00+00:00")

    assert service.received == []


def test_a_due_item_is_reminded_once_however_many_passes_run(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")

    for minute in range(5):
        send_at(app, f"2026-01-19T17:0{minute}:00+00:00")
    send_at(app, "2026-01-22T17:00:00+00:00")  # still not done three days later

    assert len(service.to(phone)) == 1


def test_reminders_that_are_turned_off_are_not_sent(app, world, service):
    _, client, phone = patient_with_phone(world, service, settings={"enabled": False})
    checked_in(client, "2026-01-05T10:00:00+00:00")

    send_at(app, "2026-01-19T17:00:00+00:00")

    assert service.received == []


def test_every_subscribed_browser_of_the_patient_gets_it(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    laptop = service.subscriber()
    assert client.post(SUBSCRIPTIONS, json=laptop.subscription()).status_code == 201
    checked_in(client, "2026-01-05T10:00:00+00:00")

    result = send_at(app, "2026-01-19T17:00:00+00:00")

    assert (len(service.to(phone)), len(service.to(laptop)), result.sent) == (1, 1, 1)


def test_the_cli_sends_what_is_due_at_the_given_time(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")

    early = app.test_cli_runner().invoke(
        args=["send-reminders", "--at", "2026-01-19T18:59:00+02:00"]
    )
    sent = app.test_cli_runner().invoke(
        args=["send-reminders", "--at", "2026-01-19T18:00:00+01:00"]
    )

    assert early.exit_code == 0, early.output
    assert "0 due" in early.output
    assert sent.exit_code == 0, sent.output
    assert "1 due, 1 sent" in sent.output
    assert len(service.to(phone)) == 1


@pytest.mark.parametrize("moment", ["2026-01-19T17:00:00", "yesterday"])
def test_the_cli_refuses_a_time_without_an_offset(app, moment):
    result = app.test_cli_runner().invoke(args=["send-reminders", "--at", moment])

    assert result.exit_code != 0
    assert "--at" in result.output


# ---------------------------------------------------------------- failures


def test_a_410_from_the_push_service_deletes_the_subscription(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")
    service.answer(phone, 410)

    result = send_at(app, "2026-01-19T17:00:00+00:00")

    assert result.subscriptions_removed == 1
    assert client.get("/api/v1/patients/me/reminders").json["devices"] == 0
    send_at(app, "2026-01-19T17:10:00+00:00")
    assert len(service.to(phone)) == 1  # never sent there again


def test_a_404_deletes_only_that_browser_and_the_other_one_still_gets_it(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    laptop = service.subscriber()
    client.post(SUBSCRIPTIONS, json=laptop.subscription())
    checked_in(client, "2026-01-05T10:00:00+00:00")
    service.answer(laptop, 404)

    result = send_at(app, "2026-01-19T17:00:00+00:00")

    assert (result.sent, result.subscriptions_removed) == (1, 1)
    with database(app) as session:
        assert session.scalars(select(PushSubscription.endpoint)).all() == [phone.endpoint]


def test_a_500_is_retried_with_growing_waits_then_delivered(app, world, service, caplog):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")
    service.answer(phone, 500, 503)

    first = send_at(app, "2026-01-19T17:00:00+00:00")  # fails: retry after 1 minute
    send_at(app, "2026-01-19T17:00:30+00:00")  # too early
    second = send_at(app, "2026-01-19T17:01:00+00:00")  # fails again: retry after 2 minutes
    send_at(app, "2026-01-19T17:02:59+00:00")  # too early
    third = send_at(app, "2026-01-19T17:03:00+00:00")

    assert (first.retrying, second.retrying, third.sent) == (1, 1, 1)
    assert len(service.to(phone)) == 3
    assert [r.payload for r in service.to(phone)][0] == service.payloads(phone)[-1]
    with database(app) as session:
        claim = session.scalar(select(ReminderDelivery))
        assert (claim.status, claim.attempts) == ("sent", 3)
    assert "retrying" in caplog.text and "HTTP 500" in caplog.text


def test_a_send_that_keeps_failing_is_given_up_after_five_attempts(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")
    service.default_status = 500

    start = at("2026-01-19T17:00:00+00:00")
    for minute in range(0, 40):
        send_at(app, (start + timedelta(minutes=minute)).isoformat())

    assert len(service.to(phone)) == 5  # at 0, 1, 3, 7 and 15 minutes
    with database(app) as session:
        assert session.scalar(select(ReminderDelivery.status)) == "failed"


def test_a_redirect_from_a_push_service_is_not_followed(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")
    service.answer(phone, 307)

    result = send_at(app, "2026-01-19T17:00:00+00:00")

    assert result.failed == 1
    assert len(service.received) == 1


def test_a_retry_is_not_sent_once_the_check_in_is_done(app, world, service):
    _, client, phone = patient_with_phone(world, service)
    checked_in(client, "2026-01-05T10:00:00+00:00")
    service.answer(phone, 500)
    send_at(app, "2026-01-19T17:00:00+00:00")
    checked_in(client, "2026-01-19T17:00:30+00:00")

    send_at(app, "2026-01-19T17:05:00+00:00")

    assert len(service.to(phone)) == 1


# ---------------------------------------------------------------- many senders at once

# Another sender: its own process, app and engine. Both wait at a barrier (files in a shared
# folder) once they have read which reminders are claimed already, so that neither writes a
# claim before both have read: the worst interleaving, every time.
SENDER = """
import json, os, sys, time
from datetime import datetime
from pathlib import Path
from tests.conftest import TEST_CONFIG
from server import create_app
from server.services import reminders
database, hosts, when, barrier, parties = sys.argv[1:6]
app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database,
                  "TIDEMARK_PUSH_HOSTS": hosts})
read_claims = reminders.claims_of

def claims_then_wait(due):
    found = read_claims(due)
    Path(barrier, str(os.getpid())).touch()
    deadline = time.time() + 60
    while len(os.listdir(barrier)) < int(parties) and time.time() < deadline:
        time.sleep(0.01)
    return found

reminders.claims_of = claims_then_wait
with app.app_context():
    result = reminders.send_due(datetime.fromisoformat(when))
print(json.dumps({"due": result.due, "sent": result.sent}))
"""


def test_two_senders_at_once_send_each_reminder_exactly_once(app, world, monkeypatch, tmp_path):
    service = PushService()
    monkeypatch.setitem(app.config, "TIDEMARK_PUSH_HOSTS", "127.0.0.1")
    try:
        phones = []
        for number in range(24):
            _, client, phone = patient_with_phone(world, service, name=f"Patient {number}")
            checked_in(client, "2026-01-05T10:00:00+00:00")
            phones.append(phone)
        senders = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    SENDER,
                    app.config["SQLALCHEMY_DATABASE_URI"],
                    "127.0.0.1",
                    "2026-01-19T17:00:00+00:00",
                    str(tmp_path),
                    "2",
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), "TIDEMARK_ENV": "development"},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = []
        for sender in senders:
            out, err = sender.communicate(timeout=120)
            assert sender.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        service.stop()

    assert len(os.listdir(tmp_path)) == 2  # both had read the claims before either wrote
    assert [r["due"] for r in results] == [24, 24]  # both saw every reminder due
    assert sum(r["sent"] for r in results) == 24  # and between them sent each once
    assert [len(service.to(phone)) for phone in phones] == [1] * 24
    assert all(r.problems == [] for r in service.received)


def test_two_processes_starting_at_once_end_with_one_vapid_key(app):
    script = """
import sys, time
from tests.conftest import TEST_CONFIG
from server import create_app
from server.data.extensions import db
from server.services import push
app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    db.session.execute(db.text("SELECT 1"))
    db.session.commit()
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    print(push.public_key())
"""
    start = time.time() + 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, app.config["SQLALCHEMY_DATABASE_URI"], str(start)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TIDEMARK_ENV": "development"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    keys = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        keys.append(out.strip().splitlines()[-1])

    assert len(set(keys)) == 1
    assert Browser(app).get("/api/v1/push/key").json["public_key"] == keys[0]
    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(VapidKey)) == 1


# ---------------------------------------------------------------- the VAPID key


def test_the_public_key_is_the_same_on_every_request_and_restart(app):
    first = Browser(app).get("/api/v1/push/key")
    again = Browser(app).get("/api/v1/push/key")

    assert first.status_code == 200
    assert first.json == again.json
    assert len(first.json["public_key"]) == 87  # 65 bytes, base64url without padding


def test_a_configured_private_key_is_used_as_pem_or_base64url(app, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.push_service import b64url

    key = ec.generate_private_key(ec.SECP256R1())
    expected = b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))

    for setting in (pem, raw):
        monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", setting)
        assert Browser(app).get("/api/v1/push/key").json["public_key"] == expected
    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(VapidKey)) == 0


# ---------------------------------------------------------------- subscriptions


def test_a_known_endpoint_is_200_and_stored_once(world, service):
    client = world.as_patient_a()
    phone = service.subscriber()

    first = client.post(SUBSCRIPTIONS, json=phone.subscription())
    again = client.post(SUBSCRIPTIONS, json=phone.subscription())

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["endpoint"] == phone.endpoint
    assert client.get("/api/v1/patients/me/reminders").json["devices"] == 1


def test_a_shared_phone_moves_its_subscription_to_the_patient_who_signed_in_last(
    app, world, service
):
    alice, bob = world.as_patient_a(), world.as_patient_b()
    phone = service.subscriber()
    alice.post(SUBSCRIPTIONS, json=phone.subscription())

    moved = bob.post(SUBSCRIPTIONS, json=phone.subscription())

    assert moved.status_code == 201
    assert alice.get("/api/v1/patients/me/reminders").json["devices"] == 0
    assert bob.get("/api/v1/patients/me/reminders").json["devices"] == 1


def test_delete_forgets_only_ones_own_subscription(app, world, service):
    alice, bob = world.as_patient_a(), world.as_patient_b()
    phone = service.subscriber()
    alice.post(SUBSCRIPTIONS, json=phone.subscription())

    by_bob = bob.delete(SUBSCRIPTIONS, json={"endpoint": phone.endpoint})
    assert by_bob.status_code == 204
    assert alice.get("/api/v1/patients/me/reminders").json["devices"] == 1

    by_alice = alice.delete(SUBSCRIPTIONS, json={"endpoint": phone.endpoint})
    assert by_alice.status_code == 204
    assert alice.get("/api/v1/patients/me/reminders").json["devices"] == 0
    assert alice.delete(SUBSCRIPTIONS, json={"endpoint": phone.endpoint}).status_code == 204


def test_only_the_patient_subscribes_their_browser(world, service):
    phone = service.subscriber()
    clinician = world.as_clinician_x()

    response = clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/push-subscriptions", json=phone.subscription()
    )

    assert response.status_code == 403


REFUSED_ENDPOINTS = [
    "http://fcm.googleapis.com/fcm/send/abc",  # http to a push service
    "http://evil.example/push",  # http to an unlisted host
    "https://evil.example/push",  # https to an unlisted host
    "https://fcm.googleapis.com@evil.example/push",  # the host is evil.example
    "https://evil.example@fcm.googleapis.com/push",  # a user name, even before the right host
    "https://user:pass@fcm.googleapis.com/push",
    "https://10.0.0.5/push",  # IP literals
    "https://[::ffff:127.0.0.1]/push",
    "https://169.254.169.254/latest/meta-data",
    "http://127.0.0.1:9/push",  # loopback, but not listed by default
    "https://fcm.googleapis.com.evil.example/push",
    "https://evilfcm.googleapis.com/push",
    "https://notify.windows.com/w/abc",  # the wildcard's bare suffix
    "https://fcm.googleapis.com:8443/push",  # another port
    "https://fcm.googleapis.com\\@evil.example/push",
    "https://fcm.googleapis.com/push#fragment",
    "https://fcm.googleapis.com/ push",
    "https://fcm.googleapis.çom/push",
    "ftp://fcm.googleapis.com/push",
    "fcm.googleapis.com/push",
    "https:///push",
    "https://fcm.googleapis.com/" + "a" * 1100,
]


@pytest.mark.parametrize("endpoint", REFUSED_ENDPOINTS)
def test_an_endpoint_off_the_push_services_is_refused(app, world, endpoint):
    client = world.as_patient_a()
    body = {"endpoint": endpoint, "keys": _valid_keys()}

    response = client.post(SUBSCRIPTIONS, json=body)

    assert response.status_code == 422
    assert "endpoint" in response.json["errors"]["json"]
    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(PushSubscription)) == 0


def _valid_keys() -> dict:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.push_service import b64url

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABabc",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD",
        "https://web.push.apple.com/QGc2VHRlc3Q",
        "https://FCM.googleapis.com/fcm/send/abc",
    ],
)
def test_the_major_browsers_push_services_are_allowed_by_default(app, world, endpoint):
    response = world.as_patient_a().post(
        SUBSCRIPTIONS, json={"endpoint": endpoint, "expirationTime": None, "keys": _valid_keys()}
    )

    assert response.status_code == 201, response.json


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": "short", "auth": None}, "auth"),
        ({"auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "p256dh"),
        ({"p256dh": "B" + "A" * 86, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "p256dh"),  # not 0x04
        ({"p256dh": "BA" + "A" * 85, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "p256dh"),  # off-curve
        ({"p256dh": "valid", "auth": "AAAAAAAAAAAAAAAAAAAA"}, "auth"),  # 15 bytes
        ({"p256dh": "valid", "auth": "AAAAAAAAAAAAAAAAAAAAAAAA"}, "auth"),  # 18 bytes
        ({"p256dh": "valid", "auth": "AAAAAAAAAAAAAAAAAAAA+/"}, "auth"),  # not base64url
        ({"p256dh": "valid", "auth": 12}, "auth"),
        ({"p256dh": "valid", "auth": "AAAAAAAAAAAAAAAAAAAAAA", "extra": "x"}, "extra"),
    ],
)
def test_subscription_keys_of_the_wrong_shape_are_refused(world, keys, field):
    keys = dict(keys)
    if keys.get("p256dh") == "valid":
        keys["p256dh"] = _valid_keys()["p256dh"]
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": keys}

    response = world.as_patient_a().post(SUBSCRIPTIONS, json=body)

    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["keys"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expirationTime": "soon"}, "expirationTime"),
        ({"expirationTime": True}, "expirationTime"),
        ({"expirationTime": -1}, "expirationTime"),
        ({"endpoint": 42}, "endpoint"),
        ({"keys": "none"}, "keys"),
        ({"subscriptionId": "x"}, "subscriptionId"),
    ],
)
def test_a_subscription_body_of_the_wrong_shape_is_refused(world, change, field):
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": _valid_keys()}
    body.update(change)

    response = world.as_patient_a().post(SUBSCRIPTIONS, json=body)

    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_a_listed_wildcard_covers_subdomains_only(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "TIDEMARK_PUSH_HOSTS", "*.push.example.org, localhost")
    client = world.as_patient_a()

    def status(endpoint):
        return client.post(
            SUBSCRIPTIONS, json={"endpoint": endpoint, "keys": _valid_keys()}
        ).status_code

    assert status("https://eu.push.example.org/a") == 201
    assert status("https://a.b.push.example.org/a") == 201
    assert status("https://push.example.org/a") == 422
    assert status("https://fcm.googleapis.com/a") == 422  # the list replaces the default
    assert status("http://localhost:8080/a") == 201  # http for a listed loopback host
    assert status("http://eu.push.example.org/a") == 422


# ---------------------------------------------------------------- settings


DEFAULTS = {
    "enabled": True,
    "time_of_day": "18:00",
    "quiet_start": "21:00",
    "quiet_end": "08:00",
    "pre_session_hours": 2,
    "post_session_next_day": True,
}
CHANGED = {
    "enabled": True,
    "time_of_day": "07:45",
    "quiet_start": None,
    "quiet_end": None,
    "pre_session_hours": 24,
    "post_session_next_day": False,
}


def test_settings_are_the_defaults_until_set(world):
    response = world.as_patient_a().get("/api/v1/patients/me/reminders")

    assert response.status_code == 200
    assert response.json == {**DEFAULTS, "devices": 0}


def test_the_patient_sets_their_own_settings_and_the_clinician_sees_them(world):
    patient = world.as_patient_a()

    put = patient.put("/api/v1/patients/me/reminders", json=CHANGED)
    seen = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/reminders")

    assert put.status_code == 200
    assert put.json == {**CHANGED, "devices": 0}
    assert seen.json == {**CHANGED, "devices": 0}


def test_a_clinician_of_the_clinic_sets_them_and_the_read_is_audited(app, world):
    clinician = world.as_clinician_x()
    path = f"/api/v1/patients/{world.patient_a.id}/reminders"

    assert clinician.put(path, json=CHANGED).status_code == 200
    assert clinician.get(path).status_code == 200

    from server.data.models import AuditEvent

    with database(app) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == world.patient_a.id)
        ).all()
    assert "reminders.update" in actions and "reminders.read" in actions


@pytest.mark.parametrize(
    "who",
    ["clinician of another clinic", "another patient", "unknown id"],
)
def test_others_get_404_for_the_settings(world, who):
    client, pid = {
        "clinician of another clinic": (world.as_clinician_y(), world.patient_a.id),
        "another patient": (world.as_patient_b(), world.patient_a.id),
        "unknown id": (world.as_clinician_x(), str(uuid.uuid4())),
    }[who]

    read = client.get(f"/api/v1/patients/{pid}/reminders")
    write = client.put(f"/api/v1/patients/{pid}/reminders", json=CHANGED)

    assert (read.status_code, write.status_code) == (404, 404)
    assert world.as_patient_a().get("/api/v1/patients/me/reminders").json["time_of_day"] == "18:00"


def test_anonymous_gets_401(app, world):
    response = Browser(app).get(f"/api/v1/patients/{world.patient_a.id}/reminders")

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_of_day": "7:45"}, "time_of_day"),
        ({"time_of_day": "24:00"}, "time_of_day"),
        ({"time_of_day": "18:60"}, "time_of_day"),
        ({"time_of_day": "18:00:00"}, "time_of_day"),
        ({"time_of_day": 1800}, "time_of_day"),
        ({"time_of_day": None}, "time_of_day"),
        ({"quiet_start": "22:00", "quiet_end": None}, "quiet_end"),
        ({"quiet_start": None, "quiet_end": "07:00"}, "quiet_start"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end"),
        ({"pre_session_hours": 49}, "pre_session_hours"),
        ({"pre_session_hours": -1}, "pre_session_hours"),
        ({"pre_session_hours": 2.5}, "pre_session_hours"),
        ({"pre_session_hours": "2"}, "pre_session_hours"),
        ({"pre_session_hours": True}, "pre_session_hours"),
        ({"enabled": 1}, "enabled"),
        ({"enabled": "true"}, "enabled"),
        ({"post_session_next_day": None}, "post_session_next_day"),
        ({"devices": 3}, "devices"),
        ({"snooze": True}, "snooze"),
    ],
)
def test_settings_of_the_wrong_shape_are_refused_and_nothing_is_stored(world, change, field):
    patient = world.as_patient_a()

    response = patient.put("/api/v1/patients/me/reminders", json={**DEFAULTS, **change})

    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert patient.get("/api/v1/patients/me/reminders").json == {**DEFAULTS, "devices": 0}


@pytest.mark.parametrize("missing", sorted(DEFAULTS))
def test_every_setting_is_required_in_a_put(world, missing):
    body = {name: value for name, value in CHANGED.items() if name != missing}

    response = world.as_patient_a().put("/api/v1/patients/me/reminders", json=body)

    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]


def test_every_pre_session_choice_the_app_offers_is_accepted(app, world):
    patient = world.as_patient_a()
    choices = app.test_client().get("/api/v1/vocabularies").json["pre_session_reminders"]

    for choice in choices:
        body = {**DEFAULTS, "pre_session_hours": choice["value"]}
        assert patient.put("/api/v1/patients/me/reminders", json=body).status_code == 200
    assert [c["value"] for c in choices][0] == 0  # "No reminder" comes first
