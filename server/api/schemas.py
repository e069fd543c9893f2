"""Marshmallow schemas: strict on the way in, explicit on the way out."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app, g
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .. import access
from ..domain import push as push_rules
from ..domain.crisis import PHONE_RULE, is_phone_number
from ..domain.instruments import (
    INSTRUMENTS,
    MADRS_REMISSION_CHOICES,
    ScoringError,
    score,
)
from ..domain.reminders import PRE_SESSION_HOURS_MAX
from ..domain.safety import SIGNAL_INSTRUMENTS, SIGNAL_ITEMS, signal_errors
from ..domain.times import utc
from ..domain.treatment import (
    ADVERSE_EVENTS,
    CANCELLED,
    DIASTOLIC_RANGE,
    HEART_RATE_RANGE,
    MINUTES_RANGE,
    SESSION_STATUSES,
    SEVERITY_LEVELS,
    SPO2_RANGE,
    SYSTOLIC_RANGE,
)
from ..domain.vocabularies import (
    CONTEXTS,
    SIDE_EFFECT_LEVELS,
    SORTS,
    TOKEN_SCOPES,
    TREATMENTS,
)

TIMEZONES = frozenset(available_timezones())


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


class PatchSchema(StrictSchema):
    """A PATCH body: every field optional, but an empty body is a mistake, not a no-op."""

    @validates_schema
    def _changes_something(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


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
        try:
            return parsed.astimezone(UTC).replace(microsecond=0)
        except OverflowError:  # e.g. 0001-01-01T00:30:00+01:00 is before year 1 in UTC
            raise ValidationError("Out of range.") from None


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


class Points(fields.Float):
    """A score or a change in points: a whole number unless prorated."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return int(value) if float(value).is_integer() else float(value)


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


class NoBody(StrictSchema):
    """For actions that take no body: none is needed, and any field sent is a 422."""


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


# ---------------------------------------------------------------- crisis resources


class PhoneNumber(fields.String):
    """A number a phone can dial (tel:, sms:): surrounding whitespace removed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update(
            {"pattern": r"^[0-9 +\-()]{2,32}$", "description": PHONE_RULE}
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not is_phone_number(text):
            raise ValidationError(PHONE_RULE)
        return text


class CrisisLineOut(Schema):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    sms = fields.String(allow_none=True, required=True)


class CrisisOut(Schema):
    """What a patient can dial at once when a safety item is positive; unset values are null."""

    emergency_number = fields.String(allow_none=True, required=True)
    crisis_line = fields.Nested(CrisisLineOut, allow_none=True, required=True)
    clinic_phone = fields.String(allow_none=True, required=True)
    clinic_hours = fields.String(allow_none=True, required=True)
    message = fields.String(allow_none=True, required=True)


class CrisisLineIn(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    phone = PhoneNumber(required=True)
    sms = PhoneNumber(allow_none=True, load_default=None)


class CrisisIn(StrictSchema):
    """The clinic's crisis resources, whole: a key left out is unset (null)."""

    emergency_number = PhoneNumber(allow_none=True, load_default=None)
    crisis_line = fields.Nested(CrisisLineIn, allow_none=True, load_default=None)
    clinic_phone = PhoneNumber(allow_none=True, load_default=None)
    clinic_hours = Text(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=200)
    )
    message = Text(allow_none=True, load_default=None, validate=validate.Length(min=1, max=2000))


# ---------------------------------------------------------------- accounts


