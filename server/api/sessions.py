"""Treatment sessions: created and edited by clinicians, read by the patient too."""

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import audit, monitoring, sessions
from . import documented_errors
from .schemas import (
    ListQuery,
    MonitoringIn,
    MonitoringOut,
    SessionIn,
    SessionOut,
    SessionPatch,
    envelope,
)

blp = Blueprint(
    "sessions", __name__, url_prefix="/api/v1/patients", description="Treatment sessions"
)

SessionList = envelope(SessionOut, "SessionList")


@blp.route("/<string:pid>/sessions")
class Sessions(MethodView):
    @blp.arguments(SessionIn)
    @blp.response(201, SessionOut)
    @documented_errors(blp, 401, 403, 404)
    def post(self, body, pid):
        """Record a treatment session (entries around it are linked to it)"""
        patient = access.patient_for_clinician(pid)
        return sessions.create(patient, body, access.clinician())

    @blp.arguments(ListQuery, location="query", unknown="raise")
    @blp.response(200, SessionList)
    @documented_errors(blp, 401, 404)
    def get(self, query, pid):
        """The patient's treatment sessions, oldest first"""
        return sessions.list_page(access.patient(pid), query)


@blp.route("/<string:pid>/sessions/<string:sid>")
class SessionDetail(MethodView):
    @blp.response(200, SessionOut)
    @documented_errors(blp, 401, 404)
    def get(self, pid, sid):
        """One treatment session"""
        patient = access.patient(pid)
        session = access.session_of(patient, sid)
        audit.clinician_read("session.read", patient, {"session_id": session.id})
        return session

    @blp.arguments(SessionPatch)
    @blp.response(200, SessionOut)
    @documented_errors(blp, 401, 403, 404)
    def patch(self, body, pid, sid):
        """Edit a session, or cancel it with `"status": "cancelled"` (moving or cancelling it
        re-links the entries around it)"""
        patient = access.patient_for_clinician(pid)
        session = access.session_of(patient, sid)
        return sessions.update(patient, session, body, access.clinician())


# The record, or JSON null before one is saved (as exports carry it: `monitoring` or null).
MONITORING_OR_NULL = {"allOf": [{"$ref": "#/components/schemas/MonitoringOut"}], "nullable": True}


@blp.route("/<string:pid>/sessions/<string:sid>/monitoring")
class SessionMonitoring(MethodView):
    @blp.arguments(MonitoringIn)
    @blp.response(200, MonitoringOut)
    @documented_errors(blp, 401, 403, 404, 409)
    def put(self, body, pid, sid):
        """Save the session's monitoring record whole (clinicians): vitals, sedation,
        dissociation, respiratory depression, adverse events, minutes, discharge, notes"""
        patient = access.patient_for_clinician(pid)
        session = access.session_of(patient, sid)
        return monitoring.record(patient, session, body, access.clinician())

    @blp.response(200, MONITORING_OR_NULL)
    @documented_errors(blp, 401, 404)
    def get(self, pid, sid):
        """The session's monitoring record, or null before one is saved (a clinician, or the
        patient themself)"""
        patient = access.patient(pid)
        session = access.session_of(patient, sid)
        found = monitoring.read(patient, session)
        return jsonify(None if found is None else MonitoringOut().dump(found))
