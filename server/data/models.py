"""Database models. Constraints that protect clinical data live in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain import safety, treatment
from ..domain.vocabularies import SIDE_EFFECTS
from .extensions import db


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are never stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


class Clinic(db.Model):
    __tablename__ = "clinic"
    __table_args__ = (
        CheckConstraint("flag_overdue_hours BETWEEN 1 AND 168", name="flag_overdue_hours_in_range"),
        # A crisis line is a name and a number to call, or nothing (a text number is optional).
        CheckConstraint(
            "(crisis_line_name IS NULL) = (crisis_line_phone IS NULL) "
            "AND (crisis_line_sms IS NULL OR crisis_line_phone IS NOT NULL)",
            name="crisis_line_whole",
        ),
        CheckConstraint(
            "bp_before_dosing_systolic BETWEEN 50 AND 260 "
            "AND bp_before_dosing_diastolic BETWEEN 20 AND 160 "
            "AND bp_before_dosing_systolic > bp_before_dosing_diastolic "
            "AND bp_any_time_systolic BETWEEN 50 AND 260 "
            "AND bp_any_time_diastolic BETWEEN 20 AND 160 "
            "AND bp_any_time_systolic > bp_any_time_diastolic",
            name="bp_thresholds_in_range",
        ),
    )

    id: Mapped[str] = _id_column()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # MADRS remission cut-off: 12 (esketamine trials) or 10 (KetECT), scales.md.
    madrs_remission_max: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    # An open flag older than this is shown as overdue everywhere.
    flag_overdue_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # The crisis resources a patient sees at once when a safety item is positive; every
    # number is dialled from the PWA. None: not set (patients cannot be added until the
    # crisis line and the clinic's phone are).
    crisis_emergency_number: Mapped[str | None] = mapped_column(String(32))
    crisis_line_name: Mapped[str | None] = mapped_column(String(100))
    crisis_line_phone: Mapped[str | None] = mapped_column(String(32))
    crisis_line_sms: Mapped[str | None] = mapped_column(String(32))
    crisis_clinic_phone: Mapped[str | None] = mapped_column(String(32))
    crisis_clinic_hours: Mapped[str | None] = mapped_column(String(200))
    crisis_message: Mapped[str | None] = mapped_column(Text)
    # Clinicians who have a passkey must sign in with it (a password alone is refused).
    require_passkey_for_clinicians: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # A blood pressure reading above these is marked raised on the monitoring record: the
    # first pair before dosing, the second at any time (treatment.DEFAULT_THRESHOLDS).
    bp_before_dosing_systolic: Mapped[int] = mapped_column(
        Integer, default=140, server_default="140"
    )
    bp_before_dosing_diastolic: Mapped[int] = mapped_column(
        Integer, default=90, server_default="90"
    )
    bp_any_time_systolic: Mapped[int] = mapped_column(Integer, default=180, server_default="180")
    bp_any_time_diastolic: Mapped[int] = mapped_column(Integer, default=110, server_default="110")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def crisis(self) -> dict:
        """The crisis resources as the API shows them: every key present, unset ones null."""
        line = None
        if self.crisis_line_phone is not None:
            line = {
                "name": self.crisis_line_name,
                "phone": self.crisis_line_phone,
                "sms": self.crisis_line_sms,
            }
        return {
            "emergency_number": self.crisis_emergency_number,
            "crisis_line": line,
            "clinic_phone": self.crisis_clinic_phone,
            "clinic_hours": self.crisis_clinic_hours,
            "message": self.crisis_message,
        }

    @crisis.setter
    def crisis(self, crisis: dict) -> None:
        line = crisis.get("crisis_line") or {}
        self.crisis_emergency_number = crisis.get("emergency_number")
        self.crisis_line_name = line.get("name")
        self.crisis_line_phone = line.get("phone")
        self.crisis_line_sms = line.get("sms")
        self.crisis_clinic_phone = crisis.get("clinic_phone")
        self.crisis_clinic_hours = crisis.get("clinic_hours")
        self.crisis_message = crisis.get("message")

    @property
    def bp_thresholds(self) -> treatment.BloodPressureThresholds:
        """Above which a blood pressure reading is marked raised, before dosing and always."""
        return treatment.BloodPressureThresholds(
            before_dosing=treatment.Pressure(
                self.bp_before_dosing_systolic, self.bp_before_dosing_diastolic
            ),
            any_time=treatment.Pressure(self.bp_any_time_systolic, self.bp_any_time_diastolic),
        )

    @property
    def blood_pressure_thresholds(self) -> dict:
        """The thresholds as the API shows them."""
        limits = self.bp_thresholds
        return {
            "before_dosing": {
                "systolic": limits.before_dosing.systolic,
                "diastolic": limits.before_dosing.diastolic,
            },
            "any_time": {
                "systolic": limits.any_time.systolic,
                "diastolic": limits.any_time.diastolic,
            },
        }

    @blood_pressure_thresholds.setter
    def blood_pressure_thresholds(self, limits: dict) -> None:
        self.bp_before_dosing_systolic = limits["before_dosing"]["systolic"]
        self.bp_before_dosing_diastolic = limits["before_dosing"]["diastolic"]
        self.bp_any_time_systolic = limits["any_time"]["systolic"]
        self.bp_any_time_diastolic = limits["any_time"]["diastolic"]

    @property
    def crisis_ready(self) -> bool:
        """A patient in crisis has a line to call and their clinic's number."""
        return self.crisis_line_phone is not None and self.crisis_clinic_phone is not None