class ClinicRef(Schema):
    """The signed-in user's clinic, with its crisis resources: the PWA keeps them offline."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    crisis = fields.Nested(CrisisOut, required=True)


class UserOut(Schema):
    id = fields.String(required=True)
    role = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    clinic = fields.Nested(ClinicRef, required=True)
    patient_id = fields.String(allow_none=True, required=True)
    passkey_needed = fields.Boolean(
        required=True,
        metadata={
            "description": "The clinic requires a passkey of its clinicians and this one has "
            "none yet: the app asks them to register one."
        },
    )


class SignedInOut(Schema):
    user = fields.Nested(UserOut, required=True)
    csrf_token = fields.String(required=True)


class LoginIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


PASSWORD = validate.Length(min=10, max=1024, error="Use at least 10 characters (at most 1024).")


class EnrollIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=PASSWORD)
    display_name = Text(validate=validate.Length(min=1, max=200))


class PasswordChangeIn(StrictSchema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=PASSWORD)


class ResetIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    new_password = fields.String(required=True, validate=PASSWORD)


class AuthSessionOut(Schema):
    """A browser signed in to the account; `current` is the one asking."""

    id = fields.String(required=True)
    created_at = UTCTime(required=True)
    last_seen_at = UTCTime(required=True)
    user_agent = fields.String(allow_none=True, required=True)
    current = fields.Method("_current", required=True, metadata={"type": "boolean"})

    def _current(self, row) -> bool:
        return row.id == g.get("auth_session_id")


class TokenIn(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    expires_in_days = fields.Integer(strict=True, required=True, validate=validate.Range(1, 365))
    scope = fields.String(load_default="write", validate=validate.OneOf(TOKEN_SCOPES))


class TokenOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    created_at = UTCTime(required=True)
    expires_at = UTCTime(required=True)
    last_used_at = UTCTime(allow_none=True, required=True)
    scope = fields.String(required=True)
    revoked = fields.Method("_revoked", required=True, metadata={"type": "boolean"})

    def _revoked(self, token) -> bool:
        return token.revoked_at is not None


class NewTokenOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = UTCTime(required=True)
    scope = fields.String(required=True)


# ---------------------------------------------------------------- passkeys

WEBAUTHN_CREDENTIAL = {
    "description": "The PublicKeyCredential the browser returned, as JSON (its toJSON(): id, "
    "rawId, type, response with base64url binary fields)."
}


class PasskeyIn(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    credential = fields.Dict(required=True, metadata=WEBAUTHN_CREDENTIAL)


class PasskeyLoginIn(StrictSchema):
    credential = fields.Dict(required=True, metadata=WEBAUTHN_CREDENTIAL)


class PasskeyOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    created_at = UTCTime(required=True)
    last_used_at = UTCTime(allow_none=True, required=True)


# ---------------------------------------------------------------- patients


class PatientOut(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)
    external_id = fields.String(allow_none=True, required=True)
    timezone = fields.String(required=True)
    enrolled = fields.Boolean(required=True)
    active = fields.Boolean(required=True)
    created_at = UTCTime(required=True)


class PatientIn(StrictSchema):
    display_name = Text(required=True, validate=validate.Length(min=1, max=200))
    external_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    timezone = Timezone()


class PatientPatch(PatchSchema):
    display_name = Text(validate=validate.Length(min=1, max=200))
    external_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    timezone = Timezone()


class EnrollmentOut(Schema):
    """A single-use code to hand on: to enroll, or (an enrolled account) to reset a password."""

    code = fields.String(required=True)
    purpose = fields.String(
        required=True, metadata={"enum": ["enroll", "reset"]}, dump_default="enroll"
    )
    url = fields.String(required=True)
    expires_at = UTCTime(required=True)
    qr_svg = fields.String(
        required=True, metadata={"description": "The link as a QR code (an SVG document)."}
    )


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


class OfferOut(Schema):
    """When the app offers a quick rating around a session."""

    before_hours = fields.Integer(required=True)
    after_min_hours = fields.Integer(required=True)
    after_max_hours = fields.Integer(required=True)


class InstrumentOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.String(required=True)
    kind = fields.String(
        required=True,
        metadata={
            "enum": ["questionnaire", "quick_rating"],
            "description": "quick_rating: one question about right now (mood_now), with no "
            "bands and no outcome rules; never a score of severity.",
        },
    )
    offered = fields.Nested(
        OfferOut,
        allow_none=True,
        required=True,
        metadata={"description": "When the app offers it around a session (quick ratings)."},
    )
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


def answer_time_errors(answered_at: datetime) -> list[str]:
    """When a questionnaire may have been answered: not in the future, not before 2000."""
    if answered_at > datetime.now(UTC) + FUTURE_TOLERANCE:
        return ["Must not be more than 5 minutes in the future."]
    if answered_at < EARLIEST_TAKEN_AT:
        return ["Must not be before 2000-01-01."]
    return []


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
    if taken_at is not None and (time_errors := answer_time_errors(taken_at)):
        errors["taken_at"] = time_errors
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
    total = Points(required=True)
    severity = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The band label; null for a quick rating (no bands)."},
    )
    flags = fields.List(fields.String(), required=True)
    prorated = fields.Method("_prorated", required=True, metadata={"type": "boolean"})
    imputed_items = fields.List(fields.Integer(), required=True)
    received_at = UTCTime(required=True)
    entered_by = fields.Nested(EnteredBy, required=True)
    voided = fields.Boolean(required=True)
    void_reason = fields.String(allow_none=True, required=True)
    voided_at = UTCTime(allow_none=True, required=True)

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


# ---------------------------------------------------------------- treatment sessions


class StrictNumber(fields.Float):
    """A JSON number: not a boolean, not a string."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


