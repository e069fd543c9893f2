"""Restore a tidemark.export document into a clinic: validated whole, written whole or not at all.

Every id is kept. A record that already exists in the clinic is left as it is, so importing the
same document twice changes nothing; an id that belongs to another clinic or another patient
refuses the whole document.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)
from sqlalchemy import insert, select

from ..api.schemas import (
    Id,
    MonitoringIn,
    ScheduleSchema,
    SideEffectsIn,
    StrictBoolean,
    StrictNumber,
    StrictSchema,
    Text,
    Timezone,
    UTCTime,
    VitalSignsIn,
)
from ..data.extensions import db
from ..data.models import (
    BaselineChoice,
    Entry,
    Flag,
    Patient,
    SafetySignal,
    SessionMonitoring,
    SessionReport,
    TreatmentSession,
    User,
    VitalSigns,
    utcnow,
)
from ..domain import outcomes
from ..domain.errors import Invalid
from ..domain.instruments import INSTRUMENTS, ScoringError, score
from ..domain.safety import SIGNAL_INSTRUMENTS, SIGNAL_ITEMS, signal_errors
from ..domain.treatment import (
    ADVERSE_EVENTS,
    CANCELLED,
    SESSION_STATUSES,
    discharge_time_errors,
    reading_time_errors,
)
from ..domain.vocabularies import CONTEXTS, TREATMENTS
from . import audit, exports, reports, safety
from .entries import request_hash


class ImportedPatient(StrictSchema):
    id = Id(required=True)
    display_name = Text(required=True, validate=validate.Length(min=1, max=200))
    external_id = fields.String(allow_none=True, required=True, validate=validate.Length(max=100))
    timezone = Timezone(required=True)
    created_at = UTCTime(required=True)


class ImportedBaseline(StrictSchema):
    instrument = fields.String(required=True, validate=validate.OneOf(sorted(INSTRUMENTS)))
    entry_id = Id(required=True)
    set_at = UTCTime(required=True)


class ImportedReport(StrictSchema):
    id = Id(required=True)
    patient_id = Id(required=True)
    session_id = Id(required=True)
    taken_at = UTCTime(required=True)
    side_effects = fields.Nested(SideEffectsIn, required=True)
    note = fields.String(allow_none=True, required=True, validate=validate.Length(max=2000))
    received_at = UTCTime(required=True)


class ImportedVitalSigns(VitalSignsIn):
    # Recomputed with the importing clinic's thresholds, never taken from the document.
    raised = StrictBoolean(load_default=None)


class ImportedRecorder(StrictSchema):
    id = Id(required=True)
    display_name = Text(required=True, validate=validate.Length(min=1, max=200))


class ImportedMonitoring(MonitoringIn):
    vitals = fields.List(
        fields.Nested(ImportedVitalSigns), required=True, validate=validate.Length(max=200)
    )
    recorded_by = fields.Nested(ImportedRecorder, required=True)
    recorded_at = UTCTime(required=True)
    updated_at = UTCTime(allow_none=True, required=True)
    thresholds = fields.Dict(load_default=None)  # the exporting clinic's: for readers only


# A document exported before sessions could be cancelled or monitored has none of these.
class ImportedSession(StrictSchema):
    id = Id(required=True)
    patient_id = Id(required=True)
    started_at = UTCTime(required=True)
    treatment = fields.String(required=True, validate=validate.OneOf(TREATMENTS))
    dose_mg = StrictNumber(allow_none=True, required=True, validate=validate.Range(0, 10000))
    notes = fields.String(allow_none=True, required=True, validate=validate.Length(max=2000))
    created_at = UTCTime(required=True)
    updated_at = UTCTime(allow_none=True, required=True)
    status = fields.String(load_default=None, validate=validate.OneOf(SESSION_STATUSES))
    cancelled_at = UTCTime(allow_none=True, load_default=None)
    cancelled_by_id = Id(allow_none=True, load_default=None)
    monitoring_recorded = StrictBoolean(load_default=None)
    monitoring = fields.Nested(ImportedMonitoring, allow_none=True, load_default=None)

    @validates_schema(skip_on_field_errors=True)
    def _says_what_happened_once(self, data, **kwargs):
        errors: dict = {}
        cancelled = data["cancelled_at"] is not None
        if cancelled != (data["cancelled_by_id"] is not None):
            errors["cancelled_by_id"] = ["Give it with cancelled_at, or neither."]
        if data["status"] is not None and (data["status"] == CANCELLED) != cancelled:
            errors["status"] = ["Must be cancelled exactly when cancelled_at is given."]
        record = data["monitoring"]
        if record is not None and cancelled:
            errors["monitoring"] = ["A cancelled session has no monitoring record."]
        recorded = data["monitoring_recorded"]
        if recorded is not None and recorded != (record is not None):
            errors["monitoring_recorded"] = ["Must say whether the monitoring record is here."]
        if record is not None and not errors:
            errors = _monitoring_time_errors(record, data["started_at"])
        if errors:
            raise ValidationError(errors)

    @post_load
    def _derived_left_out(self, data, **kwargs):
        data.pop("status")
        data.pop("monitoring_recorded")
        return data

    # A document exported before after-session reports has none.
    reports = fields.List(fields.Nested(ImportedReport), load_default=list)

    @validates_schema(skip_on_field_errors=True)
    def _reports_are_about_it(self, data, **kwargs):
        errors = {}
        for index, report in enumerate(data["reports"]):
            problems = {}
            if report["session_id"] != data["id"]:
                problems["session_id"] = ["Must be the id of the session it is listed on."]
            if report["patient_id"] != data["patient_id"]:
                problems["patient_id"] = ["Must be the session's patient."]
            if report["taken_at"] < data["started_at"]:
                problems["taken_at"] = ["A report is made after its session started."]
            if problems:
                errors[index] = problems
        if errors:
            raise ValidationError({"reports": errors})


def _monitoring_time_errors(record: dict, started_at) -> dict:
    """The checks the API makes of reading and discharge times, for a record in a document."""
    now = datetime.now(UTC)
    problems: dict = {}
    for index, reading in enumerate(record["vitals"]):
        wrong = reading_time_errors(reading["at"], started_at, now)
        if wrong:
            problems.setdefault("vitals", {})[index] = {"at": wrong}
    if record.get("discharged_at") is not None:
        wrong = discharge_time_errors(record["discharged_at"], started_at, now)
        if wrong:
            problems["discharged_at"] = wrong
    return {"monitoring": problems} if problems else {}


class ImportedActor(StrictSchema):
    id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(["clinician", "patient"]))


class ImportedEntry(StrictSchema):
    id = Id(required=True)
    patient_id = Id(required=True)
    instrument = fields.String(required=True, validate=validate.OneOf(sorted(INSTRUMENTS)))
    answers = fields.List(fields.Integer(strict=True, allow_none=True), required=True)
    difficulty = fields.Integer(
        strict=True, allow_none=True, required=True, validate=validate.Range(0, 3)
    )
    taken_at = UTCTime(required=True)
    context = fields.String(required=True, validate=validate.OneOf(CONTEXTS))
    session_id = Id(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True, validate=validate.Length(max=2000))
    total = StrictNumber(required=True)
    severity = fields.String(allow_none=True, required=True)  # null: no bands (mood_now)
    flags = fields.List(fields.String(), required=True)
    prorated = StrictBoolean(required=True)
    imputed_items = fields.List(fields.Integer(strict=True), required=True)
    received_at = UTCTime(required=True)
    entered_by = fields.Nested(ImportedActor, required=True)
    voided = StrictBoolean(required=True)
    void_reason = fields.String(allow_none=True, required=True, validate=validate.Length(max=2000))
    voided_at = UTCTime(allow_none=True, required=True)

    @validates_schema(skip_on_field_errors=True)
    def _scores_as_we_do(self, data, **kwargs):
        """Scores are recomputed: a document whose totals disagree with ours is refused."""
        instrument = INSTRUMENTS[data["instrument"]]
        try:
            scored = score(
                instrument,
                data["answers"],
                allow_missing=data["entered_by"]["role"] == "clinician",
            )
        except ScoringError as error:
            raise ValidationError(error.errors) from None
        if abs(float(scored.total) - float(data["total"])) > 1e-9:
            raise ValidationError({"total": [f"The answers add up to {scored.total}."]})
        if scored.severity != data["severity"]:
            raise ValidationError({"severity": [f"The total is in band {scored.severity!r}."]})
        if sorted(scored.flags) != sorted(data["flags"]):
            raise ValidationError({"flags": [f"The answers raise {list(scored.flags)}."]})
        if data["difficulty"] is not None and instrument.difficulty is None:
            raise ValidationError({"difficulty": [f"{instrument.name} has none."]})


class ImportedSignal(StrictSchema):
    id = Id(required=True)
    checkin_id = Id(required=True)
    instrument = fields.String(required=True, validate=validate.OneOf(SIGNAL_INSTRUMENTS))
    item = fields.String(required=True, validate=validate.OneOf(SIGNAL_ITEMS))
    answer = fields.Integer(strict=True, required=True)
    answered_at = UTCTime(required=True)
    received_at = UTCTime(required=True)

    @validates_schema(skip_on_field_errors=True)
    def _is_a_positive_safety_answer(self, data, **kwargs):
        errors = signal_errors(data["instrument"], data["item"], data["answer"])
        if errors:
            raise ValidationError(errors)


class ImportedFlag(StrictSchema):
    id = Id(required=True)
    # A document exported before safety signals has neither: such a flag is its entry's.
    checkin_id = Id(load_default=None)
    entry_id = Id(allow_none=True, required=True)
    signal = fields.Nested(ImportedSignal, allow_none=True, load_default=None)
    kind = fields.String(required=True, validate=validate.OneOf(["self_harm"]))
    opened_at = UTCTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["open", "resolved"]))
    resolved_by_id = Id(allow_none=True, required=True)
    resolved_at = UTCTime(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True, validate=validate.Length(max=2000))

    @validates_schema(skip_on_field_errors=True)
    def _belongs_to_its_check_in(self, data, **kwargs):
        entry_id, checkin_id, signal = data["entry_id"], data["checkin_id"], data["signal"]
        errors = {}
        if entry_id is None and checkin_id is None:
            errors["checkin_id"] = ["Required for a flag without an entry."]
        elif entry_id is not None and checkin_id not in (None, entry_id):
            errors["checkin_id"] = ["Must be the id of the flag's entry."]
        if entry_id is None and signal is None:
            errors["signal"] = ["A flag without an entry needs the signal that opened it."]
        elif signal is not None and signal["checkin_id"] != (checkin_id or entry_id):
            errors["signal"] = {"checkin_id": ["Must be the flag's check-in."]}
        if errors:
            raise ValidationError(errors)

    @post_load
    def _its_entrys_check_in(self, data, **kwargs):
        if data["checkin_id"] is None:
            data["checkin_id"] = data["entry_id"]
        return data


class ImportedBlock(StrictSchema):
    patient = fields.Nested(ImportedPatient, required=True)
    schedule = fields.Nested(ScheduleSchema, required=True)
    baselines = fields.List(fields.Nested(ImportedBaseline), required=True)
    sessions = fields.List(fields.Nested(ImportedSession), required=True)
    entries = fields.List(fields.Nested(ImportedEntry), required=True)
    flags = fields.List(fields.Nested(ImportedFlag), required=True)

    @validates_schema(skip_on_field_errors=True)
    def _hangs_together(self, data, **kwargs):
        patient_id = data["patient"]["id"]
        sessions = {s["id"] for s in data["sessions"]}
        cancelled = {s["id"] for s in data["sessions"] if s["cancelled_at"] is not None}
        entries = {e["id"]: e for e in data["entries"]}
        errors: dict = {}
        for index, session in enumerate(data["sessions"]):
            if session["patient_id"] != patient_id:
                errors.setdefault("sessions", {})[index] = {"patient_id": ["Not this patient."]}
        for index, entry in enumerate(data["entries"]):
            problems = {}
            if entry["patient_id"] != patient_id:
                problems["patient_id"] = ["Not this patient."]
            if entry["session_id"] is not None and entry["session_id"] not in sessions:
                problems["session_id"] = ["No such session in this patient's block."]
            elif entry["session_id"] in cancelled:
                problems["session_id"] = ["This session was cancelled."]
            if problems:
                errors.setdefault("entries", {})[index] = problems
        for index, flag in enumerate(data["flags"]):
            if flag["entry_id"] is not None and flag["entry_id"] not in entries:
                errors.setdefault("flags", {})[index] = {"entry_id": ["No such entry here."]}
        for index, choice in enumerate(data["baselines"]):
            chosen = entries.get(choice["entry_id"])
            if chosen is None or chosen["instrument"] != choice["instrument"]:
                errors.setdefault("baselines", {})[index] = {
                    "entry_id": ["No such entry of that instrument here."]
                }
        if errors:
            raise ValidationError(errors)


class InstrumentReference(Schema):
    """The definitions travel for readers; an import checks only which ones and which version."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    version = fields.String(required=True)


