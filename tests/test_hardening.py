"""Edges found in review: safety flags on import, who may void, odd dates and bodies, audit."""

from __future__ import annotations

import copy
import json
import threading
import uuid

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent, Flag
from tests.conftest import Browser, database, entry_body

ITEM_9_POSITIVE = [2, 2, 1, 1, 2, 1, 1, 1, 2]


def _clinic_export(clinician) -> dict:
    return json.loads(clinician.get("/api/v1/export").get_data(as_text=True))


def _renamed(document: dict) -> dict:
    """The document under fresh ids, as if it came from another installation."""
    text = json.dumps(document)
    for block in document["patients"]:
        ids = [block["patient"]["id"]]
        ids += [row["id"] for key in ("sessions", "entries", "flags") for row in block[key]]
        # A patient's own entries name their account, which another installation's is not.
        ids += [
            e["entered_by"]["id"] for e in block["entries"] if e["entered_by"]["role"] == "patient"
        ]
        for old in dict.fromkeys(ids):
            text = text.replace(old, str(uuid.uuid4()))
        if block["patient"]["external_id"]:
            text = text.replace(block["patient"]["external_id"], uuid.uuid4().hex[:12])
    return json.loads(text)


def _first_entry(document: dict) -> dict:
    return next(entry for block in document["patients"] for entry in block["entries"])


def _flagged_document(world) -> dict:
    patient = world.as_patient_a()
    assert (
        patient.post(
            "/api/v1/patients/me/entries", json=entry_body(answers=ITEM_9_POSITIVE)
        ).status_code
        == 201
    )
    return _renamed(_clinic_export(world.as_admin_x()))


def test_an_imported_positive_item_9_always_has_an_open_flag(app, world):
    document = _flagged_document(world)
    for block in document["patients"]:
        block["flags"] = []  # the document "forgot" the flag
    answer = world.as_admin_x().post("/api/v1/import", json=document)
    assert answer.status_code == 200, answer.json
    assert answer.json["flags"] == 1
    flagged_entry = next(
        entry["id"]
        for block in document["patients"]
        for entry in block["entries"]
        if entry["flags"]
    )
    with database(app) as session:
        flag = session.scalar(select(Flag).where(Flag.entry_id == flagged_entry))
        assert flag is not None and flag.status == "open"


@pytest.mark.parametrize(
    "spoil, field",
    [
        (lambda d: _first_entry(d).__setitem__("difficulty", 7), "difficulty"),
        (lambda d: d["instruments"][0].__setitem__("id", ["phq9"]), "instruments"),
    ],
)
def test_an_import_with_impossible_values_is_refused_whole(app, world, spoil, field):
    document = _flagged_document(world)
    spoil(document)
    answer = world.as_admin_x().post("/api/v1/import", json=document)
    assert answer.status_code == 422
    assert field in json.dumps(answer.json["errors"])


def test_an_import_with_two_patients_under_one_external_id_is_refused(app, world):
    clinician = world.as_clinician_x()
    for name in ("One", "Two"):
        assert clinician.post("/api/v1/patients", json={"display_name": name}).status_code == 201
    document = _renamed(_clinic_export(world.as_admin_x()))
    for block in document["patients"]:
        block["patient"]["external_id"] = "MRN-1"
    answer = world.as_admin_x().post("/api/v1/import", json=document)
    assert answer.status_code == 422
    assert "MRN-1" in json.dumps(answer.json["errors"])


def test_an_imported_flag_cannot_name_someone_from_another_clinic(app, world):
    document = _flagged_document(world)
    for block in document["patients"]:
        for flag in block["flags"]:
            flag.update(
                status="resolved",
                resolved_by_id=world.clinician_y.id,
                resolved_at=flag["opened_at"],
                note="resolved elsewhere",
            )
    assert world.as_admin_x().post("/api/v1/import", json=document).status_code == 422
    assert world.as_clinician_x().get("/api/v1/flags?status=resolved").json["items"] == []


def test_a_patient_cannot_void_a_rating_their_clinician_entered(app, world):
    clinician = world.as_clinician_x()
    rating = clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/entries",
        json=entry_body("madrs", answers=[4] * 10),
    ).json
    answer = world.as_patient_a().post(
        f"/api/v1/patients/me/entries/{rating['id']}/void", json={"reason": "I disagree"}
    )
    assert answer.status_code == 403
    entry = clinician.get(f"/api/v1/patients/{world.patient_a.id}/entries/{rating['id']}").json
    assert entry["voided"] is False


