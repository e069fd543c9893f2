"""The signed-in clinician's clinic and its settings."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..data.extensions import db
from ..data.models import Clinic
from ..services import audit
from . import documented_errors
from .schemas import ClinicOut, ClinicPatch

blp = Blueprint("clinic", __name__, url_prefix="/api/v1/clinic", description="Clinic settings")


@blp.route("")
class ClinicSettings(MethodView):
    @blp.response(200, ClinicOut)
    @documented_errors(blp, 401, 403)
    def get(self):
        """My clinic and its settings"""
        return db.session.get(Clinic, access.clinician().clinic_id)

    @blp.arguments(ClinicPatch)
    @blp.response(200, ClinicOut)
    @documented_errors(blp, 401, 403)
    def patch(self, body):
        """Change the clinic's settings (admin): default time zone, MADRS remission cut-off"""
        clinic = db.session.get(Clinic, access.clinic_admin().clinic_id)
        for name, value in body.items():
            setattr(clinic, name, value)
        audit.record("clinic.update", detail=body)
        db.session.flush()
        db.session.commit()
        return clinic
