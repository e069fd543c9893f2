"""Import of a tidemark.export document: round trip, idempotence, all or nothing (API.md)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.data.extensions import db
from server.data.models import AuditEvent
from tests.conftest import (
    Browser,
    TokenClient,
    database,
    entry_body,
    make_clinic,
    make_clinician,
    make_patient,
)

IMPORT = "/api/v1/import"
EXPORT = "/api/v1/export"
KIB = 1024
MIB = 1024 * KIB
ITEM_9_ONLY = [0, 0, 0, 0, 0, 0, 0, 0, 1]
ZERO_COUNTS = {"patients": 0, "entries": 0, "sessions": 0, "flags": 0, "reports": 0}


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0).isoformat()


def submit(browser, pid: str = "me", instrument: str = "phq9", **fields) -> dict:
    body = entry_body(instrument, **fields)
    response = browser.post(f"/api/v1/patients/{pid}/entries", json=body)
    assert response.status_code == 201, response.json
    return {"pid": pid, "body": body, "entry": response.json}


def add_session(clinician, pid: str, started_at: str, **fields) -> dict:
    response = clinician.post(
        f"/api/v1/patients/{pid}/sessions",
        json={"started_at": started_at, "treatment": "ketamine_iv", **fields},
    )
    assert response.status_code == 201, response.json
    return response.json


def resolve_flag_of(clinician, entry_id: str, note: str) -> None:
    flags = clinician.get("/api/v1/flags?status=open").json["items"]
    [flag] = [flag for flag in flags if flag["entry"]["id"] == entry_id]
    response = clinician.post(f"/api/v1/flags/{flag['id']}/resolve", json={"note": note})
    assert response.status_code == 200, response.json


def export_clinic(browser) -> dict:
    response = browser.get(EXPORT)
    assert response.status_code == 200, response.data[:500]
    return json.loads(response.get_data(as_text=True))


def without_exported_at(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "exported_at"}


def row_counts(app) -> dict[str, int]:
    with database(app) as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def empty_every_table(app) -> None:
    with database(app) as session:
        for table in reversed(db.metadata.sorted_tables):
            session.execute(table.delete())
        session.commit()


def new_admin_of_clinic_x(app) -> Browser:
    """An empty database's first clinic "Clinic X" and its admin, signed in."""
    with database(app):
        email = make_clinician(make_clinic("Clinic X"), "restorer@example.org", admin=True).email
    browser = Browser(app)
    assert browser.login(email).status_code == 200
    return browser


def import_events(app) -> list[dict]:
    with database(app) as session:
        return [
            {"actor_id": event.actor_id, "detail": event.detail}
            for event in session.scalars(select(AuditEvent).where(AuditEvent.action == "import"))
        ]


def with_new_ids(document: dict) -> dict:
    """The same records under fresh patient, session, entry and flag ids: new to any clinic."""
    text = json.dumps(document)
    for block in document["patients"]:
        old_ids = [block["patient"]["id"]]
        old_ids += [row["id"] for kind in ("sessions", "entries", "flags") for row in block[kind]]
        # A patient's own entries name their account, which another installation's is not.
        old_ids += [
            e["entered_by"]["id"] for e in block["entries"] if e["entered_by"]["role"] == "patient"
        ]
        for old in dict.fromkeys(old_ids):
            text = text.replace(old, str(uuid.uuid4()))
    return json.loads(text)


# ---------------------------------------------------------------- a clinic's history


@pytest.fixture
def clinic_history(world) -> dict:
    """Everything the API can record for clinic X's two patients, entered through HTTP."""
    clinician = world.as_clinician_x()
    alice, bob = world.patient_a.id, world.patient_b.id
    as_alice = world.as_patient_a()
    assert (
        clinician.patch(
            f"/api/v1/patients/{alice}",
            json={"external_id": "MRN-1", "timezone": "America/Chicago"},
        ).status_code
        == 200
    )
    first = add_session(clinician, alice, hours_ago(30), dose_mg=35.5, notes="tolerated well")
    second = add_session(clinician, bob, hours_ago(100), treatment="esketamine_nasal")
    submitted = [
        submit(as_alice, context="baseline", difficulty=1, taken_at=hours_ago(200)),
        submit(as_alice, context="pre_session", taken_at=hours_ago(32), note='said "tired", ok'),
        submit(as_alice, context="post_session", answers=ITEM_9_ONLY, taken_at=hours_ago(20)),
        submit(as_alice, instrument="gad7", taken_at=hours_ago(19)),
        submit(as_alice, taken_at=hours_ago(18)),
        submit(clinician, alice, "madrs", answers=[3] * 9 + [2], taken_at=hours_ago(17)),
        submit(
            clinician,
            bob,
            answers=[2, 2, None, 1, None, 1, 1, 1, 0],
            taken_at=hours_ago(99),
            context="routine",
            session_id=second["id"],
        ),
        submit(clinician, bob, "madrs", answers=[2] * 9 + [4], taken_at=hours_ago(98)),
    ]
    voided = submitted[4]["entry"]
    response = as_alice.post(
        f"/api/v1/patients/me/entries/{voided['id']}/void", json={"reason": "pressed twice"}
    )
    assert response.status_code == 200, response.json
    resolve_flag_of(clinician, submitted[2]["entry"]["id"], "called her; safety plan agreed")
    pre = submitted[1]["entry"]
    response = clinician.put(
        f"/api/v1/patients/{alice}/baseline/phq9", json={"entry_id": pre["id"]}
    )
    assert response.status_code == 200, response.json
    schedule = {
        "instruments": [
            {"instrument": "phq9", "every_days": 7},
            {"instrument": "gad7", "every_days": 28},
        ],
        "pre_session": False,
    }
    assert clinician.put(f"/api/v1/patients/{alice}/schedule", json=schedule).status_code == 200
    return {"sessions": [first, second], "submitted": submitted}


