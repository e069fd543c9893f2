"""Safety signals: a positive safety answer, sent while the patient is still answering."""

from flask_smorest import Blueprint

from .. import access
from ..services import safety
from . import documented_errors
from .schemas import FlagOut, SafetySignalIn

blp = Blueprint("safety", __name__, url_prefix="/api/v1/patients", description="Safety signals")


@blp.route("/<string:pid>/safety-signals", methods=["POST"])
@blp.arguments(SafetySignalIn)
@blp.response(201, FlagOut)
@blp.alt_response(200, schema=FlagOut, description="The same signal was already received")
@documented_errors(blp, 401, 403, 404, 409)
def receive_signal(body, pid):
    """Send a positive safety answer at once (201 with its flag; an identical replay 200)"""
    patient = access.patient_themself(pid)
    flag, created = safety.receive(patient, body, access.signed_in_user())
    return flag, 201 if created else 200