LATEST_SESSION_AHEAD = timedelta(days=366)


def _plausible_session_time(value: datetime) -> None:
    if value < EARLIEST_TAKEN_AT:
        raise ValidationError("Must not be before 2000-01-01.")
    if value > datetime.now(UTC) + LATEST_SESSION_AHEAD:
        raise ValidationError("Must not be more than a year ahead.")


class SessionIn(StrictSchema):
    started_at = UTCTime(required=True, validate=_plausible_session_time)
    treatment = fields.String(required=True, validate=validate.OneOf(TREATMENTS))
    dose_mg = StrictNumber(allow_none=True, validate=validate.Range(min=0, max=10000))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))


ONLY_CANCELLED = (
    'Only "cancelled" can be set: planned and done follow from the start time, and a '
    "cancelled session stays cancelled (add a new session instead)."
)


class SessionPatch(PatchSchema):
    started_at = UTCTime(validate=_plausible_session_time)
    treatment = fields.String(validate=validate.OneOf(TREATMENTS))
    dose_mg = StrictNumber(allow_none=True, validate=validate.Range(min=0, max=10000))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    status = fields.String(
        validate=validate.OneOf([CANCELLED], error=ONLY_CANCELLED),
        metadata={
            "description": '"cancelled" cancels the session (once; never undone). Its '
            "entries are linked to other sessions by time, or to none."
        },
    )


class SideEffectsIn(StrictSchema):
    """Each side effect since the session, 0 none, 1 mild, 2 moderate, 3 severe: all five."""

    nausea = fields.Integer(strict=True, required=True, validate=validate.OneOf(SIDE_EFFECT_LEVELS))
    dizziness = fields.Integer(
        strict=True, required=True, validate=validate.OneOf(SIDE_EFFECT_LEVELS)
    )
    dissociation = fields.Integer(
        strict=True, required=True, validate=validate.OneOf(SIDE_EFFECT_LEVELS)
    )
    headache = fields.Integer(
        strict=True, required=True, validate=validate.OneOf(SIDE_EFFECT_LEVELS)
    )
    drowsiness = fields.Integer(
        strict=True, required=True, validate=validate.OneOf(SIDE_EFFECT_LEVELS)
    )


