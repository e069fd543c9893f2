"""services/exports and services/importer called directly: audit, commit, domain errors."""

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, Entry, Patient, User
from server.domain.errors import Invalid
from server.services import entries, exports, importer
from tests.conftest import database, entry_body


def test_a_patient_export_is_audited_and_committed_with_its_format(app, world):
    with app.test_request_context(), database(app) as session:
        text = exports.patient_export(session.get(Patient, world.patient_a.id), "fhir")
        assert json.loads(text)["resourceType"] == "Bundle"
        session.rollback()  # the audit record was committed already
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.patient"))
        assert (event.patient_id, event.detail) == (world.patient_a.id, {"format": "fhir"})


def test_a_clinic_export_is_audited_with_its_patients_before_the_first_chunk(app, world):
    with app.test_request_context(), database(app) as session:
        chunks = exports.clinic_export(session.get(User, world.clinician_x.id))
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.clinic"))
        assert event.detail["patient_ids"] == sorted([world.patient_a.id, world.patient_b.id])
        document = json.loads("".join(chunks))
        assert len(document["patients"]) == 2


def test_a_refused_import_is_invalid_nothing_was_imported_and_names_the_fields(app, world):
    with app.test_request_context(), database(app) as session:
        admin = session.get(User, world.admin_x.id)
        with pytest.raises(Invalid) as refused:
            importer.restore({"format": "another.format"}, admin)
        assert refused.value.message == "Nothing was imported."
        assert refused.value.fields["format"] == ["Must be equal to tidemark.export."]
        assert "patients" in refused.value.fields


def test_an_import_whose_ids_clash_is_refused_whole(app, world):
    with app.test_request_context(), database(app) as session:
        patient = session.get(Patient, world.patient_a.id)
        entries.submit(patient, _parsed(entry_body()), session.get(User, world.clinician_x.id))
        document = json.loads(exports.patient_export(patient, "json"))
        document["patients"].append(json.loads(json.dumps(document["patients"][0])))
        with pytest.raises(Invalid) as refused:
            importer.restore(document, session.get(User, world.admin_x.id))
        assert refused.value.fields["patients"][0].startswith("Ids appear more than once")
        assert session.scalar(select(func.count()).select_from(Entry)) == 1


def _parsed(body: dict) -> dict:
    """An entry body as the schema hands it to the service (times parsed)."""
    return {**body, "taken_at": datetime.fromisoformat(body["taken_at"])}