def test_two_voids_at_once_void_once(app, world):
    entry = world.as_patient_a().post("/api/v1/patients/me/entries", json=entry_body()).json
    clients = [world.as_patient_a(), world.as_clinician_x()]
    paths = [
        f"/api/v1/patients/me/entries/{entry['id']}/void",
        f"/api/v1/patients/{world.patient_a.id}/entries/{entry['id']}/void",
    ]
    barrier = threading.Barrier(2)
    statuses = []

    def void(client, path, reason):
        barrier.wait()
        statuses.append(client.post(path, json={"reason": reason}).status_code)

    threads = [
        threading.Thread(target=void, args=(c, p, r))
        for c, p, r in zip(clients, paths, ["first", "second"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]


@pytest.mark.parametrize("taken_at", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_time_beyond_the_calendar_in_utc_is_a_422_not_a_500(app, world, taken_at):
    answer = world.as_patient_a().post(
        "/api/v1/patients/me/entries", json=entry_body(taken_at=taken_at)
    )
    assert answer.status_code == 422
    assert "taken_at" in answer.json["errors"]["json"]


def test_a_forged_cursor_at_the_edge_of_the_calendar_is_a_422(app, world):
    import base64

    cursor = base64.urlsafe_b64encode(
        json.dumps(["0001-01-01T00:00:00+05:00", "x"]).encode()
    ).decode()
    answer = world.as_patient_a().get(f"/api/v1/patients/me/entries?cursor={cursor}")
    assert answer.status_code == 422


def test_deeply_nested_json_is_a_400(app, world):
    body = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = world.as_patient_a().post(
        "/api/v1/patients/me/entries", data=body, content_type="application/json"
    )
    assert answer.status_code == 400


def test_entries_a_clinician_enters_are_audited(app, world):
    clinician = world.as_clinician_x()
    entry = clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/entries", json=entry_body("madrs")
    ).json
    with database(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "entry.create"))
    assert event.patient_id == world.patient_a.id
    assert event.detail["entry_id"] == entry["id"]


def test_panel_reads_and_clinic_exports_name_the_patients_they_showed(app, world):
    admin = world.as_admin_x()
    admin.get("/api/v1/patients")
    admin.get("/api/v1/export").get_data()
    with database(app) as session:
        events = {
            event.action: event
            for event in session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(["panel.read", "export.clinic"]))
            )
        }
    expected = {world.patient_a.id, world.patient_b.id}
    assert set(events["panel.read"].detail["patient_ids"]) == expected
    assert set(events["export.clinic"].detail["patient_ids"]) == expected


def test_a_clean_export_still_round_trips_unchanged(app, world):
    document = _flagged_document(world)
    again = copy.deepcopy(document)
    assert world.as_admin_x().post("/api/v1/import", json=document).status_code == 200
    assert world.as_admin_x().post("/api/v1/import", json=again).json["flags"] == 0


def test_the_browser_client_helper_sends_csrf(app, world):
    # A control: without the header the same void is refused, so the tests above exercise CSRF.
    entry = world.as_patient_a().post("/api/v1/patients/me/entries", json=entry_body()).json
    bare = Browser(app, csrf=False)
    bare.login("alice@example.org")
    answer = bare.post(f"/api/v1/patients/me/entries/{entry['id']}/void", json={"reason": "x"})
    assert answer.status_code == 403


def test_actions_without_a_body_refuse_a_stray_field(app, world):
    clinician = world.as_clinician_x()
    new = clinician.post("/api/v1/patients", json={"display_name": "Not Yet"}).json
    cases = [
        (clinician, "post", f"/api/v1/patients/{new['patient']['id']}/enrollment"),
        (world.as_admin_x(), "post", f"/api/v1/clinicians/{world.clinician_x.id}/deactivate"),
        (clinician, "delete", f"/api/v1/patients/{world.patient_a.id}/baseline/phq9"),
        (clinician, "post", "/api/v1/auth/logout"),
    ]
    for client, method, path in cases:
        answer = getattr(client, method)(path, json={"bogus": 1})
        assert answer.status_code == 422, (path, answer.status_code)
        assert "bogus" in answer.json["errors"]["json"]
    # Nothing happened: the clinician is still active and still signed in.
    assert world.as_clinician_x().get("/api/v1/auth/me").status_code == 200
    assert clinician.get("/api/v1/auth/me").status_code == 200
