"""Treatment sessions: created and edited by clinicians, read by the patient too."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import audit, sessions
from . import documented_errors
from .schemas import ListQuery, SessionIn, SessionOut, SessionPatch, envelope

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
        """Edit a session (moving it re-links the entries around it)"""
        patient = access.patient_for_clinician(pid)
        return sessions.update(patient, access.session_of(patient, sid), body)
