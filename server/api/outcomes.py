"""Outcomes: a patient's summary per instrument, and the clinician's baseline choice."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import outcomes
from . import documented_errors
from .schemas import BaselineIn, BaselineOut, NoBody, SummaryOut, SummaryQuery

blp = Blueprint("outcomes", __name__, url_prefix="/api/v1/patients", description="Outcomes")


@blp.route("/<string:pid>/summary")
class Summary(MethodView):
    @blp.arguments(SummaryQuery, location="query", unknown="raise")
    @blp.response(200, SummaryOut)
    @documented_errors(blp, 401, 404)
    def get(self, query, pid):
        """Baseline, change, response, remission, series and sessions for one instrument"""
        return outcomes.summary(access.patient(pid), query["instrument"])


@blp.route("/<string:pid>/baseline/<string:instrument_id>")
class Baseline(MethodView):
    @blp.arguments(BaselineIn)
    @blp.response(200, BaselineOut)
    @documented_errors(blp, 401, 403, 404)
    def put(self, body, pid, instrument_id):
        """Set the baseline entry explicitly (rule 1 of shared/scales.md)"""
        patient = access.patient_for_clinician(pid)
        return outcomes.set_baseline(patient, instrument_id, body["entry_id"], access.clinician())

    @blp.arguments(NoBody, required=False)
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, _body, pid, instrument_id):
        """Return to the default baseline rules"""
        outcomes.clear_baseline(access.patient_for_clinician(pid), instrument_id)