class ReportIn(StrictSchema):
    """The patient's after-session report, stored under the client's id (replayable)."""

    id = Id(required=True)
    taken_at = UTCTime(
        required=True,
        metadata={"description": "Not before the session started; not in the future."},
    )
    side_effects = fields.Nested(SideEffectsIn, required=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema(skip_on_field_errors=False)
    def _answered_in_time(self, data, **kwargs):
        if "taken_at" in data and (time_errors := answer_time_errors(data["taken_at"])):
            raise ValidationError({"taken_at": time_errors})


class SideEffectsOut(Schema):
    nausea = fields.Integer(required=True)
    dizziness = fields.Integer(required=True)
    dissociation = fields.Integer(required=True)
    headache = fields.Integer(required=True)
    drowsiness = fields.Integer(required=True)


class ReportOut(Schema):
    id = fields.String(required=True)
    patient_id = fields.String(required=True)
    session_id = fields.String(required=True)
    taken_at = UTCTime(required=True)
    side_effects = fields.Nested(SideEffectsOut, required=True)
    note = fields.String(allow_none=True, required=True)
    received_at = UTCTime(required=True)


class SessionOut(Schema):
    id = fields.String(required=True)
    patient_id = fields.String(required=True)
    started_at = UTCTime(required=True)
    treatment = fields.String(required=True)
    dose_mg = fields.Float(allow_none=True, required=True)
    notes = fields.String(allow_none=True, required=True)
    created_at = UTCTime(required=True)
    updated_at = UTCTime(allow_none=True, required=True)
    reports = fields.List(
        fields.Nested(ReportOut),
        required=True,
        metadata={"description": "The patient's after-session reports, oldest first."},
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(SESSION_STATUSES),
        metadata={"description": "cancelled; else planned while started_at is ahead; else done"},
    )
    cancelled_at = UTCTime(allow_none=True, required=True)
    cancelled_by_id = fields.String(allow_none=True, required=True)
    monitoring_recorded = fields.Boolean(
        required=True, metadata={"description": "A monitoring record has been saved."}
    )


# ---------------------------------------------------------------- the monitoring record


def _between(limits: tuple[int, int], unit: str) -> validate.Range:
    """A range whose refusal a clinician reads beside the field: "Must be 50 to 260 mmHg."."""
    return validate.Range(*limits, error=f"Must be {{min}} to {{max}} {unit}.")


def _level(**kwargs):
    return fields.String(required=True, validate=validate.OneOf(SEVERITY_LEVELS), **kwargs)


def _minutes(description: str):
    return fields.Integer(
        strict=True,
        allow_none=True,
        validate=_between(MINUTES_RANGE, "minutes"),
        metadata={"description": description},
    )


class VitalSignsIn(StrictSchema):
    at = UTCTime(required=True)
    systolic = fields.Integer(strict=True, required=True, validate=_between(SYSTOLIC_RANGE, "mmHg"))
    diastolic = fields.Integer(
        strict=True, required=True, validate=_between(DIASTOLIC_RANGE, "mmHg")
    )
    heart_rate = fields.Integer(
        strict=True, allow_none=True, validate=_between(HEART_RATE_RANGE, "beats a minute")
    )
    spo2 = fields.Integer(strict=True, allow_none=True, validate=_between(SPO2_RANGE, "%"))

    @validates_schema(skip_on_field_errors=True)
    def _systolic_above_diastolic(self, data, **kwargs):
        if data["systolic"] <= data["diastolic"]:
            raise ValidationError("Must be above the diastolic pressure.", "systolic")


class MonitoringIn(StrictSchema):
    """The whole record: each save replaces the one before."""

    vitals = fields.List(
        fields.Nested(VitalSignsIn), required=True, validate=validate.Length(max=200)
    )
    sedation = _level()
    dissociation = _level()
    respiratory_depression = StrictBoolean(required=True)
    adverse_events = fields.List(
        fields.String(validate=validate.OneOf(ADVERSE_EVENTS)), required=True
    )
    monitoring_minutes = _minutes("How long the patient was monitored after dosing.")
    ready_to_leave_minutes = _minutes("Minutes after dosing until the patient was fit to leave.")
    discharged_at = UTCTime(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema(skip_on_field_errors=True)
    def _each_event_once(self, data, **kwargs):
        if len(set(data["adverse_events"])) != len(data["adverse_events"]):
            raise ValidationError("Name each adverse event once.", "adverse_events")


class VitalSignsOut(Schema):
    at = UTCTime(required=True)
    systolic = fields.Integer(required=True)
    diastolic = fields.Integer(required=True)
    heart_rate = fields.Integer(allow_none=True, required=True)
    spo2 = fields.Integer(allow_none=True, required=True)
    raised = fields.Boolean(
        required=True,
        metadata={"description": "Above the clinic's blood pressure thresholds (never refused)."},
    )


class RecordedBy(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)


class MonitoringOut(Schema):
    vitals = fields.List(fields.Nested(VitalSignsOut), required=True)
    sedation = fields.String(required=True)
    dissociation = fields.String(required=True)
    respiratory_depression = fields.Boolean(required=True)
    adverse_events = fields.List(fields.String(), required=True)
    monitoring_minutes = fields.Integer(allow_none=True, required=True)
    ready_to_leave_minutes = fields.Integer(allow_none=True, required=True)
    discharged_at = UTCTime(allow_none=True, required=True)
    notes = fields.String(allow_none=True, required=True)
    recorded_by = fields.Nested(RecordedBy, required=True)
    recorded_at = UTCTime(required=True)
    updated_at = UTCTime(allow_none=True, required=True)
    thresholds = fields.Nested(
        "BloodPressureThresholdsOut",
        required=True,
        metadata={"description": "The clinic's thresholds the raised marks were judged by."},
    )


# ---------------------------------------------------------------- outcomes


class SummaryQuery(StrictSchema):
    instrument = fields.String(load_default="phq9", validate=validate.OneOf(sorted(INSTRUMENTS)))


class Thresholds(Schema):
    """The outcome rules that apply; all null for a quick rating (it has none)."""

    response_percent = fields.Float(allow_none=True, required=True)
    remission_max = fields.Integer(allow_none=True, required=True)
    min_baseline = fields.Integer(allow_none=True, required=True)
    reliable_change = fields.Integer(allow_none=True, required=True)
    minimal_important_difference = fields.Integer(allow_none=True, required=True)
    recall_days = fields.Integer(required=True)


class DailyPoint(Schema):
    date = fields.Date(required=True)
    mean = fields.Float(required=True)
    n = fields.Integer(required=True)


class WeeklyPoint(Schema):
    week_start = fields.Date(required=True)
    mean = fields.Float(required=True)
    n = fields.Integer(required=True)


class SeriesPoints(fields.List):
    """A series as a list of `point` (DailyPoint or WeeklyPoint), declared so, but written
    directly: a two-year series has hundreds of points, and marshmallow per point was about a
    third of a summary's time. tests/services/test_outcomes.py holds it to the declared
    schema's JSON."""

    def __init__(self, point: type[Schema], key: str, **kwargs):
        super().__init__(fields.Nested(point), **kwargs)
        self.key = key  # the point's date field: "date" or "week_start"

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        key = self.key
        return [
            {key: p[key].isoformat(), "mean": float(p["mean"]), "n": int(p["n"])} for p in value
        ]


class SessionPair(Schema):
    session = fields.Nested(SessionOut, required=True)
    pre = fields.Nested(EntryOut, allow_none=True, required=True)
    post = fields.List(fields.Nested(EntryOut), required=True)
    delta = Points(allow_none=True, required=True)
    overlapping_recall = fields.Boolean(required=True)


class ResolvedBy(Schema):
    id = fields.String(required=True)
    display_name = fields.String(allow_none=True, required=True)


class SignalOut(Schema):
    """A positive safety answer as it arrived, before (or without) its finished check-in."""

    id = fields.String(required=True)
    checkin_id = fields.String(required=True)
    instrument = fields.String(required=True)
    item = fields.String(required=True)
    answer = fields.Integer(required=True)
    answered_at = UTCTime(required=True)
    received_at = UTCTime(required=True)


class RaisedBy(Schema):
    """The answer that raised a flag, in words: from the entry, else from the signal."""

    instrument = fields.String(required=True)
    item = fields.String(required=True)
    item_number = fields.Integer(required=True)
    item_text = fields.String(required=True)
    answer = fields.Integer(allow_none=True, required=True)
    answer_label = fields.String(allow_none=True, required=True)


class FlagOut(Schema):
    id = fields.String(required=True)
    patient = fields.Nested(PatientOut, required=True)
    entry = fields.Nested(
        EntryOut,
        allow_none=True,
        required=True,
        metadata={"description": "The check-in's entry; null until it arrives."},
    )
    signal = fields.Nested(
        SignalOut,
        allow_none=True,
        required=True,
        metadata={"description": "The signal sent while answering (the strongest, if several)."},
    )
    raised_by = fields.Nested(
        RaisedBy,
        allow_none=True,
        required=True,
        metadata={"description": "Null only for an imported flag on an entry without one."},
    )
    kind = fields.String(required=True)
    opened_at = UTCTime(required=True)
    status = fields.String(required=True)
    resolved_by = fields.Nested(ResolvedBy, allow_none=True, required=True)
    resolved_at = UTCTime(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)
    age_hours = fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "Hours since it was opened, one decimal; null once resolved."},
    )
    hours_to_resolve = fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "Hours from opened to resolved, one decimal; null while open."},
    )
    overdue = fields.Boolean(
        required=True,
        metadata={"description": "Open for longer than the clinic's flag_overdue_hours."},
    )


