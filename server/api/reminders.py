"""Reminders by web push: the server's public key, the patient's browsers, their settings."""

from flask.views import MethodView
from flask_smorest import Blueprint

from .. import access
from ..services import push, reminders
from . import documented_errors
from .schemas import (
    PushEndpointIn,
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    ReminderSettingsIn,
    ReminderSettingsOut,
)

blp = Blueprint("reminders", __name__, url_prefix="/api/v1", description="Reminders (web push)")


@blp.route("/push/key", methods=["GET"])
@blp.response(200, PushKeyOut)
def push_key():
    """The VAPID application server key browsers subscribe with (public; no sign-in)"""
    return {"public_key": push.public_key()}


@blp.route("/patients/<string:pid>/push-subscriptions")
class PushSubscriptions(MethodView):
    @blp.arguments(PushSubscriptionIn)
    @blp.response(201, PushSubscriptionOut)
    @blp.alt_response(200, schema=PushSubscriptionOut, description="Already this patient's")
    @documented_errors(blp, 401, 403, 404)
    def post(self, body, pid):
        """Send my reminders to this browser (201; 200 when it already was mine)"""
        subscription, new = push.subscribe(access.patient_themself(pid), body)
        return subscription, 201 if new else 200

    @blp.arguments(PushEndpointIn)
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, body, pid):
        """Stop sending my reminders to this browser (204, whether or not it was known)"""
        push.unsubscribe(access.patient_themself(pid), body["endpoint"])


@blp.route("/patients/<string:pid>/reminders")
class ReminderSettings(MethodView):
    @blp.response(200, ReminderSettingsOut)
    @documented_errors(blp, 401, 404)
    def get(self, pid):
        """The patient's reminder settings (the defaults until set)"""
        return reminders.settings_of(access.patient(pid))

    @blp.arguments(ReminderSettingsIn)
    @blp.response(200, ReminderSettingsOut)
    @documented_errors(blp, 401, 404)
    def put(self, body, pid):
        """Replace the patient's reminder settings (the patient, or a clinician)"""
        return reminders.replace_settings(access.patient(pid), body)
