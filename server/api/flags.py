"""Safety flags: the clinic's inbox, and resolution with a note."""

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select, update

from .. import access
from ..data.extensions import db
from ..data.models import Flag, Patient, User, utcnow
from ..services import audit
from ..services.pagination import page
from . import documented_errors
from .patients import patient_out
from .schemas import FlagOut, FlagQuery, ResolveIn, envelope

blp = Blueprint("flags", __name__, url_prefix="/api/v1/flags", description="Safety flags")

FlagList = envelope(FlagOut, "FlagList")


def flag_out(flag: Flag) -> dict:
    resolver = db.session.get(User, flag.resolved_by_id) if flag.resolved_by_id else None
    if resolver is not None and resolver.clinic_id != flag.patient.clinic_id:
        resolver = None  # an imported id of someone elsewhere: never show their name
    return {
        "id": flag.id,
        "patient": patient_out(flag.patient),
        "entry": flag.entry,
        "kind": flag.kind,
        "opened_at": flag.opened_at,
        "status": flag.status,
        "resolved_by": (
            {
                "id": flag.resolved_by_id,
                # None when the resolver has no account here (an imported flag).
                "display_name": resolver.display_name if resolver else None,
            }
            if flag.resolved_by_id
            else None
        ),
        "resolved_at": flag.resolved_at,
        "note": flag.note,
    }


@blp.route("")
class Flags(MethodView):
    @blp.arguments(FlagQuery, location="query", unknown="raise")
    @blp.response(200, FlagList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """The clinic's safety flags, oldest first"""
        clinician = access.clinician()
        statement = (
            select(Flag)
            .join(Patient, Patient.id == Flag.patient_id)
            .where(Patient.clinic_id == clinician.clinic_id)
        )
        if query.get("status"):
            statement = statement.where(Flag.status == query["status"])
        result = page(statement, Flag.opened_at, Flag.id, query["limit"], query["cursor"])
        items = [flag_out(flag) for flag in result["items"]]
        audit.record(
            "flags.read",
            detail={"patient_ids": sorted({item["patient"]["id"] for item in items})},
        )
        db.session.commit()
        return {"items": items, "next_cursor": result["next_cursor"]}


@blp.route("/<string:fid>/resolve", methods=["POST"])
@blp.arguments(ResolveIn)
@blp.response(200, FlagOut)
@documented_errors(blp, 401, 403, 404, 409)
def resolve(body, fid):
    """Resolve a safety flag with a note (who and when are recorded)"""
    clinician = access.clinician()
    flag = access.flag_in_clinic(fid)
    # Only an open flag can be resolved: the condition decides between two clinicians at once.
    resolved = db.session.execute(
        update(Flag)
        .where(Flag.id == flag.id, Flag.status == "open")
        .values(
            status="resolved", resolved_by_id=clinician.id, resolved_at=utcnow(), note=body["note"]
        )
    )
    if resolved.rowcount != 1:
        db.session.rollback()
        abort(409, message="This flag is already resolved.")
    audit.record("flag.resolve", patient=flag.patient, detail={"flag_id": flag.id})
    db.session.commit()
    db.session.refresh(flag)
    return flag_out(flag)
