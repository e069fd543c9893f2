"""The signed-in clinician's clinic and its settings."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import clinic
from . import documented_errors
from .schemas import ClinicOut, ClinicPatch

blp = Blueprint("clinic", __name__, url_prefix="/api/v1/clinic", description="Clinic settings")


@blp.route("")
class ClinicSettings(MethodView):
    @blp.response(200, ClinicOut)
    @documented_errors(blp, 401, 403)
    def get(self):
        """My clinic and its settings"""
        return clinic.of(access.clinician())

    @blp.arguments(ClinicPatch)
    @blp.response(200, ClinicOut)
    @documented_errors(blp, 401, 403)
    def patch(self, body):
        """Change the clinic's settings (admin): default time zone, MADRS remission cut-off"""
        return clinic.update(access.clinic_admin(), body)
