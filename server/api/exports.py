"""Exports (JSON, FHIR R4, CSV) and the clinic's import of a tidemark.export document."""

from datetime import UTC, datetime

from flask import Response, request, stream_with_context
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate

from .. import access
from ..services import exports, importer
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
    kind = query["format"]
    body = exports.patient_export(patient, kind)
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
    chunks = exports.clinic_export(access.clinician())
    return attachment(
        stream_with_context(chunks),
        "application/json",
        f"tidemark-clinic-{_today()}.json",
    )


@blp.route("/import", methods=["POST"])
@blp.response(200, ImportCounts)
@documented_errors(blp, 400, 401, 403, 413, 422)
def import_document():
    """Restore a tidemark.export document into my clinic (admins; all or nothing, idempotent)"""
    admin = access.administrator()
    document = request.get_json(silent=True)
    if document is None:
        abort(400, message="The body must be a tidemark.export JSON document.")
    return importer.restore(document, admin)
