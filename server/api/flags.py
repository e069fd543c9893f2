"""Safety flags: the clinic's inbox, and resolution with a note."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import flags
from . import documented_errors
from .schemas import FlagOut, FlagQuery, ResolveIn, envelope

blp = Blueprint("flags", __name__, url_prefix="/api/v1/flags", description="Safety flags")

FlagList = envelope(FlagOut, "FlagList")


@blp.route("")
class Flags(MethodView):
    @blp.arguments(FlagQuery, location="query", unknown="raise")
    @blp.response(200, FlagList)
    @documented_errors(blp, 401, 403)
    def get(self, query):
        """The clinic's safety flags, oldest first"""
        return flags.list_flags(
            access.clinician(),
            query.get("status"),
            query["limit"],
            query["cursor"],
            patient_id=query.get("patient_id"),
        )


@blp.route("/<string:fid>")
class FlagDetail(MethodView):
    @blp.response(200, FlagOut)
    @documented_errors(blp, 401, 403, 404)
    def get(self, fid):
        """One safety flag: who, the answers that raised it, its age (audited)"""
        return flags.read(access.flag_in_clinic(fid))


@blp.route("/<string:fid>/resolve", methods=["POST"])
@blp.arguments(ResolveIn)
@blp.response(200, FlagOut)
@documented_errors(blp, 401, 403, 404, 409)
def resolve(body, fid):
    """Resolve a safety flag with a note (who and when are recorded)"""
    clinician = access.clinician()
    return flags.resolve(access.flag_in_clinic(fid), clinician, body["note"])
