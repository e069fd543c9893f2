"""Exports: a patient's own data, or a clinician's patient, as a tidemark.export document."""

import json
from datetime import UTC, datetime

from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields, validate

from .. import access, audit, export
from ..extensions import db
from ..schemas import StrictSchema
from . import documented_errors

blp = Blueprint("exports", __name__, url_prefix="/api/v1", description="Export")


class ExportQuery(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json"]))


def attachment(body: str, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/patients/<string:pid>/export", methods=["GET"])
@blp.arguments(ExportQuery, location="query", unknown="raise")
@blp.response(
    200,
    description="A tidemark.export JSON document (API.md, Export), as a download",
    content_type="application/json",
)
@documented_errors(blp, 401, 404)
def export_patient(query, pid):
    """Download everything about one patient (the patient themself, or a clinician)"""
    patient = access.patient(pid)
    document = export.patient_document(patient)
    audit.record("export.patient", patient=patient, detail={"format": query["format"]})
    db.session.commit()
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return attachment(
        json.dumps(document, ensure_ascii=False, indent=1),
        "application/json",
        f"tidemark-{patient.id[:8]}-{day}.json",
    )
