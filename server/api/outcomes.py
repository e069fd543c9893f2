"""Outcomes: a patient's summary per instrument, and the clinician's baseline choice."""

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import delete, select

from .. import access
from ..data.extensions import db
from ..data.models import BaselineChoice, Clinic, Entry, Flag, TreatmentSession, utcnow
from ..data.snapshots import remission_max_for
from ..domain import outcomes
from ..domain.instruments import INSTRUMENTS
from ..services import audit
from . import documented_errors
from .flags import flag_out
from .schemas import BaselineIn, BaselineOut, NoBody, SummaryOut, SummaryQuery

blp = Blueprint("outcomes", __name__, url_prefix="/api/v1/patients", description="Outcomes")


def _instrument(instrument_id: str):
    instrument = INSTRUMENTS.get(instrument_id)
    if instrument is None:
        abort(404, message="No such instrument.")
    return instrument


@blp.route("/<string:pid>/summary")
class Summary(MethodView):
    @blp.arguments(SummaryQuery, location="query", unknown="raise")
    @blp.response(200, SummaryOut)
    @documented_errors(blp, 401, 404)
    def get(self, query, pid):
        """Baseline, change, response, remission, series and sessions for one instrument"""
        patient = access.patient(pid)
        instrument = INSTRUMENTS[query["instrument"]]
        entries = list(
            db.session.scalars(
                select(Entry).where(
                    Entry.patient_id == patient.id, Entry.instrument == instrument.id
                )
            )
        )
        sessions = list(
            db.session.scalars(
                select(TreatmentSession).where(TreatmentSession.patient_id == patient.id)
            )
        )
        explicit = db.session.get(BaselineChoice, (patient.id, instrument.id))
        clinic = db.session.get(Clinic, patient.clinic_id)
        summary = outcomes.summarize(
            instrument,
            entries,
            sessions,
            patient.timezone,
            explicit.entry_id if explicit else None,
            remission_max_for(clinic, instrument.id),
        )
        # Read to the end before the audit write: on SQLite an open cursor would hold a
        # snapshot, and the write would fail at once if another request wrote meanwhile.
        open_flags = db.session.scalars(
            select(Flag)
            .where(Flag.patient_id == patient.id, Flag.status == "open")
            .order_by(Flag.opened_at, Flag.id)
        ).all()
        audit.clinician_read("summary.read", patient, {"instrument": instrument.id})
        return {
            "instrument": instrument.id,
            "baseline": summary.baseline,
            "baseline_rule": summary.baseline_rule,
            "latest": summary.latest,
            "change": summary.change,
            "percent_change": summary.percent_change,
            "response": summary.response,
            "remission": summary.remission,
            "reliable_change": summary.reliable_change,
            "thresholds": summary.thresholds,
            "daily": summary.daily,
            "weekly": summary.weekly,
            "sessions": summary.sessions,
            "open_flags": [flag_out(flag) for flag in open_flags],
        }


@blp.route("/<string:pid>/baseline/<string:instrument_id>")
class Baseline(MethodView):
    @blp.arguments(BaselineIn)
    @blp.response(200, BaselineOut)
    @documented_errors(blp, 401, 403, 404)
    def put(self, body, pid, instrument_id):
        """Set the baseline entry explicitly (rule 1 of shared/scales.md)"""
        patient = access.patient_for_clinician(pid)
        instrument = _instrument(instrument_id)
        entry = db.session.get(Entry, body["entry_id"])
        if (
            entry is None
            or entry.patient_id != patient.id
            or entry.instrument != instrument.id
            or entry.voided
        ):
            abort(
                422,
                errors={"json": {"entry_id": [f"No such {instrument.name} entry to choose."]}},
            )
        choice = db.session.get(BaselineChoice, (patient.id, instrument.id))
        if choice is None:
            choice = BaselineChoice(patient_id=patient.id, instrument=instrument.id)
            db.session.add(choice)
        choice.entry_id = entry.id
        choice.set_by_id = access.clinician().id
        choice.set_at = utcnow()
        audit.record(
            "baseline.set",
            patient=patient,
            detail={"instrument": instrument.id, "entry_id": entry.id},
        )
        db.session.flush()
        db.session.commit()
        return {"instrument": instrument.id, "entry_id": entry.id, "rule": outcomes.EXPLICIT}

    @blp.arguments(NoBody, required=False)
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, _body, pid, instrument_id):
        """Return to the default baseline rules"""
        patient = access.patient_for_clinician(pid)
        instrument = _instrument(instrument_id)
        db.session.execute(
            delete(BaselineChoice).where(
                BaselineChoice.patient_id == patient.id,
                BaselineChoice.instrument == instrument.id,
            )
        )
        audit.record("baseline.clear", patient=patient, detail={"instrument": instrument.id})
        db.session.flush()
        db.session.commit()