class SummaryOut(Schema):
    instrument = fields.String(required=True)
    baseline = fields.Nested(EntryOut, allow_none=True, required=True)
    baseline_rule = fields.Integer(allow_none=True, required=True)
    latest = fields.Nested(EntryOut, allow_none=True, required=True)
    change = Points(allow_none=True, required=True)
    percent_change = fields.Float(allow_none=True, required=True)
    response = fields.Boolean(allow_none=True, required=True)
    remission = fields.Boolean(allow_none=True, required=True)
    reliable_change = fields.String(allow_none=True, required=True)
    outcome_unavailable = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Why response/remission are null, as in the panel's rows."},
    )
    thresholds = fields.Nested(Thresholds, required=True)
    daily = SeriesPoints(DailyPoint, "date", required=True)
    weekly = SeriesPoints(WeeklyPoint, "week_start", required=True)
    sessions = fields.List(fields.Nested(SessionPair), required=True)
    open_flags = fields.List(fields.Nested(FlagOut), required=True)


class BaselineIn(StrictSchema):
    entry_id = Id(required=True)


class BaselineOut(Schema):
    instrument = fields.String(required=True)
    entry_id = fields.String(allow_none=True, required=True)
    rule = fields.Integer(allow_none=True, required=True)


# ---------------------------------------------------------------- the panel


class PanelScore(Schema):
    total = Points(required=True)
    severity = fields.String(allow_none=True, required=True)
    taken_at = UTCTime(required=True)