@pytest.fixture
def restored(app, world, clinic_history) -> dict:
    """Clinic X's export, imported by a new admin into an otherwise empty database."""
    exported = export_clinic(world.as_clinician_x())
    before_summary = {
        instrument: world.as_clinician_x()
        .get(f"/api/v1/patients/{world.patient_a.id}/summary?instrument={instrument}")
        .json
        for instrument in ("phq9", "gad7", "madrs")
    }
    empty_every_table(app)
    admin = new_admin_of_clinic_x(app)
    response = admin.post(IMPORT, json=exported)
    return {
        "exported": exported,
        "response": response,
        "admin": admin,
        "summary": before_summary,
        "submitted": clinic_history["submitted"],
    }


# ---------------------------------------------------------------- round trip


def test_an_export_imported_into_an_empty_database_answers_the_counts_created(restored):
    response = restored["response"]

    assert response.status_code == 200, response.json
    assert response.json == {
        "patients": 2,
        "entries": 8,
        "sessions": 2,
        "flags": 2,
        "reports": 0,
    }


def test_exporting_the_imported_clinic_again_gives_the_same_document(restored):
    assert restored["response"].status_code == 200, restored["response"].json

    again = export_clinic(restored["admin"])

    assert without_exported_at(again) == without_exported_at(restored["exported"])


def test_the_round_trip_keeps_the_voided_entry_the_resolved_flag_baseline_and_schedule(
    world, restored
):
    assert restored["response"].status_code == 200, restored["response"].json

    again = export_clinic(restored["admin"])

    [alice] = [b for b in again["patients"] if b["patient"]["id"] == world.patient_a.id]
    assert [e["void_reason"] for e in alice["entries"] if e["voided"]] == ["pressed twice"]
    assert [(f["status"], f["note"]) for f in alice["flags"]] == [
        ("resolved", "called her; safety plan agreed")
    ]
    assert [b["instrument"] for b in alice["baselines"]] == ["phq9"]
    assert alice["schedule"]["pre_session"] is False
    assert alice["patient"]["external_id"] == "MRN-1"


def test_the_restored_patient_has_the_same_outcome_summaries(world, restored):
    assert restored["response"].status_code == 200, restored["response"].json

    for instrument, before in restored["summary"].items():
        after = restored["admin"].get(
            f"/api/v1/patients/{world.patient_a.id}/summary?instrument={instrument}"
        )
        assert after.status_code == 200, after.json
        assert after.json == before, instrument


def test_an_entry_replayed_after_the_restore_is_recognised_not_a_conflict(restored):
    assert restored["response"].status_code == 200, restored["response"].json
    admin = restored["admin"]

    for pid, body in restored_bodies(restored):
        response = admin.post(f"/api/v1/patients/{pid}/entries", json=body)
        assert response.status_code == 200, (body, response.json)


def restored_bodies(restored) -> list[tuple[str, dict]]:
    """Every entry body as first sent, addressed by patient id."""
    blocks = restored["exported"]["patients"]
    owner = {e["id"]: b["patient"]["id"] for b in blocks for e in b["entries"]}
    return [(owner[item["body"]["id"]], item["body"]) for item in restored["submitted"]]


def test_a_second_import_of_the_same_document_changes_nothing(app, restored):
    assert restored["response"].status_code == 200, restored["response"].json
    before = row_counts(app)

    again = restored["admin"].post(IMPORT, json=restored["exported"])

    assert again.status_code == 200, again.json
    assert again.json == ZERO_COUNTS
    after = row_counts(app)
    assert after.pop("audit_event") == before.pop("audit_event") + 1  # the import's record
    assert after == before
    assert without_exported_at(export_clinic(restored["admin"])) == without_exported_at(
        restored["exported"]
    )


