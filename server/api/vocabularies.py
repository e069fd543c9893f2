"""The labels of every value the API uses (public: no patient data)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..domain.vocabularies import VOCABULARIES

blp = Blueprint(
    "vocabularies", __name__, url_prefix="/api/v1", description="Labels for the API's values"
)


class Term(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


class NumberedTerm(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True)


class ContextTerm(Term):
    patient_label = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The patient's check-in choice; null: not theirs to choose."},
    )
    due_label = fields.String(
        required=True, metadata={"description": "How the patient's home names a due check-in."}
    )


class SideEffectTerm(Term):
    question = fields.String(
        required=True, metadata={"description": "How the after-session report asks about it."}
    )


class VocabulariesOut(Schema):
    contexts = fields.List(fields.Nested(ContextTerm), required=True)
    treatments = fields.List(fields.Nested(Term), required=True)
    session_statuses = fields.List(fields.Nested(Term), required=True)
    monitoring_levels = fields.List(fields.Nested(Term), required=True)
    adverse_events = fields.List(fields.Nested(Term), required=True)
    roles = fields.List(fields.Nested(Term), required=True)
    panel_sorts = fields.List(fields.Nested(Term), required=True)
    madrs_remission_choices = fields.List(fields.Nested(NumberedTerm), required=True)
    baseline_rules = fields.List(fields.Nested(NumberedTerm), required=True)
    outcome_unavailable = fields.List(fields.Nested(Term), required=True)
    reliable_change = fields.List(fields.Nested(Term), required=True)
    audit_actions = fields.List(fields.Nested(Term), required=True)
    token_scopes = fields.List(fields.Nested(Term), required=True)
    side_effects = fields.List(fields.Nested(SideEffectTerm), required=True)
    side_effect_levels = fields.List(fields.Nested(NumberedTerm), required=True)
    pre_session_reminders = fields.List(fields.Nested(NumberedTerm), required=True)


@blp.route("/vocabularies")
class Vocabularies(MethodView):
    @blp.response(200, VocabulariesOut)
    def get(self):
        """Every value the API uses (contexts, treatments, roles, sorts...) with its label"""
        return VOCABULARIES