class RecentScore(Schema):
    taken_at = fields.String(required=True, metadata={"format": "date-time"})
    total = Points(required=True)


class PanelRowOut(Schema):
    patient = fields.Nested(PatientOut, required=True)
    instrument = fields.String(required=True)
    baseline = fields.Nested(PanelScore, allow_none=True, required=True)
    baseline_rule = fields.Integer(allow_none=True, required=True)
    latest = fields.Nested(PanelScore, allow_none=True, required=True)
    change = Points(allow_none=True, required=True)
    percent_change = fields.Float(allow_none=True, required=True)
    response = fields.Boolean(allow_none=True, required=True)
    remission = fields.Boolean(allow_none=True, required=True)
    reliable_change = fields.String(allow_none=True, required=True)
    outcome_unavailable = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "Why response/remission are null: no_entries, no_follow_up, "
            "baseline_below_minimum, baseline_zero (or not_a_scale for a quick rating)."
        },
    )
    open_flag_count = fields.Integer(required=True)
    oldest_open_flag_at = UTCTime(
        allow_none=True,
        required=True,
        metadata={"description": "When the oldest open flag opened."},
    )
    open_flag_overdue = fields.Boolean(
        required=True,
        metadata={"description": "An open flag is older than the clinic's flag_overdue_hours."},
    )
    last_entry_at = UTCTime(allow_none=True, required=True)
    sessions_count = fields.Integer(required=True)
    overdue = fields.Boolean(required=True)
    next_due_at = UTCTime(allow_none=True, required=True)
    recent_scores = fields.List(
        fields.Nested(RecentScore),
        required=True,
        metadata={
            "description": "The newest 12 entries of the instrument (any context), oldest "
            "first: the panel's trend sparkline."
        },
    )


def panel_row_json(row) -> str:
    """PanelRowOut's JSON text for a panel row, built directly: through marshmallow, a panel
    of a thousand patients would miss its time budget (tests/services/test_panel.py holds the
    two to the same JSON). The trend goes in as the snapshot stores it, never decoded."""
    fields_json = json.dumps(_panel_row_fields(row), separators=(",", ":"))
    return f'{fields_json[:-1]},"recent_scores":{row.recent_scores_json}}}'


def _panel_row_fields(row) -> dict:
    patient = row.patient
    return {
        "patient": {
            "id": patient.id,
            "display_name": patient.display_name,
            "external_id": patient.external_id,
            "timezone": patient.timezone,
            "enrolled": patient.enrolled,
            "active": patient.active,
            "created_at": utc(patient.created_at),
        },
        "instrument": row.instrument,
        "baseline": _panel_score_json(row.baseline),
        "baseline_rule": row.baseline_rule,
        "latest": _panel_score_json(row.latest),
        "change": _points_json(row.change),
        "percent_change": row.percent_change,
        "response": row.response,
        "remission": row.remission,
        "reliable_change": row.reliable_change,
        "outcome_unavailable": row.outcome_unavailable,
        "open_flag_count": row.open_flag_count,
        "oldest_open_flag_at": None
        if row.oldest_open_flag_at is None
        else utc(row.oldest_open_flag_at),
        "open_flag_overdue": row.open_flag_overdue,
        "last_entry_at": None if row.last_entry_at is None else utc(row.last_entry_at),
        "sessions_count": row.sessions_count,
        "overdue": row.overdue,
        "next_due_at": None if row.next_due_at is None else utc(row.next_due_at),
    }


def panel_page_json(page: dict) -> str:
    """PanelList's JSON text for one page of panel rows (see panel_row_json)."""
    items = ",".join(panel_row_json(row) for row in page["items"])
    return f'{{"items":[{items}],"next_cursor":{json.dumps(page["next_cursor"])}}}'


def _panel_score_json(panel_score) -> dict | None:
    if panel_score is None:
        return None
    return {
        "total": _points_json(panel_score.total),
        "severity": panel_score.severity,
        "taken_at": utc(panel_score.taken_at),
    }


