"""Clinic administration: the audit log and the clinic's clinicians."""

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from .. import access
from ..data.extensions import db
from ..data.models import AuditEvent, User
from ..services import audit
from ..services.accounts import hash_password
from ..services.pagination import page
from . import documented_errors
from .schemas import AuditOut, AuditQuery, ClinicianIn, ClinicianOut, ListQuery, NoBody, envelope

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
    statement = select(AuditEvent).where(AuditEvent.clinic_id == admin.clinic_id)
    if query.get("patient_id"):
        statement = statement.where(AuditEvent.patient_id == query["patient_id"])
    if query.get("action"):
        statement = statement.where(AuditEvent.action == query["action"])
    if query.get("since"):
        statement = statement.where(AuditEvent.at >= query["since"])
    return page(
        statement, AuditEvent.at, AuditEvent.id, query["limit"], query["cursor"], newest_first=True
    )


@blp.route("/clinicians")
class Clinicians(MethodView):
    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, ClinicianList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """The clinic's clinicians, oldest first"""
        clinician = access.clinician()
        statement = select(User).where(
            User.clinic_id == clinician.clinic_id, User.role == "clinician"
        )
        return page(statement, User.created_at, User.id, query["limit"], query["cursor"])

    @blp.arguments(ClinicianIn)
    @blp.response(201, ClinicianOut)
    @documented_errors(blp, 401, 403)
    def post(self, body):
        """Add a clinician to my clinic with a first password to pass on (admins)"""
        admin = access.clinic_admin()
        email = body["email"].strip().lower()
        if db.session.scalar(select(User.id).where(User.email == email)):
            abort(422, errors={"json": {"email": ["This email is already in use."]}})
        clinician = User(
            email=email,
            password_hash=hash_password(body["password"]),
            role="clinician",
            is_admin=body.get("is_admin", False),
            display_name=body["display_name"],
            clinic_id=admin.clinic_id,
        )
        db.session.add(clinician)
        db.session.flush()
        audit.record("clinician.create", detail={"clinician_id": clinician.id, "email": email})
        db.session.commit()
        return clinician


@blp.route("/clinicians/<string:clinician_id>/deactivate", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, ClinicianOut)
@documented_errors(blp, 401, 403, 404, 409)
def deactivate(_body, clinician_id):
    """Deactivate a clinician: they can no longer sign in, and their tokens stop working"""
    admin = access.clinic_admin()
    clinician = access.clinician_in_clinic(clinician_id)
    if clinician.id == admin.id:
        abort(409, message="You cannot deactivate yourself.")
    clinician.active = False
    audit.record("clinician.deactivate", detail={"clinician_id": clinician.id})
    db.session.commit()
    return clinician


@blp.route("/clinicians/<string:clinician_id>/activate", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, ClinicianOut)
@documented_errors(blp, 401, 403, 404)
def activate(_body, clinician_id):
    """Let a deactivated clinician sign in again"""
    clinician = access.clinician_in_clinic(clinician_id)
    clinician.active = True
    audit.record("clinician.activate", detail={"clinician_id": clinician.id})
    db.session.commit()
    return clinician