class ImportDocument(StrictSchema):
    format = fields.String(required=True, validate=validate.Equal(exports.FORMAT))
    version = fields.Integer(strict=True, required=True, validate=validate.Equal(exports.VERSION))
    exported_at = UTCTime(required=True)
    clinic = fields.Dict(required=True)
    instruments = fields.List(fields.Nested(InstrumentReference), required=True)
    patients = fields.List(fields.Nested(ImportedBlock), required=True)

    @validates_schema(skip_on_field_errors=True)
    def _same_instruments(self, data, **kwargs):
        versions = {i["id"]: i["version"] for i in data["instruments"]}
        for instrument_id, version in versions.items():
            ours = INSTRUMENTS.get(instrument_id)
            if ours is None or ours.version != version:
                raise ValidationError(
                    {"instruments": [f"Unknown instrument or version: {instrument_id} {version}."]}
                )


def _duplicates(document: dict) -> dict:
    counts = Counter()
    for block in document["patients"]:
        counts.update([("patient", block["patient"]["id"])])
        counts.update(("session", s["id"]) for s in block["sessions"])
        counts.update(("entry", e["id"]) for e in block["entries"])
        counts.update(("report", r["id"]) for s in block["sessions"] for r in s["reports"])
        counts.update(("flag", f["id"]) for f in block["flags"])
        counts.update(("signal", f["signal"]["id"]) for f in block["flags"] if f["signal"])
        # One flag per check-in and kind, as the database has it.
        counts.update(
            ("flag of check-in", f"{f['checkin_id']} ({f['kind']})") for f in block["flags"]
        )
    counts.update(
        ("external id", b["patient"]["external_id"])
        for b in document["patients"]
        if b["patient"]["external_id"]
    )
    repeated = sorted(f"{kind} {identifier}" for (kind, identifier), n in counts.items() if n > 1)
    return {"patients": [f"Ids appear more than once: {', '.join(repeated)}."]} if repeated else {}


