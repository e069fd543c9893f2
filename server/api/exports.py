"""Exports (JSON, FHIR R4, CSV) and the clinic's import of a tidemark.export document."""

import json
from datetime import UTC, datetime

from flask import Response, request, stream_with_context
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import select

from .. import access
from ..data.extensions import db
from ..data.models import Clinic, Patient
from ..domain import fhir
from ..services import audit, importer
from ..services import exports as export
from . import documented_errors
from .schemas import ImportCounts, StrictSchema

blp = Blueprint("exports", __name__, url_prefix="/api/v1", description="Export and import")

MIMETYPES = {"json": "application/json", "fhir": "application/fhir+json", "csv": "text/csv"}
EXTENSIONS = {"json": "json", "fhir": "fhir.json", "csv": "csv"}


class ExportQuery(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(sorted(MIMETYPES)))


def attachment(body, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


@blp.route("/patients/<string:pid>/export", methods=["GET"])
@blp.arguments(ExportQuery, location="query", unknown="raise")
@blp.response(
    200,
    description="A download: the tidemark.export JSON document, a FHIR R4 Bundle "
    "(?format=fhir) or one CSV row per entry (?format=csv)",
    content_type="application/json",
)
@documented_errors(blp, 401, 404)
def export_patient(query, pid):
    """Download everything about one patient (the patient themself, or a clinician)"""
    patient = access.patient(pid)
    document = export.patient_document(patient)
    kind = query["format"]
    audit.record("export.patient", patient=patient, detail={"format": kind})
    db.session.commit()
    block = document["patients"][0]
    if kind == "fhir":
        body = json.dumps(fhir.bundle(block), ensure_ascii=False, indent=1)
    elif kind == "csv":
        body = export.csv_text(block)
    else:
        body = json.dumps(document, ensure_ascii=False, indent=1)
    mimetype = MIMETYPES[kind] + ("; charset=utf-8" if kind == "csv" else "")
    return attachment(body, mimetype, f"tidemark-{patient.id[:8]}-{_today()}.{EXTENSIONS[kind]}")


@blp.route("/export", methods=["GET"])
@blp.response(
    200,
    description="The clinic's tidemark.export JSON document, streamed",
    content_type="application/json",
)
@documented_errors(blp, 401, 403)
def export_clinic():
    """Download the whole clinic as one tidemark.export document (clinicians; streamed)"""
    clinician = access.clinician()
    clinic = db.session.get(Clinic, clinician.clinic_id)
    patient_ids = db.session.scalars(
        select(Patient.id).where(Patient.clinic_id == clinic.id).order_by(Patient.id)
    ).all()
    audit.record("export.clinic", detail={"format": "json", "patient_ids": patient_ids})
    db.session.commit()
    return attachment(
        stream_with_context(export.clinic_document_chunks(clinic)),
        "application/json",
        f"tidemark-clinic-{_today()}.json",
    )


@blp.route("/import", methods=["POST"])
@blp.response(200, ImportCounts)
@documented_errors(blp, 400, 401, 403, 413, 422)
def import_document():
    """Restore a tidemark.export document into my clinic (admins; all or nothing, idempotent)"""
    admin = access.clinic_admin()
    document = request.get_json(silent=True)
    if document is None:
        abort(400, message="The body must be a tidemark.export JSON document.")
    try:
        counts = importer.restore(document, admin)
    except importer.ImportRefused as refused:
        db.session.rollback()
        abort(422, message="Nothing was imported.", errors={"json": refused.errors})
    return counts