def _points_json(value):
    """As Points writes it: a whole number unless prorated."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


class PanelQuery(ListQuery):
    # A quick rating (mood_now) too: its rows have latest only (outcomes null, not_a_scale).
    instrument = fields.String(load_default="phq9", validate=validate.OneOf(sorted(INSTRUMENTS)))
    sort = fields.String(
        load_default="default",
        validate=validate.OneOf(SORTS),
    )
    q = fields.String(validate=validate.Length(min=1, max=200))


# ---------------------------------------------------------------- flags


class FlagQuery(ListQuery):
    status = fields.String(validate=validate.OneOf(["open", "resolved"]))
    patient_id = fields.String(
        validate=validate.Length(max=36), metadata={"description": "Only this patient's flags."}
    )


class ResolveIn(StrictSchema):
    note = Text(required=True, validate=validate.Length(min=1, max=2000))


# ---------------------------------------------------------------- clinic settings


class PressureOut(Schema):
    systolic = fields.Integer(required=True)
    diastolic = fields.Integer(required=True)


class BloodPressureThresholdsOut(Schema):
    before_dosing = fields.Nested(PressureOut, required=True)
    any_time = fields.Nested(PressureOut, required=True)


class PressureIn(StrictSchema):
    systolic = fields.Integer(strict=True, required=True, validate=validate.Range(*SYSTOLIC_RANGE))
    diastolic = fields.Integer(
        strict=True, required=True, validate=validate.Range(*DIASTOLIC_RANGE)
    )

    @validates_schema(skip_on_field_errors=True)
    def _systolic_above_diastolic(self, data, **kwargs):
        if data["systolic"] <= data["diastolic"]:
            raise ValidationError("Must be above the diastolic pressure.", "systolic")


class BloodPressureThresholdsIn(StrictSchema):
    before_dosing = fields.Nested(PressureIn, required=True)
    any_time = fields.Nested(PressureIn, required=True)


class ClinicOut(Schema):
    """The clinic's settings, as its clinicians see them."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    madrs_remission_max = fields.Integer(required=True)
    flag_overdue_hours = fields.Integer(required=True)
    crisis = fields.Nested(CrisisOut, required=True)
    crisis_ready = fields.Boolean(
        required=True,
        metadata={
            "description": "A crisis line and the clinic's phone are set: patients may be added."
        },
    )
    require_passkey_for_clinicians = fields.Boolean(required=True)
    blood_pressure_thresholds = fields.Nested(
        BloodPressureThresholdsOut,
        required=True,
        metadata={
            "description": "A reading above `before_dosing` before the session starts, or "
            "above `any_time` at any time (either pressure above its limit), is marked raised."
        },
    )


class PatientClinicOut(Schema):
    """The clinic as its patients see it: its name and what to dial in a crisis."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    crisis = fields.Nested(CrisisOut, required=True)


class ClinicPatch(PatchSchema):
    name = Text(validate=validate.Length(min=1, max=200))
    timezone = Timezone()
    madrs_remission_max = fields.Integer(
        strict=True, validate=validate.OneOf(MADRS_REMISSION_CHOICES)
    )
    flag_overdue_hours = fields.Integer(strict=True, validate=validate.Range(1, 168))
    crisis = fields.Nested(
        CrisisIn, metadata={"description": "Replaces the crisis resources whole."}
    )
    blood_pressure_thresholds = fields.Nested(
        BloodPressureThresholdsIn,
        metadata={"description": "Replaces both thresholds; readings are never refused."},
    )
    require_passkey_for_clinicians = StrictBoolean(
        metadata={
            "description": "Clinicians who have a passkey must sign in with it (a password "
            "alone answers 403); those with none yet still sign in with their password and "
            "are asked to register one."
        }
    )


# ---------------------------------------------------------------- safety signals


class SafetySignalIn(StrictSchema):
    """A positive safety answer, sent the moment it is given, before the check-in is done."""

    id = Id(required=True)
    checkin_id = Id(required=True, metadata={"description": "The id the finished entry will have."})
    instrument = fields.String(
        required=True,
        validate=validate.OneOf(
            SIGNAL_INSTRUMENTS,
            error="Signals come only from a scale the patient answers that has a safety item: "
            "{choices}.",
        ),
    )
    item = fields.String(
        required=True,
        validate=validate.OneOf(SIGNAL_ITEMS, error="Not a safety item: {input}."),
    )
    answer = fields.Integer(strict=True, required=True)
    answered_at = UTCTime(required=True)

    @validates_schema(skip_on_field_errors=False)
    def _is_a_positive_safety_answer(self, data, **kwargs):
        """The instrument's own rules, checked here so that one 422 names every failing field."""
        errors = {}
        if {"instrument", "item", "answer"} <= set(data):
            errors.update(signal_errors(data["instrument"], data["item"], data["answer"]))
        if "answered_at" in data and (time_errors := answer_time_errors(data["answered_at"])):
            errors["answered_at"] = time_errors
        if errors:
            raise ValidationError(errors)


# ---------------------------------------------------------------- import and audit


