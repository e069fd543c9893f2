"""Patients, their enrollment codes and their check-in schedules."""

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import panel, patients
from . import documented_errors
from .schemas import (
    EnrollmentOut,
    NewPatientOut,
    NoBody,
    PanelQuery,
    PanelRowOut,
    PatientDetailOut,
    PatientIn,
    PatientOut,
    PatientPatch,
    ScheduleSchema,
    envelope,
    panel_page_json,
)

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients")

PanelList = envelope(PanelRowOut, "PanelList")


@blp.route("")
class Patients(MethodView):
    @blp.arguments(PanelQuery, location="query", unknown="raise")
    @blp.response(200, PanelList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """The clinic's panel: open flags first, then most overdue, then name"""
        shown = panel.read_page(
            access.clinician(),
            query["instrument"],
            query.get("q"),
            query["sort"],
            query["limit"],
            query["cursor"],
        )
        # PanelList's JSON built directly, past marshmallow: too slow for a large panel.
        return Response(panel_page_json(shown), mimetype="application/json")

    @blp.arguments(PatientIn)
    @blp.response(201, NewPatientOut)
    @documented_errors(blp, 401, 403, 409)
    def post(self, body):
        """Add a patient to my clinic and issue their enrollment code"""
        return patients.create(access.clinician(), body)


@blp.route("/<string:pid>")
class PatientDetail(MethodView):
    @blp.response(200, PatientDetailOut)
    @documented_errors(blp, 401, 404)
    def get(self, pid):
        """One patient, their check-in schedule and what is due"""
        return patients.detail(access.patient(pid))

    @blp.arguments(PatientPatch)
    @blp.response(200, PatientOut)
    @documented_errors(blp, 401, 403, 404)
    def patch(self, body, pid):
        """Edit a patient's display name, external id or time zone"""
        return patients.update(access.patient_for_clinician(pid), body)


@blp.route("/<string:pid>/enrollment", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(201, EnrollmentOut)
@documented_errors(blp, 401, 403, 404, 409)
def reissue_enrollment(_body, pid):
    """Issue a new code: to enroll, or for an enrolled patient a password reset code (the
    previous one stops working)"""
    patient = access.patient_for_clinician(pid)
    return patients.reissue_enrollment(patient, access.clinician())


@blp.route("/<string:pid>/deactivate", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, PatientOut)
@documented_errors(blp, 401, 403, 404)
def deactivate(_body, pid):
    """Deactivate a patient: no sign-in; their sessions end and their codes stop working"""
    return patients.deactivate(access.patient_for_clinician(pid))


@blp.route("/<string:pid>/activate", methods=["POST"])
@blp.arguments(NoBody, required=False)
@blp.response(200, PatientOut)
@documented_errors(blp, 401, 403, 404)
def activate(_body, pid):
    """Let a deactivated patient sign in again (old sessions stay ended)"""
    return patients.activate(access.patient_for_clinician(pid))


@blp.route("/<string:pid>/schedule")
class Schedule(MethodView):
    @blp.response(200, ScheduleSchema)
    @documented_errors(blp, 401, 404)
    def get(self, pid):
        """The patient's check-in schedule"""
        return patients.schedule_of(access.patient(pid))

    @blp.arguments(ScheduleSchema)
    @blp.response(200, ScheduleSchema)
    @documented_errors(blp, 401, 403, 404)
    def put(self, body, pid):
        """Replace the patient's check-in schedule"""
        return patients.replace_schedule(access.patient_for_clinician(pid), body)
