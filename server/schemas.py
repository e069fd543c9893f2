"""Marshmallow schemas: strict on the way in, explicit on the way out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from . import access
from .instruments import INSTRUMENTS, ScoringError, score

CONTEXTS = ("baseline", "pre_session", "post_session", "routine")
TREATMENTS = ("ketamine_iv", "ketamine_im", "esketamine_nasal", "other")
TIMEZONES = frozenset(available_timezones())


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


# ---------------------------------------------------------------- field types


class UTCTime(fields.DateTime):
    """Out: UTC with second precision and a Z. In: ISO 8601 with an offset (else 422)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise ValidationError(
                "Must include a time zone offset, e.g. 2026-11-27T08:30:00+01:00."
            )
        return parsed.astimezone(UTC).replace(microsecond=0)


class Id(fields.String):
    """An opaque identifier: a UUID, returned in its canonical lowercase form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "uuid")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(text) != 36:
                raise ValueError
            return str(uuid.UUID(text))
        except ValueError as error:
            raise ValidationError("Must be a UUID.") from error


class StrictBoolean(fields.Boolean):
    """Only JSON true or false: not 1, "yes" or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Timezone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in TIMEZONES:
            raise ValidationError("Must be an IANA time zone name, e.g. Europe/Berlin.")
        return text


class Text(fields.String):
    """A string with surrounding whitespace removed; blank counts as missing when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.required and not text:
            raise ValidationError("Must not be blank.")
        return text


# ---------------------------------------------------------------- errors and envelopes


class ErrorSchema(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict()


class ListQuery(StrictSchema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


def envelope(item_schema: type[Schema], name: str) -> type[Schema]:
    """The list envelope every list answer shares: items and an opaque next cursor."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


# ---------------------------------------------------------------- accounts


class ClinicRef(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class UserOut(Schema):
    id = fields.String(required=True)
    role = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    clinic = fields.Nested(ClinicRef, required=True)
    patient_id = fields.String(allow_none=True, required=True)


class SessionOut(Schema):
    user = fields.Nested(UserOut, required=True)
    csrf_token = fields.String(required=True)


class LoginIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


PASSWORD = validate.Length(min=10, max=1024, error="Must be 10 to 1024 characters long.")


class EnrollIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=PASSWORD)
    display_name = Text(validate=validate.Length(min=1, max=200))


class TokenIn(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    expires_in_days = fields.Integer(strict=True, required=True, validate=validate.Range(1, 365))


class TokenOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    created_at = UTCTime(required=True)
    expires_at = UTCTime(required=True)
    last_used_at = UTCTime(allow_none=True, required=True)
    revoked = fields.Method("_revoked", required=True, metadata={"type": "boolean"})

    def _revoked(self, token) -> bool:
        return token.revoked_at is not None


class NewTokenOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = UTCTime(required=True)


# ---------------------------------------------------------------- patients


class PatientOut(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)
    external_id = fields.String(allow_none=True, required=True)
    timezone = fields.String(required=True)
    enrolled = fields.Boolean(required=True)
    created_at = UTCTime(required=True)


class PatientIn(StrictSchema):
    display_name = Text(required=True, validate=validate.Length(min=1, max=200))
    external_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    timezone = Timezone()


class PatientPatch(StrictSchema):
    display_name = Text(validate=validate.Length(min=1, max=200))
    external_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    timezone = Timezone()

    @validates_schema
    def _changes_something(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class EnrollmentOut(Schema):
    code = fields.String(required=True)
    url = fields.String(required=True)
    expires_at = UTCTime(required=True)


class NewPatientOut(Schema):
    patient = fields.Nested(PatientOut, required=True)
    enrollment = fields.Nested(EnrollmentOut, required=True)


class ScheduledInstrument(StrictSchema):
    instrument = fields.String(required=True, validate=validate.OneOf(["phq9", "gad7"]))
    every_days = fields.Integer(strict=True, required=True, validate=validate.Range(1, 365))


class ScheduleSchema(StrictSchema):
    instruments = fields.List(
        fields.Nested(ScheduledInstrument), required=True, validate=validate.Length(max=10)
    )
    pre_session = StrictBoolean(required=True)


class DueOut(Schema):
    instrument = fields.String(required=True)
    context = fields.String(required=True)
    due_at = UTCTime(required=True)
    overdue = fields.Boolean(required=True)


class PatientDetailOut(Schema):
    patient = fields.Nested(PatientOut, required=True)
    schedule = fields.Nested(ScheduleSchema, required=True)
    due = fields.List(fields.Nested(DueOut), required=True)


# ---------------------------------------------------------------- instruments


class OptionOut(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True)
    loinc = fields.String(allow_none=True)


class ItemOut(Schema):
    id = fields.String(required=True)
    text = fields.String(required=True)
    loinc = fields.String(allow_none=True)


class BandOut(Schema):
    min = fields.Integer(required=True)
    max = fields.Integer(required=True)
    label = fields.String(required=True)


class DifficultyOut(Schema):
    text = fields.String(required=True)
    loinc = fields.String(required=True)
    options = fields.List(fields.Nested(OptionOut), required=True)


class InstrumentOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.String(required=True)
    rater = fields.String(required=True)
    recall = fields.String(required=True)
    stem = fields.String(allow_none=True, required=True)
    items = fields.List(fields.Nested(ItemOut), required=True)
    options = fields.List(fields.Nested(OptionOut), required=True)
    min = fields.Integer(required=True)
    max = fields.Integer(required=True)
    bands = fields.List(fields.Nested(BandOut), required=True)
    safety_items = fields.Method(
        "_safety_items", required=True, metadata={"type": "array", "items": {"type": "string"}}
    )
    safety_thresholds = fields.Dict(
        attribute="safety_items", keys=fields.String(), values=fields.Integer(), required=True
    )
    difficulty = fields.Nested(DifficultyOut, allow_none=True, required=True)
    loinc = fields.String(allow_none=True, required=True)
    total_loinc = fields.String(allow_none=True, required=True)
    attribution = fields.String(allow_none=True, required=True)

    def _safety_items(self, instrument) -> list[str]:
        return sorted(instrument.safety_items)


# ---------------------------------------------------------------- entries


class EntryIn(StrictSchema):
    id = Id(required=True)
    instrument = fields.String(
        required=True,
        validate=validate.OneOf(sorted(INSTRUMENTS), error="Unknown instrument: {input}."),
    )
    answers = fields.List(
        fields.Integer(strict=True, allow_none=True),
        required=True,
        validate=validate.Length(max=100),
    )
    difficulty = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 3))
    taken_at = UTCTime(required=True)
    context = fields.String(required=True, validate=validate.OneOf(CONTEXTS))
    session_id = Id(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _follows_the_instrument(self, data, original, **kwargs):
        """The instrument's own rules, checked here so that one 422 names every failing field."""
        # A badly typed answer is dropped from `data`: judge the answers as they were sent.
        data = {**data, "answers": original.get("answers")}
        errors = entry_rule_errors(data, allow_missing=access.may_transcribe_paper_forms())
        if errors:
            raise ValidationError(errors)


EARLIEST_TAKEN_AT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=5)


