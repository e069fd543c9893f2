"""The signed-in user's clinic: its settings for clinicians, its crisis resources for all."""

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..data.extensions import api
from ..services import clinic
from . import documented_errors
from .schemas import ClinicOut, ClinicPatch, PatientClinicOut

blp = Blueprint("clinic", __name__, url_prefix="/api/v1/clinic", description="Clinic settings")

# A patient sees the clinic's name and crisis resources; a clinician sees every setting.
EITHER_VIEW = {
    "oneOf": [
        {"$ref": "#/components/schemas/ClinicOut"},
        {"$ref": "#/components/schemas/PatientClinicOut"},
    ]
}


@blp.record_once
def _document_the_patients_view(state):
    if "PatientClinicOut" not in api.spec.components.schemas:
        api.spec.components.schema("PatientClinicOut", schema=PatientClinicOut)


@blp.route("")
class ClinicSettings(MethodView):
    @blp.response(200, EITHER_VIEW)
    @documented_errors(blp, 401)
    def get(self):
        """My clinic: every setting for a clinician; name and crisis resources for a patient"""
        user = access.signed_in_user()
        schema = PatientClinicOut() if user.is_patient else ClinicOut()
        return jsonify(schema.dump(clinic.of(user)))

    @blp.arguments(ClinicPatch)
    @blp.response(200, ClinicOut)
    @documented_errors(blp, 401, 403)
    def patch(self, body):
        """Change the clinic's settings (admin): name, default time zone, MADRS remission
        cut-off, hours before an open flag is overdue, crisis resources"""
        return clinic.update(access.administrator(), body)