class ImportCounts(Schema):
    patients = fields.Integer(required=True)
    entries = fields.Integer(required=True)
    sessions = fields.Integer(required=True)
    flags = fields.Integer(required=True)
    reports = fields.Integer(required=True)


class AuditOut(Schema):
    id = fields.String(required=True)
    at = UTCTime(required=True)
    actor = fields.Method("_actor", allow_none=True, required=True, metadata={"type": "object"})
    action = fields.String(required=True)
    patient_id = fields.String(allow_none=True, required=True)
    patient_name = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The patient's name (null without a patient, or if unknown)."},
    )
    ip = fields.String(allow_none=True, required=True)
    detail = fields.Dict(required=True)

    def _actor(self, event):
        if event.actor_id is None:
            return None
        return {
            "id": event.actor_id,
            "role": event.actor_role,
            "display_name": getattr(event, "actor_name", None),
        }


class AuditQuery(ListQuery):
    patient_id = fields.String(validate=validate.Length(max=36))
    action = fields.String(validate=validate.Length(max=64))
    since = UTCTime()


class ClinicianIn(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = Text(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, validate=PASSWORD)
    is_admin = StrictBoolean(load_default=False)


class ClinicianOut(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    active = fields.Boolean(required=True)
    created_at = UTCTime(required=True)


# ---------------------------------------------------------------- reminders (web push)


class PushKeyOut(Schema):
    public_key = fields.String(
        required=True,
        metadata={"description": "The VAPID application server key (base64url, 65 bytes)."},
    )


class PushKeysIn(StrictSchema):
    p256dh = fields.String(
        required=True, metadata={"description": "base64url of an uncompressed P-256 point"}
    )
    auth = fields.String(required=True, metadata={"description": "base64url of 16 bytes"})

    @validates_schema
    def _keys_decode(self, data, **kwargs):
        errors = {}
        point = push_rules.decode_key(data.get("p256dh", ""), push_rules.P256DH_BYTES)
        if point is None or not _on_p256(point):
            errors["p256dh"] = ["Must be base64url of an uncompressed P-256 public key (65 bytes)."]
        if push_rules.decode_key(data.get("auth", ""), push_rules.AUTH_BYTES) is None:
            errors["auth"] = ["Must be base64url of 16 bytes."]
        if errors:
            raise ValidationError(errors)


def _on_p256(point: bytes) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return point[0] == 4


class PushEndpoint(fields.String):
    """A push service's URL on an allowed host (TIDEMARK_PUSH_HOSTS): never any other."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = push_rules.endpoint_problem(
            text, push_rules.parse_hosts(current_app.config.get("TIDEMARK_PUSH_HOSTS"))
        )
        if problem:
            raise ValidationError(problem)
        return text


class PushSubscriptionIn(StrictSchema):
    """The browser's PushSubscription.toJSON()."""

    endpoint = PushEndpoint(required=True)
    expirationTime = fields.Integer(  # noqa: N815 (the browser's name)
        strict=True, allow_none=True, validate=validate.Range(min=0, max=2**53)
    )
    keys = fields.Nested(PushKeysIn, required=True)


class PushSubscriptionOut(Schema):
    endpoint = fields.String(required=True)
    expires_at = UTCTime(allow_none=True)
    created_at = UTCTime(required=True)


class PushEndpointIn(StrictSchema):
    endpoint = fields.String(required=True, validate=validate.Length(1, 1024))


class LocalClock(fields.String):
    """A local time of day, "HH:MM" (00:00 to 23:59)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("pattern", r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
            raise ValidationError('Must be a time of day as "HH:MM", e.g. "18:00".')
        return text


class ReminderSettingsIn(StrictSchema):
    enabled = StrictBoolean(required=True)
    time_of_day = LocalClock(required=True)
    quiet_start = LocalClock(required=True, allow_none=True)
    quiet_end = LocalClock(required=True, allow_none=True)
    pre_session_hours = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(0, PRE_SESSION_HOURS_MAX),
        metadata={"description": "Hours before a planned session; 0: no reminder."},
    )
    post_session_next_day = StrictBoolean(required=True)


class ReminderSettingsOut(Schema):
    enabled = fields.Boolean(required=True)
    time_of_day = fields.String(required=True)
    quiet_start = fields.String(required=True, allow_none=True)
    quiet_end = fields.String(required=True, allow_none=True)
    pre_session_hours = fields.Integer(required=True)
    post_session_next_day = fields.Boolean(required=True)
    devices = fields.Integer(
        required=True, metadata={"description": "How many browsers the reminders go to."}
    )