class Patient(db.Model):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("clinic_id", "external_id"),)

    id: Mapped[str] = _id_column()
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinic.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    # None means the default schedule (schedule.py); otherwise the clinician's choice.
    schedule: Mapped[dict | None] = mapped_column(JSON)
    # Deactivated by a clinician: no sign-in, no enrollment, no new codes (kept in step with
    # the account's `active`; the record and its data stay).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clinic: Mapped[Clinic] = relationship()
    account: Mapped[User | None] = relationship(back_populates="patient", uselist=False)

    @property
    def enrolled(self) -> bool:
        return self.account is not None


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('clinician', 'patient')", name="role"),
        CheckConstraint(
            "(role = 'patient') = (patient_id IS NOT NULL)", name="patient_account_has_patient"
        ),
    )

    id: Mapped[str] = _id_column()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str] = mapped_column(String(200))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinic.id"), index=True)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patient.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clinic: Mapped[Clinic] = relationship()
    patient: Mapped[Patient | None] = relationship(back_populates="account")
    passkeys: Mapped[list[Passkey]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def passkey_needed(self) -> bool:
        """The clinic requires a passkey of its clinicians and this one has none yet."""
        return (
            self.is_clinician and self.clinic.require_passkey_for_clinicians and not self.passkeys
        )

    @property
    def is_clinician(self) -> bool:
        return self.role == "clinician"

    @property
    def is_patient(self) -> bool:
        return self.role == "patient"


class EnrollmentCode(db.Model):
    """A single-use code, stored only as a hash: it lets a patient create their account
    (purpose "enroll"), or someone who has one set a new password (purpose "reset")."""

    __tablename__ = "enrollment_code"
    __table_args__ = (
        CheckConstraint("purpose IN ('enroll', 'reset')", name="purpose"),
        CheckConstraint(
            "(purpose = 'enroll' AND patient_id IS NOT NULL AND user_id IS NULL) "
            "OR (purpose = 'reset' AND user_id IS NOT NULL)",
            name="purpose_names_whom",
        ),
    )

    id: Mapped[str] = _id_column()
    purpose: Mapped[str] = mapped_column(String(16), default="enroll", server_default="enroll")
    # Enrollment: the patient record the account will belong to. Reset: the account's patient
    # record, if it is a patient's (for the audit); the account itself is user_id.
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patient.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A clinician's bearer token for scripts. Only a hash of the secret is stored."""

    __tablename__ = "api_token"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "read" limits the token to GET; "write" may also change clinical data (never administer).
    scope: Mapped[str] = mapped_column(String(8), default="write", server_default="write")

    user: Mapped[User] = relationship()


class Passkey(db.Model):
    """A WebAuthn credential (a passkey) its user signs in with instead of a password."""

    __tablename__ = "passkey"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # base64url of the authenticator's credential id (at most 1023 bytes by the spec).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key, as registered
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)  # a uint32
    transports: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="passkeys")