def _conflicts(document: dict, clinic_id: str) -> dict:
    """Ids that exist here already but belong to another clinic or another patient."""
    errors = []
    blocks = document["patients"]
    patient_ids = [b["patient"]["id"] for b in blocks]
    existing_patients = dict(
        db.session.execute(
            select(Patient.id, Patient.clinic_id).where(Patient.id.in_(patient_ids))
        ).all()
    )
    for patient_id, owner in existing_patients.items():
        if owner != clinic_id:
            errors.append(f"Patient {patient_id} belongs to another clinic.")
    owner_of = {}
    for block in blocks:
        for kind, rows in (("session", block["sessions"]), ("entry", block["entries"])):
            for row in rows:
                owner_of[(kind, row["id"])] = block["patient"]["id"]
    for model, kind in ((TreatmentSession, "session"), (Entry, "entry")):
        ids = [identifier for (k, identifier) in owner_of if k == kind]
        for chunk in range(0, len(ids), 500):
            for identifier, patient_id in db.session.execute(
                select(model.id, model.patient_id).where(model.id.in_(ids[chunk : chunk + 500]))
            ):
                if owner_of[(kind, identifier)] != patient_id:
                    errors.append(f"The {kind} {identifier} belongs to another patient.")
    flag_owner = {f["id"]: b["patient"]["id"] for b in blocks for f in b["flags"]}
    signal_owner = {
        f["signal"]["id"]: b["patient"]["id"] for b in blocks for f in b["flags"] if f["signal"]
    }
    report_owner = {
        r["id"]: b["patient"]["id"] for b in blocks for s in b["sessions"] for r in s["reports"]
    }
    for model, kind, owners in (
        (Flag, "flag", flag_owner),
        (SafetySignal, "signal", signal_owner),
        (SessionReport, "report", report_owner),
    ):
        ids = list(owners)
        for chunk in range(0, len(ids), 500):
            for identifier, patient_id in db.session.execute(
                select(model.id, model.patient_id).where(model.id.in_(ids[chunk : chunk + 500]))
            ):
                if owners[identifier] != patient_id:
                    errors.append(f"The {kind} {identifier} belongs to another patient.")
    external = {
        b["patient"]["external_id"]: b["patient"]["id"]
        for b in blocks
        if b["patient"]["external_id"]
    }
    if external:
        for external_id, patient_id in db.session.execute(
            select(Patient.external_id, Patient.id).where(
                Patient.clinic_id == clinic_id, Patient.external_id.in_(list(external))
            )
        ):
            if external[external_id] != patient_id:
                errors.append(f"External id {external_id} is another patient's here.")
    return {"patients": errors} if errors else {}


