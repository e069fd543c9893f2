"""Clinic administration: the audit log and the clinic's clinicians."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import audit, clinicians
from . import documented_errors
from .schemas import (
    AuditOut,
    AuditQuery,
    ClinicianIn,
    ClinicianOut,
    EnrollmentOut,
    ListQuery,
    NoBody,
    envelope,
)

blp = Blueprint("admin", __name__, url_prefix="/api/v1", description="Clinic administration")

AuditList = envelope(AuditOut, "AuditList")
ClinicianList = envelope(ClinicianOut, "ClinicianList")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditQuery, location="query", unknown="raise")
@blp.response(200, AuditList)
@documented_errors(blp, 401, 403)
def audit_log(query):
    """The clinic's audit log, newest first (admins)"""
    admin = access.clinic_admin()
    return audit.clinic_log(
        admin.clinic_id,
        query["limit"],
        query["cursor"],
        patient_id=query.get("patient_id"),
        action=query.get("action"),
        since=query.get("since"),
    )


@blp.route("/clinicians")
class Clinicians(MethodView):
    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, ClinicianList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """The clinic's clinicians, oldest first"""
        clinician = access.clinician()
        return clinicians.of_clinic(clinician.clinic_id, query["limit"], query["cursor"])

    @blp.arguments(ClinicianIn)
    @blp.response(201, ClinicianOut)
    @documented_errors(blp, 401, 403)
    def post(self, body):
        """Add a clinician to my clinic with a first password to pass on (admins)"""
        return clinicians.add(
            access.administrator(),
            body["email"],
            body["display_name"],
            body["password"],
            is_admin=body.get("is_admin", False),
        )


@blp.route("/clinicians/<string:clinician_id>/deactivate", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, ClinicianOut)
@documented_errors(blp, 401, 403, 404, 409)
def deactivate(_body, clinician_id):
    """Deactivate a clinician: they can no longer sign in, and their tokens stop working"""
    admin = access.administrator()
    return clinicians.deactivate(admin, access.clinician_in_clinic(clinician_id))


@blp.route("/clinicians/<string:clinician_id>/activate", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, ClinicianOut)
@documented_errors(blp, 401, 403, 404)
def activate(_body, clinician_id):
    """Let a deactivated clinician sign in again"""
    admin = access.administrator()
    return clinicians.activate(admin, access.clinician_in_clinic(clinician_id))


@blp.route("/clinicians/<string:clinician_id>/reset", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(201, EnrollmentOut)
@documented_errors(blp, 401, 403, 404, 409)
def issue_reset(_body, clinician_id):
    """Issue a password reset code for a clinician of my clinic (admins, signed in)"""
    admin = access.administrator()
    return clinicians.issue_reset(admin, access.clinician_in_clinic(clinician_id))