class PasskeyChallenge(db.Model):
    """A challenge handed out for one WebAuthn ceremony: single-use, and short-lived."""

    __tablename__ = "passkey_challenge"
    __table_args__ = (CheckConstraint("purpose IN ('register', 'login')", name="purpose"),)

    id: Mapped[str] = _id_column()
    challenge: Mapped[str] = mapped_column(String(128), unique=True)  # base64url
    purpose: Mapped[str] = mapped_column(String(16))
    # Whose registration it is; None for a sign-in (the passkey says who).
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuthSession(db.Model):
    """A signed-in browser: the cookie holds a random secret, only its hash is stored.

    The row decides: a session ended (sign-out, password change, deactivation), past its
    absolute expiry or idle too long no longer signs anyone in, whatever the cookie says.
    """

    __tablename__ = "auth_session"

    id: Mapped[str] = _id_column()
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most once a minute, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class FailedAttempt(db.Model):
    """One failed attempt (sign-in, enrollment code) counted toward a limit, shared by every
    worker; used when no shared rate-limit storage (Redis) is configured."""

    __tablename__ = "failed_attempt"
    __table_args__ = (Index("ix_failed_attempt_counter_at", "counter", "at"),)

    id: Mapped[str] = _id_column()
    # What is counted and under which key, e.g. "login-account:alice@example.org".
    counter: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TreatmentSession(db.Model):
    __tablename__ = "treatment_session"
    __table_args__ = (
        CheckConstraint(
            "treatment IN ('ketamine_iv', 'ketamine_im', 'esketamine_nasal', 'other')",
            name="treatment",
        ),
        CheckConstraint(
            "(cancelled_at IS NULL) = (cancelled_by_id IS NULL)", name="cancelled_by_someone"
        ),
        # The panel's session counts and sessions near today, read from the index alone.
        Index("ix_treatment_session_patient_started", "patient_id", "started_at", "cancelled_at"),
    )

    id: Mapped[str] = _id_column()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    treatment: Mapped[str] = mapped_column(String(32))
    dose_mg: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    # Who recorded it: kept as a plain id, since exports and imports carry sessions between
    # installations where that person may have no account (likewise entered_by, resolved_by).
    created_by_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Cancelled: kept, marked, and left out of linking and the outcome rules.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[str | None] = mapped_column(String(36))

    monitoring: Mapped[SessionMonitoring | None] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    # Loaded with the sessions (one query for a whole list): every session answer shows them.
    reports: Mapped[list[SessionReport]] = relationship(
        order_by="(SessionReport.taken_at, SessionReport.id)", lazy="selectin", viewonly=True
    )

    @property
    def status(self) -> str:
        return treatment.session_status(self.started_at, self.cancelled_at, utcnow())

    @property
    def monitoring_recorded(self) -> bool:
        return self.monitoring is not None


class SessionMonitoring(db.Model):
    """What was watched after a dose, as the clinic's monitoring form records it (one per
    session, replaced whole on each save)."""

    __tablename__ = "session_monitoring"
    __table_args__ = (
        CheckConstraint(
            "sedation IN ('none', 'mild', 'moderate', 'severe')", name="sedation_level"
        ),
        CheckConstraint(
            "dissociation IN ('none', 'mild', 'moderate', 'severe')", name="dissociation_level"
        ),
        CheckConstraint(
            "monitoring_minutes BETWEEN 0 AND 1440", name="monitoring_minutes_in_range"
        ),
        CheckConstraint(
            "ready_to_leave_minutes BETWEEN 0 AND 1440", name="ready_to_leave_minutes_in_range"
        ),
    )

    session_id: Mapped[str] = mapped_column(ForeignKey("treatment_session.id"), primary_key=True)
    sedation: Mapped[str] = mapped_column(String(16))
    dissociation: Mapped[str] = mapped_column(String(16))
    respiratory_depression: Mapped[bool] = mapped_column(Boolean)
    adverse_events: Mapped[list] = mapped_column(JSON)
    monitoring_minutes: Mapped[int | None] = mapped_column(Integer)
    ready_to_leave_minutes: Mapped[int | None] = mapped_column(Integer)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    # Who recorded it, with their name as it was then: the printed sheet names them, and an
    # export carries the record to installations where they have no account.
    recorded_by_id: Mapped[str] = mapped_column(String(36))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[TreatmentSession] = relationship(back_populates="monitoring")
    vitals: Mapped[list[VitalSigns]] = relationship(
        cascade="all, delete-orphan",
        order_by="(VitalSigns.at, VitalSigns.position)",
    )