def _misattributed(document: dict, admin: User) -> dict:
    """Resolvers and authors the admin may not name: an import never speaks for others.

    A new entry's author, a new flag's resolver, and whoever cancelled a new session or recorded
    its monitoring must be the importing admin, or nobody who
    has an account here (a person of the installation the document comes from, shown without
    a name); a patient's own entry may also name that patient's own account. Naming a
    colleague, or anyone of another clinic, refuses the document. Records already here are
    left as they are, so re-importing the same document stays possible.
    """
    blocks = document["patients"]
    entry_ids = [e["id"] for b in blocks for e in b["entries"]]
    flag_ids = [f["id"] for b in blocks for f in b["flags"]]
    named = {e["entered_by"]["id"] for b in blocks for e in b["entries"]}
    named |= {f["resolved_by_id"] for b in blocks for f in b["flags"] if f["resolved_by_id"]}
    sessions = [s for b in blocks for s in b["sessions"]]
    named |= {s["cancelled_by_id"] for s in sessions if s["cancelled_by_id"]}
    named |= {s["monitoring"]["recorded_by"]["id"] for s in sessions if s["monitoring"]}
    existing_entries = _existing(Entry.id, entry_ids)
    existing_flags = _existing(Flag.id, flag_ids)
    existing_sessions = _existing(TreatmentSession.id, [s["id"] for s in sessions])
    # Every named person who has an account here, and whose patient account it is (if any).
    account_of = dict(
        db.session.execute(select(User.id, User.patient_id).where(User.id.in_(sorted(named)))).all()
    )

    def may_name(user_id: str, patient_id: str | None = None) -> bool:
        if user_id == admin.id or user_id not in account_of:
            return True
        return patient_id is not None and account_of[user_id] == patient_id

    errors: dict = {}
    for index, block in enumerate(blocks):
        patient_id = block["patient"]["id"]
        problems: dict = {}
        for position, entry in enumerate(block["entries"]):
            author = entry["entered_by"]
            own = patient_id if author["role"] == "patient" else None
            if entry["id"] not in existing_entries and not may_name(author["id"], own):
                problems.setdefault("entries", {})[position] = {
                    "entered_by": {"id": [NOT_YOURS_TO_NAME]}
                }
        for position, flag in enumerate(block["flags"]):
            resolver = flag["resolved_by_id"]
            if resolver and flag["id"] not in existing_flags and not may_name(resolver):
                problems.setdefault("flags", {})[position] = {"resolved_by_id": [NOT_YOURS_TO_NAME]}
        for position, session in enumerate(block["sessions"]):
            if session["id"] in existing_sessions:
                continue
            wrong: dict = {}
            if session["cancelled_by_id"] and not may_name(session["cancelled_by_id"]):
                wrong["cancelled_by_id"] = [NOT_YOURS_TO_NAME]
            record = session["monitoring"]
            if record and not may_name(record["recorded_by"]["id"]):
                wrong["monitoring"] = {"recorded_by": {"id": [NOT_YOURS_TO_NAME]}}
            if wrong:
                problems.setdefault("sessions", {})[position] = wrong
        if problems:
            errors[index] = problems
    return {"patients": errors} if errors else {}


