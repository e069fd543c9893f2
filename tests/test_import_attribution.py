"""An import cannot speak for other people: a new flag's resolver and a new entry's author are
the importing admin or nobody with an account here; the audit record lists the patients."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, Entry, Flag
from tests.conftest import database, entry_body
from tests.test_import import with_new_ids

IMPORT = "/api/v1/import"
ITEM_9_POSITIVE = [2, 2, 1, 1, 2, 1, 1, 1, 2]


@pytest.fixture
def document(world) -> dict:
    """Clinic X's export under new ids (patient A with a flagged entry, a MADRS rating)."""
    assert (
        world.as_patient_a()
        .post("/api/v1/patients/me/entries", json=entry_body(answers=ITEM_9_POSITIVE))
        .status_code
        == 201
    )
    rating = entry_body("madrs", answers=[2] * 10)
    clinician = world.as_clinician_x()
    assert (
        clinician.post(f"/api/v1/patients/{world.patient_a.id}/entries", json=rating).status_code
        == 201
    )
    exported = json.loads(clinician.get("/api/v1/export").get_data(as_text=True))
    exported["patients"].sort(key=lambda block: not block["entries"])  # patient A's first
    return with_new_ids(exported)


def _ratings_by(document: dict, author: str) -> None:
    for entry in document["patients"][0]["entries"]:
        if entry["entered_by"]["role"] == "clinician":
            entry["entered_by"]["id"] = author


def _resolve_flags(document: dict, resolver: str) -> None:
    _ratings_by(document, resolver)
    for flag in document["patients"][0]["flags"]:
        flag.update(
            status="resolved",
            resolved_by_id=resolver,
            resolved_at=flag["opened_at"],
            note="Called, safe, plan agreed.",
        )


def _counts(app) -> tuple:
    with database(app) as session:
        return (
            session.scalar(select(func.count(Entry.id))),
            session.scalar(select(func.count(Flag.id))),
        )


def _resolver_error(response):
    return response.json["errors"]["json"]["patients"]["0"]["flags"]["0"]["resolved_by_id"]


def test_an_import_cannot_name_a_colleague_as_a_flags_resolver(app, world, document):
    _resolve_flags(document, world.clinician_x.id)
    _ratings_by(document, world.admin_x.id)
    before = _counts(app)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 422, response.json
    assert "colleague" in _resolver_error(response)[0]
    assert _counts(app) == before


def test_an_import_cannot_name_a_clinician_of_another_clinic(app, world, document):
    _resolve_flags(document, world.clinician_y.id)
    _ratings_by(document, world.admin_x.id)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 422
    assert _resolver_error(response)


def test_the_importing_admin_may_be_named_as_the_resolver(app, world, document):
    _resolve_flags(document, world.admin_x.id)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 200, response.json
    resolved = world.as_clinician_x().get("/api/v1/flags?status=resolved").json["items"]
    assert [flag["resolved_by"]["id"] for flag in resolved] == [world.admin_x.id]


def test_a_resolver_from_another_installation_is_kept_without_a_name(app, world, document):
    stranger = str(uuid.uuid4())
    _resolve_flags(document, stranger)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 200, response.json
    [flag] = world.as_clinician_x().get("/api/v1/flags?status=resolved").json["items"]
    assert flag["resolved_by"]["id"] == stranger
    assert flag["resolved_by"]["display_name"] is None


def _entry_position(document: dict, role: str) -> int:
    entries = document["patients"][0]["entries"]
    return next(i for i, e in enumerate(entries) if e["entered_by"]["role"] == role)


def test_an_import_cannot_name_a_colleague_as_a_ratings_author(app, world, document):
    position = _entry_position(document, "clinician")
    assert document["patients"][0]["entries"][position]["entered_by"]["id"] == (
        world.clinician_x.id
    )
    before = _counts(app)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 422, response.json
    errors = response.json["errors"]["json"]["patients"]["0"]["entries"][str(position)]
    assert errors["entered_by"]["id"]
    assert _counts(app) == before


def test_an_import_cannot_attribute_a_self_report_to_another_patients_account(app, world, document):
    position = _entry_position(document, "patient")
    document["patients"][0]["entries"][position]["entered_by"]["id"] = world.account_of(
        world.patient_b
    ).id
    _ratings_by(document, world.admin_x.id)

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 422, response.json
    assert response.json["errors"]["json"]["patients"]["0"]["entries"][str(position)]


def test_authors_from_another_installation_are_imported(app, world, document):
    _ratings_by(document, str(uuid.uuid4()))

    response = world.as_admin_x().post(IMPORT, json=document)

    assert response.status_code == 200, response.json
    assert response.json["entries"] == 2


def test_re_importing_the_clinics_own_export_still_changes_nothing(app, world):
    clinician = world.as_clinician_x()
    clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/entries",
        json=entry_body("madrs", answers=[2] * 10),
    )
    exported = json.loads(clinician.get("/api/v1/export").get_data(as_text=True))

    response = world.as_admin_x().post(IMPORT, json=exported)

    assert response.status_code == 200, response.json
    assert response.json == {
        "patients": 0,
        "entries": 0,
        "sessions": 0,
        "flags": 0,
        "reports": 0,
    }


def test_the_imports_audit_record_lists_the_imported_patient_ids(app, world, document):
    _ratings_by(document, world.admin_x.id)

    assert world.as_admin_x().post(IMPORT, json=document).status_code == 200

    with database(app) as session:
        [record] = session.scalars(select(AuditEvent).where(AuditEvent.action == "import"))
        assert record.actor_id == world.admin_x.id
        assert sorted(record.detail["patient_ids"]) == sorted(
            block["patient"]["id"] for block in document["patients"]
        )
