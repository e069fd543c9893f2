"""Patients, their enrollment codes and their check-in schedules."""

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..data.extensions import db
from ..domain import outcomes
from ..domain.instruments import INSTRUMENTS
from ..domain.times import utc
from ..services import audit, panel, patients
from ..services.pagination import offset_cursor, offset_from_cursor
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
)

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients")

PanelList = envelope(PanelRowOut, "PanelList")


def _points(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _time(value):
    return None if value is None else utc(value)


def panel_row_out(row: panel.PanelRow) -> dict:
    """A panel row, already in its JSON form (PanelRowOut documents it; the panel is too
    large to go through marshmallow within its time budget)."""
    snapshot = row.snapshot

    def score(prefix: str):
        if snapshot is None or getattr(snapshot, f"{prefix}_total") is None:
            return None
        return {
            "total": _points(getattr(snapshot, f"{prefix}_total")),
            "severity": getattr(snapshot, f"{prefix}_severity"),
            "taken_at": _time(getattr(snapshot, f"{prefix}_taken_at")),
        }

    patient = row.patient
    return {
        "patient": {
            "id": patient.id,
            "display_name": patient.display_name,
            "external_id": patient.external_id,
            "timezone": patient.timezone,
            "enrolled": row.enrolled,
            "created_at": utc(patient.created_at),
        },
        "instrument": row.instrument,
        "baseline": score("baseline"),
        "baseline_rule": snapshot.baseline_rule if snapshot else None,
        "latest": score("latest"),
        "change": _points(snapshot.change) if snapshot else None,
        "percent_change": outcomes.round1(snapshot.percent_change) if snapshot else None,
        "response": snapshot.response if snapshot else None,
        "remission": snapshot.remission if snapshot else None,
        "reliable_change": snapshot.reliable_change if snapshot else None,
        "outcome_unavailable": _why_no_outcome(row),
        "open_flag_count": row.open_flag_count,
        "last_entry_at": _time(row.last_entry_at),
        "sessions_count": row.sessions_count,
        "overdue": row.overdue,
        "next_due_at": _time(row.next_due_at),
    }


def _why_no_outcome(row: panel.PanelRow) -> str | None:
    snapshot = row.snapshot
    return outcomes.why_no_outcome(
        snapshot,
        snapshot.baseline_total if snapshot is not None else None,
        INSTRUMENTS[row.instrument].outcome.min_baseline,
    )


@blp.route("")
class Patients(MethodView):
    @blp.arguments(PanelQuery, location="query", unknown="raise")
    @blp.response(200, PanelList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """The clinic's panel: open flags first, then most overdue, then name"""
        clinician = access.clinician()
        rows = panel.panel_rows(
            clinician.clinic_id, query["instrument"], query.get("q"), query["sort"]
        )
        start = offset_from_cursor(query["cursor"])
        shown = rows[start : start + query["limit"]]
        more = start + query["limit"] < len(rows)
        audit.record(
            "panel.read",
            detail={
                "instrument": query["instrument"],
                "offset": start,
                "patient_ids": [row.patient.id for row in shown],
            },
        )
        db.session.commit()
        return jsonify(
            items=[panel_row_out(row) for row in shown],
            next_cursor=offset_cursor(start + query["limit"]) if more else None,
        )

    @blp.arguments(PatientIn)
    @blp.response(201, NewPatientOut)
    @documented_errors(blp, 401, 403)
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
    """Issue a new enrollment code (the previous one stops working)"""
    patient = access.patient_for_clinician(pid)
    return patients.reissue_enrollment(patient, access.clinician())


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