NOT_YOURS_TO_NAME = (
    "An import may name only you, or people without an account here (a patient's own "
    "entry: that patient); never a colleague or someone of another clinic."
)


def _existing(column, ids: list[str]) -> set[str]:
    found = set()
    for chunk in range(0, len(ids), 500):
        found.update(db.session.scalars(select(column).where(column.in_(ids[chunk : chunk + 500]))))
    return found


def restore(raw: dict, admin: User) -> dict:
    """Validate the whole document, then add what is not here yet; returns counts created."""
    try:
        document = ImportDocument().load(raw)
    except ValidationError as error:
        raise _refused(error.normalized_messages()) from None
    problems = (
        _duplicates(document)
        or _conflicts(document, admin.clinic_id)
        or _misattributed(document, admin)
    )
    if problems:
        raise _refused(problems)

    created = Counter()
    for block in document["patients"]:
        patient_id = block["patient"]["id"]
        patient = db.session.get(Patient, patient_id)
        if patient is None:
            db.session.add(
                Patient(clinic_id=admin.clinic_id, schedule=block["schedule"], **block["patient"])
            )
            created["patients"] += 1
        _add_sessions(block, admin, created)
        db.session.flush()
        _add_reports(block, created)
        _add_entries(block, created)
        db.session.flush()
        _add_flags(block, created)
        for choice in block["baselines"]:
            if db.session.get(BaselineChoice, (patient_id, choice["instrument"])) is None:
                db.session.add(BaselineChoice(patient_id=patient_id, set_by_id=admin.id, **choice))
        db.session.flush()
    counts = {
        name: created[name] for name in ("patients", "entries", "sessions", "flags", "reports")
    }
    audit.record(
        "import",
        actor=admin,
        detail={
            **counts,
            "exported_at": raw.get("exported_at"),
            "patient_ids": [block["patient"]["id"] for block in document["patients"]],
        },
    )
    db.session.commit()
    return counts


