"""The patient's after-session reports: side effects and a note, replayable like entries."""

from flask_smorest import Blueprint

from .. import access
from ..services import reports
from . import documented_errors
from .schemas import ReportIn, ReportOut

blp = Blueprint(
    "reports", __name__, url_prefix="/api/v1/patients", description="After-session reports"
)


@blp.route("/<string:pid>/sessions/<string:sid>/report", methods=["POST"])
@blp.arguments(ReportIn)
@blp.response(201, ReportOut)
@blp.alt_response(200, schema=ReportOut, description="The same report was already stored")
@documented_errors(blp, 401, 403, 404, 409)
def post_report(body, pid, sid):
    """Report side effects after a session (the patient; 201, an identical replay 200)"""
    patient = access.patient_themself(pid)
    session = access.session_of(patient, sid)
    report, created = reports.submit(patient, session, body, access.signed_in_user())
    return report, 201 if created else 200