def test_importing_a_clinic_export_back_into_the_same_clinic_changes_nothing(
    app, world, clinic_history
):
    document = export_clinic(world.as_clinician_x())
    admin = world.as_admin_x()
    before = row_counts(app)

    response = admin.post(IMPORT, json=document)

    assert response.status_code == 200, response.json
    assert response.json == ZERO_COUNTS
    after = row_counts(app)
    assert after.pop("audit_event") == before.pop("audit_event") + 1
    assert after == before


def test_the_import_writes_an_audit_record_with_the_counts(app, restored):
    assert restored["response"].status_code == 200, restored["response"].json

    [event] = import_events(app)

    assert event["actor_id"] == restored["admin"].user["id"]
    assert {key: event["detail"][key] for key in ZERO_COUNTS} == restored["response"].json


# ---------------------------------------------------------------- refused whole


@pytest.fixture
def fresh_document(app, world) -> dict:
    """A valid document of two patients with sessions, entries and flags, new to every clinic."""
    clinician = world.as_clinician_x()
    for patient in (world.patient_a, world.patient_b):
        add_session(clinician, patient.id, hours_ago(30))
        browser = world.browser(world.account_of(patient))
        submit(browser, context="pre_session", taken_at=hours_ago(31))
        submit(browser, answers=ITEM_9_ONLY, context="post_session", taken_at=hours_ago(20))
        submit(browser, instrument="gad7", taken_at=hours_ago(10))
    return with_new_ids(export_clinic(clinician))


@pytest.fixture
def clinic_y_patient(app, world) -> str:
    with database(app):
        return make_patient(world.clinic_y, "Yara Y", enrolled=False).id


def test_a_document_under_new_ids_is_imported_in_full(app, world, fresh_document):
    admin = world.as_admin_x()
    before = row_counts(app)

    response = admin.post(IMPORT, json=fresh_document)

    assert response.status_code == 200, response.json
    assert response.json == {
        "patients": 2,
        "entries": 6,
        "sessions": 2,
        "flags": 2,
        "reports": 0,
    }
    after = row_counts(app)
    assert after["patient"] == before["patient"] + 2
    assert after["entry"] == before["entry"] + 6


def _last_block(document: dict) -> dict:
    return document["patients"][-1]


def _replace_text(document: dict, old: str, new: str) -> dict:
    return json.loads(json.dumps(document).replace(old, new))


def _foreign_format(document, context):
    document["format"] = "other"
    return document


def _version_2(document, context):
    document["version"] = 2
    return document


def _version_as_text(document, context):
    document["version"] = "1"
    return document


def _missing_entry_field(document, context):
    del _last_block(document)["entries"][0]["taken_at"]
    return document


def _missing_patients(document, context):
    del document["patients"]
    return document


def _total_disagrees(document, context):
    _last_block(document)["entries"][-1]["total"] += 1
    return document


def _unknown_instrument_version(document, context):
    [phq9] = [i for i in document["instruments"] if i["id"] == "phq9"]
    phq9["version"] = "99"
    return document


def _unknown_instrument(document, context):
    document["instruments"].append({**document["instruments"][0], "id": "bdi2"})
    return document


def _duplicated_entry_id(document, context):
    entries = _last_block(document)["entries"]
    entries.append(copy.deepcopy(entries[-1]))
    return document


def _duplicated_patient(document, context):
    document["patients"].append(copy.deepcopy(_last_block(document)))
    return document


def _entry_id_of_the_other_block(document, context):
    first, last = document["patients"][0], _last_block(document)
    return _replace_text(document, last["entries"][-1]["id"], first["entries"][-1]["id"])


def _flag_on_an_unknown_entry(document, context):
    _last_block(document)["flags"][0]["entry_id"] = str(uuid.uuid4())
    return document


def _patient_of_clinic_y(document, context):
    return _replace_text(document, _last_block(document)["patient"]["id"], context["clinic_y"])


def _entry_of_another_patient(document, context):
    return _replace_text(document, _last_block(document)["entries"][-1]["id"], context["entry_b"])


def _time_without_offset(document, context):
    _last_block(document)["entries"][0]["taken_at"] = "2026-01-05T08:30:00"
    return document


def _unknown_field(document, context):
    _last_block(document)["entries"][0]["mood"] = "good"
    return document


REFUSED = [
    _foreign_format,
    _version_2,
    _version_as_text,
    _missing_entry_field,
    _missing_patients,
    _total_disagrees,
    _unknown_instrument_version,
    _unknown_instrument,
    _duplicated_entry_id,
    _duplicated_patient,
    _entry_id_of_the_other_block,
    _flag_on_an_unknown_entry,
    _patient_of_clinic_y,
    _entry_of_another_patient,
    _time_without_offset,
    _unknown_field,
]