def entry_rule_errors(data: dict, allow_missing: bool) -> dict:
    """What a well-typed entry body breaks of its instrument's rules and of time."""
    errors: dict = {}
    instrument = INSTRUMENTS.get(data.get("instrument"))
    answers = data.get("answers")
    well_typed = isinstance(answers, list) and all(
        answer is None or type(answer) is int for answer in answers
    )  # otherwise the field itself has reported the bad types
    if instrument is not None and well_typed:
        try:
            score(instrument, answers, allow_missing=allow_missing)
        except ScoringError as error:
            errors.update(error.errors)
        if data.get("difficulty") is not None and instrument.difficulty is None:
            errors["difficulty"] = [f"{instrument.name} has no difficulty question."]
    taken_at = data.get("taken_at")
    if taken_at is not None:
        if taken_at > datetime.now(UTC) + FUTURE_TOLERANCE:
            errors["taken_at"] = ["Must not be more than 5 minutes in the future."]
        elif taken_at < EARLIEST_TAKEN_AT:
            errors["taken_at"] = ["Must not be before 2000-01-01."]
    return errors


class EnteredBy(Schema):
    id = fields.String(required=True)
    role = fields.String(required=True)


class EntryOut(Schema):
    id = fields.String(required=True)
    patient_id = fields.String(required=True)
    instrument = fields.String(required=True)
    answers = fields.List(fields.Integer(allow_none=True), required=True)
    difficulty = fields.Integer(allow_none=True, required=True)
    taken_at = UTCTime(required=True)
    context = fields.String(required=True)
    session_id = fields.String(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)
    total = fields.Method("_total", required=True, metadata={"type": "number"})
    severity = fields.String(required=True)
    flags = fields.List(fields.String(), required=True)
    prorated = fields.Method("_prorated", required=True, metadata={"type": "boolean"})
    imputed_items = fields.List(fields.Integer(), required=True)
    received_at = UTCTime(required=True)
    entered_by = fields.Nested(EnteredBy, required=True)
    voided = fields.Boolean(required=True)
    void_reason = fields.String(allow_none=True, required=True)
    voided_at = UTCTime(allow_none=True, required=True)

    def _total(self, entry) -> int | float:
        total = entry.total
        return int(total) if float(total).is_integer() else total

    def _prorated(self, entry) -> bool:
        return bool(entry.imputed_items)


class EntryQuery(ListQuery):
    instrument = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    since = UTCTime()
    until = UTCTime()


class VoidIn(StrictSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


# ---------------------------------------------------------------- health


class HealthOut(Schema):
    status = fields.String(required=True)


def utc(value: datetime) -> str:
    """Format a datetime the way every answer does: UTC, seconds, Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