def _refused(problems: dict) -> Invalid:
    # Nothing has been written yet; the rollback ends the transaction the checks read in.
    db.session.rollback()
    return Invalid("Nothing was imported.", fields=problems)


def _add_sessions(block, admin, created) -> None:
    ids = [s["id"] for s in block["sessions"]]
    existing = set(
        db.session.scalars(select(TreatmentSession.id).where(TreatmentSession.id.in_(ids)))
    )
    for session in block["sessions"]:
        if session["id"] not in existing:
            columns = {
                name: value
                for name, value in session.items()
                if name not in ("reports", "monitoring")
            }
            added = TreatmentSession(created_by_id=admin.id, **columns)
            if session["monitoring"] is not None:
                added.monitoring = _monitoring_of(session["monitoring"])
            db.session.add(added)
            created["sessions"] += 1


def _monitoring_of(record: dict) -> SessionMonitoring:
    """A new session's monitoring record as the document has it, its recorder kept."""
    return SessionMonitoring(
        sedation=record["sedation"],
        dissociation=record["dissociation"],
        respiratory_depression=record["respiratory_depression"],
        adverse_events=[e for e in ADVERSE_EVENTS if e in record["adverse_events"]],
        monitoring_minutes=record.get("monitoring_minutes"),
        ready_to_leave_minutes=record.get("ready_to_leave_minutes"),
        discharged_at=record.get("discharged_at"),
        notes=record.get("notes"),
        recorded_by_id=record["recorded_by"]["id"],
        recorded_by_name=record["recorded_by"]["display_name"],
        recorded_at=record["recorded_at"],
        updated_at=record["updated_at"],
        vitals=[
            VitalSigns(
                position=position,
                at=reading["at"],
                systolic=reading["systolic"],
                diastolic=reading["diastolic"],
                heart_rate=reading.get("heart_rate"),
                spo2=reading.get("spo2"),
            )
            for position, reading in enumerate(record["vitals"])
        ],
    )