class VitalSigns(db.Model):
    """One set of readings during a session's monitoring: blood pressure, pulse, SpO2."""

    __tablename__ = "vital_signs"
    __table_args__ = (
        CheckConstraint("systolic BETWEEN 50 AND 260", name="systolic_in_range"),
        CheckConstraint("diastolic BETWEEN 20 AND 160", name="diastolic_in_range"),
        CheckConstraint("systolic > diastolic", name="systolic_above_diastolic"),
        CheckConstraint("heart_rate BETWEEN 20 AND 250", name="heart_rate_in_range"),
        CheckConstraint("spo2 BETWEEN 50 AND 100", name="spo2_in_range"),
    )

    id: Mapped[str] = _id_column()
    session_id: Mapped[str] = mapped_column(ForeignKey("session_monitoring.session_id"), index=True)
    # The order the form listed the readings in, for readings taken at the same minute.
    position: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    systolic: Mapped[int] = mapped_column(Integer)
    diastolic: Mapped[int] = mapped_column(Integer)
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    spo2: Mapped[int | None] = mapped_column(Integer)


class SessionReport(db.Model):
    """The patient's own after-session report: side effects 0–3 and a note. Never changed.

    The id is the client's, so that an outbox can replay it safely (as entries do).
    """

    __tablename__ = "session_report"
    __table_args__ = tuple(
        CheckConstraint(f"{name} BETWEEN 0 AND 3", name=f"{name}_in_range") for name in SIDE_EFFECTS
    ) + (Index("ix_session_report_session_taken", "session_id", "taken_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("treatment_session.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # One column per side effect of vocabularies.SIDE_EFFECTS: 0 none, 1 mild, 2 moderate,
    # 3 severe.
    nausea: Mapped[int] = mapped_column(Integer)
    dizziness: Mapped[int] = mapped_column(Integer)
    dissociation: Mapped[int] = mapped_column(Integer)
    headache: Mapped[int] = mapped_column(Integer)
    drowsiness: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the request as the client sent it, to tell a replay from a conflict.
    request_hash: Mapped[str] = mapped_column(String(64))

    @property
    def side_effects(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in SIDE_EFFECTS}


class Entry(db.Model):
    """One completed questionnaire. Never deleted; voided with a reason instead."""

    __tablename__ = "entry"
    __table_args__ = (
        CheckConstraint(
            "context IN ('baseline', 'pre_session', 'post_session', 'routine')", name="context"
        ),
        Index("ix_entry_patient_taken", "patient_id", "taken_at", "id"),
        # The outcome snapshot's reads: the earliest or latest entry of an instrument.
        Index("ix_entry_patient_instrument_taken", "patient_id", "instrument", "taken_at"),
    )

    # Chosen by the client, so that an offline queue can replay safely: the primary key
    # is what decides, under concurrency, that a replay is not stored twice.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    instrument: Mapped[str] = mapped_column(String(16))
    answers: Mapped[list] = mapped_column(JSON)
    difficulty: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    context: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[str | None] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    # True when the client named the session; False when the server linked it by time.
    session_explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    total: Mapped[float] = mapped_column(Float)
    severity: Mapped[str | None] = mapped_column(String(32))  # None: no bands (mood_now)
    flags: Mapped[list] = mapped_column(JSON)
    imputed_items: Mapped[list] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[str] = mapped_column(String(36))
    entered_by_role: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the request as the client sent it, to tell a replay from a conflict.
    request_hash: Mapped[str] = mapped_column(String(64))
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[str | None] = mapped_column(String(36))

    @property
    def entered_by(self) -> dict:
        return {"id": self.entered_by_id, "role": self.entered_by_role}


class BaselineChoice(db.Model):
    """A clinician's explicit choice of baseline entry for one patient and instrument."""

    __tablename__ = "baseline_choice"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(16), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entry.id"))
    set_by_id: Mapped[str] = mapped_column(String(36))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutcomeSnapshot(db.Model):
    """The panel's copy of outcomes.headline() per patient and instrument.

    Derived data, rewritten in the same transaction as every change it depends on (entries,
    voids, sessions, baseline choices, the MADRS cut-off) by the session hook in snapshots.py,
    so that the panel reads one row per patient.
    """

    __tablename__ = "outcome_snapshot"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(16), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinic.id"), index=True)
    entry_count: Mapped[int] = mapped_column(Integer)
    baseline_entry_id: Mapped[str | None] = mapped_column(String(36))
    baseline_rule: Mapped[int | None] = mapped_column(Integer)
    baseline_total: Mapped[float | None] = mapped_column(Float)
    baseline_severity: Mapped[str | None] = mapped_column(String(32))
    baseline_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latest_entry_id: Mapped[str | None] = mapped_column(String(36))
    latest_total: Mapped[float | None] = mapped_column(Float)
    latest_severity: Mapped[str | None] = mapped_column(String(32))
    latest_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest entry of any context (post-session too): the schedule and "last check-in".
    last_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change: Mapped[float | None] = mapped_column(Float)
    percent_change: Mapped[float | None] = mapped_column(Float)
    response: Mapped[bool | None] = mapped_column(Boolean)
    remission: Mapped[bool | None] = mapped_column(Boolean)
    reliable_change: Mapped[str | None] = mapped_column(String(16))
    # The last RECENT_SCORES entries (any context), oldest first, as [{"taken_at", "total"}]:
    # the panel's trend sparkline, read with the row (no query of entries per patient).
    recent: Mapped[list | None] = mapped_column(JSON)


class Flag(db.Model):
    """A safety flag: opened by a positive safety item, resolved by a clinician, never deleted.

    One flag per check-in: a signal sent while the patient was answering and the finished
    entry (whose id is the check-in's id) meet on it, whichever arrives first; the unique
    constraint on (patient_id, checkin_id, kind) decides that race.
    """

    __tablename__ = "flag"
    __table_args__ = (
        UniqueConstraint("entry_id", "kind"),
        UniqueConstraint("patient_id", "checkin_id", "kind"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint("entry_id IS NULL OR entry_id = checkin_id", name="entry_is_the_checkin"),
        Index("ix_flag_status_opened", "status", "opened_at"),
    )

    id: Mapped[str] = _id_column()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    # The id the check-in's entry has or will have: a signal names it before it exists.
    checkin_id: Mapped[str] = mapped_column(String(36))
    # None until that entry arrives; a signal whose check-in is abandoned keeps it None.
    entry_id: Mapped[str | None] = mapped_column(ForeignKey("entry.id"))
    kind: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolved_by_id: Mapped[str | None] = mapped_column(String(36))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[Entry | None] = relationship()
    patient: Mapped[Patient] = relationship()
    signals: Mapped[list[SafetySignal]] = relationship(
        back_populates="flag", order_by="(SafetySignal.received_at, SafetySignal.id)"
    )
    # No foreign key: an imported flag may name a resolver who has no account here.
    resolver: Mapped[User | None] = relationship(
        primaryjoin="foreign(Flag.resolved_by_id) == User.id", viewonly=True
    )

    @property
    def resolved_by(self) -> dict | None:
        """Who resolved the flag; their name only if they are of the patient's clinic."""
        if self.resolved_by_id is None:
            return None
        resolver = self.resolver
        if resolver is not None and resolver.clinic_id != self.patient.clinic_id:
            resolver = None  # an imported id of someone elsewhere: never show their name
        return {
            "id": self.resolved_by_id,
            "display_name": resolver.display_name if resolver is not None else None,
        }

    @property
    def signal(self) -> SafetySignal | None:
        """The check-in's strongest signal, if one was sent."""
        return safety.strongest(self.signals)

    @property
    def raised_by(self) -> dict | None:
        """The answer that raised the flag, in words (safety.raised_by)."""
        return safety.raised_by(self.entry, self.signal)

    @property
    def age_hours(self) -> float | None:
        """Hours since it was opened, while it is open."""
        if self.status != "open":
            return None
        return safety.hours(datetime.now(UTC) - self.opened_at)

    @property
    def hours_to_resolve(self) -> float | None:
        """Hours from opened to resolved, once resolved."""
        if self.resolved_at is None:
            return None
        return safety.hours(self.resolved_at - self.opened_at)

    @property
    def overdue(self) -> bool:
        """Open for longer than the clinic allows (its flag_overdue_hours)."""
        return self.status == "open" and safety.is_overdue(
            self.opened_at, datetime.now(UTC), self.patient.clinic.flag_overdue_hours
        )


class SafetySignal(db.Model):
    """A positive safety answer, sent the moment it was given, before the check-in is done.

    The id is the client's, so that an outbox can replay it safely; it opens (or joins) the
    flag of its check-in, and never changes afterwards.
    """

    __tablename__ = "safety_signal"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    checkin_id: Mapped[str] = mapped_column(String(36))
    instrument: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(32))
    answer: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the request as the client sent it, to tell a replay from a conflict.
    request_hash: Mapped[str] = mapped_column(String(64))
    flag_id: Mapped[str] = mapped_column(ForeignKey("flag.id"), index=True)

    flag: Mapped[Flag] = relationship(back_populates="signals")


class AuditEvent(db.Model):
    """Who did what to which patient's data. Only ever inserted."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_clinic_at", "clinic_id", "at"),)

    id: Mapped[str] = _id_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    clinic_id: Mapped[str | None] = mapped_column(ForeignKey("clinic.id"))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patient.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class VapidKey(db.Model):
    """The server's VAPID key pair (RFC 8292) when VAPID_PRIVATE_KEY gives none: made once by
    whichever process asks first (the primary key decides a race), then used by every one."""

    __tablename__ = "vapid_key"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)  # "default"
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(db.Model):
    """A browser's push subscription (PushSubscription.toJSON()), owned by one patient.

    One row per endpoint: on a shared phone, the patient who signed in last owns it.
    """

    __tablename__ = "push_subscription"

    id: Mapped[str] = _id_column()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # base64url, 65 bytes decoded
    auth: Mapped[str] = mapped_column(String(32))  # base64url, 16 bytes decoded
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderSettings(db.Model):
    """A patient's reminder settings; no row means the defaults (domain/reminders.py)."""

    __tablename__ = "reminder_settings"
    __table_args__ = (
        CheckConstraint("pre_session_hours BETWEEN 0 AND 48", name="pre_session_hours_in_range"),
        CheckConstraint("(quiet_start IS NULL) = (quiet_end IS NULL)", name="quiet_hours_whole"),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Local times of the patient, "HH:MM".
    time_of_day: Mapped[str] = mapped_column(String(5))
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    pre_session_hours: Mapped[int] = mapped_column(Integer)
    post_session_next_day: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderDelivery(db.Model):
    """The claim on one reminder: the sender whose insert made this row sends it.

    The unique (patient_id, kind, due_key) decides between senders running at once, so a due
    item is reminded once whatever their number. `next_attempt_at` is a sending claim's lease
    (another sender takes over a claim whose sender died) or when a failed send is retried.
    """

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "due_key"),
        CheckConstraint("kind IN ('checkin', 'pre_session', 'post_session')", name="kind"),
        CheckConstraint("status IN ('sending', 'retry', 'sent', 'failed')", name="status"),
    )

    id: Mapped[str] = _id_column()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # What was due: "phq9@2026-03-08T12:00:00Z" (a check-in), "<session id>@<its start>".
    due_key: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
