"""Health probes and the instrument definitions (public: no patient data)."""

from flask import Blueprint as FlaskBlueprint
from flask.views import MethodView
from flask_smorest import Blueprint

from ..domain.errors import NotFound
from ..domain.instruments import INSTRUMENTS
from ..services import health
from . import documented_errors
from .schemas import HealthOut, InstrumentOut, envelope

blp = Blueprint("meta", __name__, url_prefix="/api/v1", description="Health and instruments")
probes = FlaskBlueprint("probes", __name__)

InstrumentList = envelope(InstrumentOut, "InstrumentList")


def _ready() -> dict:
    health.check_database()
    health.check_session_store()
    return {"status": "ok"}


@blp.route("/healthz")
@blp.response(200, HealthOut)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, HealthOut)
@documented_errors(blp, 503)
def readyz():
    """The process and its database are up"""
    return _ready()


@probes.get("/healthz")
def root_healthz():
    return {"status": "ok"}


@probes.get("/readyz")
def root_readyz():
    return _ready()


@blp.route("/instruments")
class Instruments(MethodView):
    @blp.response(200, InstrumentList)
    def get(self):
        """List the questionnaires with items, options, bands and safety items"""
        return {"items": list(INSTRUMENTS.values()), "next_cursor": None}


@blp.route("/instruments/<string:instrument_id>")
class InstrumentDetail(MethodView):
    @blp.response(200, InstrumentOut)
    @documented_errors(blp, 404)
    def get(self, instrument_id: str):
        """One questionnaire"""
        instrument = INSTRUMENTS.get(instrument_id)
        if instrument is None:
            raise NotFound("No such instrument.")
        return instrument