@pytest.mark.parametrize("spoil", REFUSED, ids=[f.__name__.strip("_") for f in REFUSED])
def test_a_document_failing_validation_anywhere_is_refused_whole_and_nothing_is_written(
    app, world, fresh_document, clinic_y_patient, spoil
):
    entry_b = submit(world.as_patient_b())["entry"]["id"]
    document = spoil(
        copy.deepcopy(fresh_document), {"clinic_y": clinic_y_patient, "entry_b": entry_b}
    )
    admin = world.as_admin_x()
    before = row_counts(app)

    response = admin.post(IMPORT, json=document)

    assert response.status_code == 422, response.json
    assert response.json["code"] == 422
    assert response.json["errors"]
    assert row_counts(app) == before


def test_clinic_x_document_imported_by_the_admin_of_clinic_y_is_refused(app, world, fresh_document):
    assert world.as_admin_x().post(IMPORT, json=fresh_document).status_code == 200
    with database(app):
        admin_y = make_clinician(world.clinic_y, "admin.y@example.org", admin=True)
    browser = world.browser(admin_y)
    before = row_counts(app)

    response = browser.post(IMPORT, json=fresh_document)

    assert response.status_code == 422, response.json
    assert row_counts(app) == before


def test_a_body_that_is_not_a_json_object_is_a_bad_request(app, world):
    admin = world.as_admin_x()
    before = row_counts(app)

    response = admin.post(IMPORT, json=[{"format": "tidemark.export"}])

    assert response.status_code == 400
    assert row_counts(app) == before


# ---------------------------------------------------------------- who may import


def test_a_clinician_who_is_not_an_admin_may_not_import(app, world, fresh_document):
    clinician = world.as_clinician_x()
    before = row_counts(app)

    response = clinician.post(IMPORT, json=fresh_document)

    assert response.status_code == 403
    assert response.json["code"] == 403
    assert row_counts(app) == before


def test_a_patient_may_not_import(app, world, fresh_document):
    patient = world.as_patient_a()
    before = row_counts(app)

    response = patient.post(IMPORT, json=fresh_document)

    assert response.status_code == 403
    assert row_counts(app) == before


def test_an_anonymous_import_is_refused(app, world, fresh_document):
    before = row_counts(app)

    response = world.browser().post(IMPORT, json=fresh_document)

    assert response.status_code == 401
    assert row_counts(app) == before


def test_an_import_without_the_csrf_token_is_refused(app, world, fresh_document):
    admin = world.browser(world.admin_x, csrf=False)
    before = row_counts(app)

    response = admin.post(IMPORT, json=fresh_document)

    assert response.status_code == 403
    assert row_counts(app) == before


# ---------------------------------------------------------------- body size


@pytest.fixture
def admin_client(world):
    """Clinic X's admin as the PWA (cookie session with CSRF); a token never imports."""
    return world.as_admin_x()


@pytest.fixture
def large_document(fresh_document) -> bytes:
    """A valid document over 64 KiB: one patient's GAD-7 repeated under many new ids."""
    document = copy.deepcopy(fresh_document)
    block = _last_block(document)
    [template] = [e for e in block["entries"] if e["instrument"] == "gad7"]
    for _ in range(150):
        block["entries"].append({**template, "id": str(uuid.uuid4())})
    body = json.dumps(document).encode()
    assert 64 * KIB < len(body) < 50 * MIB
    return body


def test_a_document_over_64_kib_is_accepted_by_the_import(admin_client, large_document):
    response = admin_client.post(IMPORT, data=large_document, content_type="application/json")

    assert response.status_code == 200, response.json
    assert response.json["entries"] == 6 + 150


@pytest.mark.parametrize("path", ["/api/v1/patients", "/api/v1/patients/me/entries"])
def test_the_same_body_to_another_endpoint_is_too_large(world, large_document, path):
    browser = world.as_patient_a() if path.endswith("/entries") else world.as_admin_x()

    response = browser.post(path, data=large_document, content_type="application/json")

    assert response.status_code == 413
    assert response.json["code"] == 413


def test_the_same_body_from_a_script_to_another_endpoint_is_too_large(world, large_document):
    script = TokenClient(world.app, world.token_for(world.admin_x))

    response = script.post("/api/v1/patients", data=large_document, content_type="application/json")

    assert response.status_code == 413


def test_an_import_body_over_50_mib_is_too_large(app, admin_client):
    body = b'{"format": "tidemark.export", "padding": "' + b"x" * (50 * MIB) + b'"}'
    before = row_counts(app)

    response = admin_client.post(IMPORT, data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json["code"] == 413
    assert row_counts(app) == before