def _add_reports(block, created) -> None:
    """The patient's after-session reports, under their own ids (one already here is kept)."""
    found = [r for s in block["sessions"] for r in s["reports"]]
    existing = _existing(SessionReport.id, [r["id"] for r in found])
    for report in found:
        if report["id"] in existing:
            continue
        db.session.add(
            SessionReport(
                id=report["id"],
                patient_id=report["patient_id"],
                session_id=report["session_id"],
                taken_at=report["taken_at"],
                note=report["note"],
                received_at=report["received_at"],
                request_hash=reports.request_hash(
                    report["patient_id"], report["session_id"], report
                ),
                **report["side_effects"],
            )
        )
        created["reports"] += 1


def _add_entries(block, created) -> None:
    ids = [e["id"] for e in block["entries"]]
    existing = set()
    for chunk in range(0, len(ids), 500):
        existing.update(
            db.session.scalars(select(Entry.id).where(Entry.id.in_(ids[chunk : chunk + 500])))
        )
    session_rows = [
        SimpleNamespace(id=s["id"], started_at=s["started_at"], cancelled_at=s["cancelled_at"])
        for s in block["sessions"]
    ]
    patient = db.session.get(Patient, block["patient"]["id"])
    rows = []
    for entry in block["entries"]:
        if entry["id"] in existing:
            continue
        # A link the windows would have made is the server's; any other was the client's.
        linked = outcomes.link_session(entry["context"], entry["taken_at"], session_rows)
        explicit = entry["session_id"] is not None and entry["session_id"] != linked
        body = {**entry, "session_id": entry["session_id"] if explicit else None}
        rows.append(
            {
                "id": entry["id"],
                "patient_id": entry["patient_id"],
                "instrument": entry["instrument"],
                "answers": entry["answers"],
                "difficulty": entry["difficulty"],
                "taken_at": entry["taken_at"],
                "context": entry["context"],
                "session_id": entry["session_id"],
                "session_explicit": explicit,
                "note": entry["note"],
                "total": entry["total"],
                "severity": entry["severity"],
                "flags": entry["flags"],
                "imputed_items": entry["imputed_items"],
                "received_at": entry["received_at"],
                "entered_by_id": entry["entered_by"]["id"],
                "entered_by_role": entry["entered_by"]["role"],
                "request_hash": request_hash(patient, body),
                "voided": entry["voided"],
                "void_reason": entry["void_reason"],
                "voided_at": entry["voided_at"],
            }
        )
    # One bulk statement (executemany): no object per entry. The snapshot hook sees it.
    if rows:
        db.session.execute(insert(Entry), rows)
    created["entries"] += len(rows)


def _add_flags(block, created) -> None:
    patient_id = block["patient"]["id"]
    patient = db.session.get(Patient, patient_id)
    # A flag is one per check-in and kind: one already here for the check-in counts as it.
    existing = {
        (row.checkin_id, row.kind): row.id
        for row in db.session.execute(
            select(Flag.id, Flag.checkin_id, Flag.kind).where(Flag.patient_id == patient_id)
        )
    }
    signal_ids = [f["signal"]["id"] for f in block["flags"] if f["signal"]]
    known_signals = set(
        db.session.scalars(select(SafetySignal.id).where(SafetySignal.id.in_(signal_ids)))
    )
    for flag in block["flags"]:
        key = (flag["checkin_id"], flag["kind"])
        if key not in existing:
            db.session.add(
                Flag(patient_id=patient_id, **{k: v for k, v in flag.items() if k != "signal"})
            )
            existing[key] = flag["id"]
            created["flags"] += 1
        signal = flag["signal"]
        if signal is not None and signal["id"] not in known_signals:
            db.session.add(
                SafetySignal(
                    patient_id=patient_id,
                    flag_id=existing[key],
                    request_hash=safety.request_hash(patient, signal),
                    **signal,
                )
            )
            known_signals.add(signal["id"])
    # A positive safety item always has a flag: open one where the document brought none.
    for entry in block["entries"]:
        for kind in entry["flags"]:
            if (entry["id"], kind) not in existing:
                db.session.add(
                    Flag(
                        patient_id=patient_id,
                        checkin_id=entry["id"],
                        entry_id=entry["id"],
                        kind=kind,
                        opened_at=utcnow(),
                        status="open",
                    )
                )
                existing[(entry["id"], kind)] = None
                created["flags"] += 1
    db.session.flush()
    # A check-in's entry joins its flag, as it does when it arrives after the signal.
    safety.join_entry(patient_id)
