"""Entries: completed questionnaires, stored idempotently under the client's id."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import audit, entries
from . import documented_errors
from .schemas import EntryIn, EntryOut, EntryQuery, VoidIn, envelope

blp = Blueprint("entries", __name__, url_prefix="/api/v1/patients", description="Entries")

EntryList = envelope(EntryOut, "EntryList")


@blp.route("/<string:pid>/entries")
class Entries(MethodView):
    @blp.arguments(EntryIn)
    @blp.response(201, EntryOut)
    @blp.alt_response(200, schema=EntryOut, description="The same entry was already stored")
    @documented_errors(blp, 401, 403, 404, 409)
    def post(self, body, pid):
        """Submit a completed questionnaire (201; an identical replay answers 200)"""
        patient = access.patient(pid)
        entry, created = entries.submit(patient, body, access.signed_in_user())
        return entry, 201 if created else 200

    @blp.arguments(EntryQuery, location="query", unknown="raise")
    @blp.response(200, EntryList)
    @documented_errors(blp, 401, 404)
    def get(self, query, pid):
        """The patient's entries, oldest first"""
        return entries.list_page(access.patient(pid), query)


@blp.route("/<string:pid>/entries/<string:eid>")
class EntryDetail(MethodView):
    @blp.response(200, EntryOut)
    @documented_errors(blp, 401, 404)
    def get(self, pid, eid):
        """One entry"""
        patient = access.patient(pid)
        entry = access.entry_of(patient, eid)
        audit.clinician_read("entry.read", patient, {"entry_id": entry.id})
        return entry


@blp.route("/<string:pid>/entries/<string:eid>/void", methods=["POST"])
@blp.arguments(VoidIn)
@blp.response(200, EntryOut)
@documented_errors(blp, 401, 404, 409)
def void_entry(body, pid, eid):
    """Void an entry with a reason (it leaves scores but stays listed, marked)"""
    patient = access.patient(pid)
    return entries.void(
        patient, access.entry_of(patient, eid), body["reason"], access.signed_in_user()
    )
