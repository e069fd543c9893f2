"""Reminder settings, and the sending pass: what is due now, claimed once, sent by web push.

A pass (send_due) reads what it needs for every patient with a push subscription in a fixed
number of queries (patients with their settings, the outcome snapshots' last check-ins, the
sessions around now and the entries linked to them), asks domain/reminders.py what is due,
then claims each reminder by inserting its row in reminder_delivery: the unique key lets one
sender in, whatever number run at once. Only the sender that inserted a claim sends it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..data.extensions import db
from ..data.models import (
    Entry,
    OutcomeSnapshot,
    Patient,
    PushSubscription,
    ReminderDelivery,
    ReminderSettings,
    TreatmentSession,
    new_id,
    utcnow,
)
from ..domain import reminders, schedule
from ..domain.errors import Invalid
from ..domain.instruments import INSTRUMENTS
from ..domain.outcomes import POST_SESSION_WINDOW
from . import audit, push

log = logging.getLogger("server.reminders")

# A claim's sender has this long to send it before another sender may take it over.
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_BACKOFF = timedelta(hours=1)
# Claims are inserted in batches of this many rows (SQLite's limit on bound variables).
INSERT_BATCH = 500
# Reminders are claimed, sent and recorded this many at a time, so that a claim is always
# recorded well within its lease, however slow the push services (8 at once, 10 s each).
CLAIM_BATCH = 200


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class SettingsView:
    """A patient's settings as the API shows them, and how many browsers they reach."""

    enabled: bool
    time_of_day: str
    quiet_start: str | None
    quiet_end: str | None
    pre_session_hours: int
    post_session_next_day: bool
    devices: int


def _settings_of(row: ReminderSettings | None) -> reminders.Settings:
    if row is None:
        return reminders.DEFAULTS
    return reminders.Settings(
        enabled=row.enabled,
        time_of_day=row.time_of_day,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        pre_session_hours=row.pre_session_hours,
        post_session_next_day=row.post_session_next_day,
    )


def _view(patient: Patient, settings: reminders.Settings) -> SettingsView:
    return SettingsView(**asdict(settings), devices=push.count_for(patient))


def settings_of(patient: Patient) -> SettingsView:
    """The patient's reminder settings (the defaults until set); a clinician's read is
    audited."""
    view = _view(patient, _settings_of(db.session.get(ReminderSettings, patient.id)))
    audit.clinician_read("reminders.read", patient)
    return view


def replace_settings(patient: Patient, body: dict) -> SettingsView:
    """Replace the patient's reminder settings (committed)."""
    if (body["quiet_start"] is None) != (body["quiet_end"] is None):
        raise Invalid(
            fields={
                "quiet_end" if body["quiet_end"] is None else "quiet_start": [
                    "Give both ends of the quiet hours, or neither (no quiet hours)."
                ]
            }
        )
    if body["quiet_start"] is not None and body["quiet_start"] == body["quiet_end"]:
        raise Invalid(fields={"quiet_end": ["Must differ from quiet_start (null for none)."]})
    # One row per patient, written whether or not it exists yet: its primary key decides
    # between two writes at once (the later one wins, as a PUT should).
    values = {**body, "updated_at": utcnow()}
    db.session.execute(
        _dialect()
        .insert(ReminderSettings)
        .values(patient_id=patient.id, **values)
        .on_conflict_do_update(index_elements=["patient_id"], set_=values)
    )
    audit.record("reminders.update", patient=patient, detail=body)
    db.session.commit()
    return _view(patient, reminders.Settings(**body))


# ---------------------------------------------------------------- what is due


def sessions_for_reminders(patient_ids, now: datetime):
    """The treatment sessions reminders look at: planned ones up to 48 hours ahead (the
    pre-session reminder) and those of the last week (the morning after); never a cancelled
    one (nothing to prepare for, nothing to report on)."""
    return db.session.execute(
        select(TreatmentSession.id, TreatmentSession.patient_id, TreatmentSession.started_at).where(
            TreatmentSession.patient_id.in_(patient_ids),
            TreatmentSession.cancelled_at.is_(None),
            TreatmentSession.started_at > now - POST_SESSION_WINDOW - timedelta(days=1),
            TreatmentSession.started_at <= now + timedelta(hours=reminders.PRE_SESSION_HOURS_MAX),
        )
    ).all()


@dataclass(frozen=True)
class Due:
    """A reminder due now for one patient."""

    patient_id: str
    reminder: reminders.Reminder

    @property
    def claim_key(self) -> tuple[str, str, str]:
        return (self.patient_id, self.reminder.kind, self.reminder.due_key)


def due_now(now: datetime) -> list[Due]:
    """Every reminder due at `now`, claimed or not, for patients with a push subscription."""
    subscribed = (
        select(Patient.id)
        .where(
            Patient.active.is_(True),
            exists().where(PushSubscription.patient_id == Patient.id),
        )
        .outerjoin(ReminderSettings, ReminderSettings.patient_id == Patient.id)
        .where(or_(ReminderSettings.enabled.is_(None), ReminderSettings.enabled.is_(True)))
    )
    patients = db.session.execute(
        select(
            Patient.id,
            Patient.timezone,
            Patient.schedule,
            Patient.created_at,
            *ReminderSettings.__table__.columns,
        )
        .outerjoin(ReminderSettings, ReminderSettings.patient_id == Patient.id)
        .where(Patient.id.in_(subscribed))
    ).all()
    if not patients:
        return []
    ids = subscribed.scalar_subquery()
    last_taken: dict[str, dict[str, datetime]] = defaultdict(dict)
    for patient_id, instrument, taken_at in db.session.execute(
        select(
            OutcomeSnapshot.patient_id, OutcomeSnapshot.instrument, OutcomeSnapshot.last_taken_at
        ).where(OutcomeSnapshot.patient_id.in_(ids), OutcomeSnapshot.last_taken_at.is_not(None))
    ):
        last_taken[patient_id][instrument] = taken_at
    near = sessions_for_reminders(ids, now)
    linked = defaultdict(set)
    if near:
        for session_id, context in db.session.execute(
            select(Entry.session_id, Entry.context)
            .where(
                Entry.session_id.in_([s.id for s in near]),
                Entry.context.in_(("pre_session", "post_session")),
                Entry.voided.is_(False),
            )
            .distinct()
        ):
            linked[session_id].add(context)
    sessions = defaultdict(list)
    for row in near:
        sessions[row.patient_id].append(
            reminders.Session(
                row.id,
                row.started_at,
                "pre_session" in linked[row.id],
                "post_session" in linked[row.id],
            )
        )

    found = []
    for patient in patients:
        settings = (
            reminders.DEFAULTS
            if patient.enabled is None
            else reminders.Settings(
                enabled=patient.enabled,
                time_of_day=patient.time_of_day,
                quiet_start=patient.quiet_start,
                quiet_end=patient.quiet_end,
                pre_session_hours=patient.pre_session_hours,
                post_session_next_day=patient.post_session_next_day,
            )
        )
        routine = [
            item
            for item in schedule.due_items(
                patient.schedule,
                now=now,
                timezone=patient.timezone,
                start=patient.created_at,
                last_taken=last_taken.get(patient.id, {}),
                sessions=[],
                sessions_with_pre_entry=set(),
            )
            if item.overdue and item.instrument in INSTRUMENTS
        ]
        patient_sessions = sessions.get(patient.id, [])
        if not routine and not patient_sessions:
            continue  # most patients, most minutes: nothing to work out
        plan = schedule.effective(patient.schedule)
        for reminder in reminders.due_reminders(
            now,
            settings,
            patient.timezone,
            routine=routine,
            sessions=patient_sessions,
            pre_session_checkin=bool(plan.get("pre_session")),
        ):
            found.append(Due(patient.id, reminder))
    return found


# ---------------------------------------------------------------- claims


def _dialect():
    """The dialect module whose insert() has ON CONFLICT (both databases we run on do)."""
    return postgresql if db.engine.dialect.name == "postgresql" else sqlite


def _insert_ignoring_conflicts(rows: list[dict]) -> list[tuple[str, str, str, str]]:
    """Insert claims; the ones this call inserted come back (a conflict: another has it)."""
    dialect = _dialect()
    won = []
    for start in range(0, len(rows), INSERT_BATCH):
        statement = (
            dialect.insert(ReminderDelivery)
            .values(rows[start : start + INSERT_BATCH])
            .on_conflict_do_nothing(index_elements=["patient_id", "kind", "due_key"])
            .returning(
                ReminderDelivery.id,
                ReminderDelivery.patient_id,
                ReminderDelivery.kind,
                ReminderDelivery.due_key,
            )
        )
        won.extend(tuple(row) for row in db.session.execute(statement))
    return won


def claims_of(due: list[Due]) -> dict:
    """The claims already made for these reminders, by claim key (committed: the read ends
    before any write, which on SQLite must begin its transaction to wait for the other
    writer). Only a shortcut: whether a claim is new is decided by its insert."""
    existing = {}
    patient_ids = sorted({item.patient_id for item in due})
    for start in range(0, len(patient_ids), INSERT_BATCH):
        for row in db.session.execute(
            select(
                ReminderDelivery.id,
                ReminderDelivery.patient_id,
                ReminderDelivery.kind,
                ReminderDelivery.due_key,
                ReminderDelivery.status,
                ReminderDelivery.attempts,
                ReminderDelivery.next_attempt_at,
            ).where(ReminderDelivery.patient_id.in_(patient_ids[start : start + INSERT_BATCH]))
        ):
            existing[(row.patient_id, row.kind, row.due_key)] = row
    db.session.commit()
    return existing


def claim(due: list[Due], now: datetime) -> list[tuple[str, Due, int]]:
    """Take the reminders this sender will send (committed): (claim id, reminder, attempts
    so far). New ones by inserting their claim; ones whose send failed and is due to be
    retried, or whose sender died, by an update that only one sender's WHERE still matches."""
    by_key = {item.claim_key: item for item in due}
    existing = claims_of(due)
    lease = now + CLAIM_LEASE
    fresh = [
        {
            "id": new_id(),
            "patient_id": item.patient_id,
            "kind": item.reminder.kind,
            "due_key": item.reminder.due_key,
            "due_at": item.reminder.due_at,
            "claimed_at": now,
            "status": "sending",
            "attempts": 0,
            "next_attempt_at": lease,
        }
        for key, item in by_key.items()
        if key not in existing
    ]
    taken = [
        (claim_id, by_key[(p, k, d)], 0) for claim_id, p, k, d in _insert_ignoring_conflicts(fresh)
    ]
    for key, row in existing.items():
        if key not in by_key or row.status not in ("sending", "retry"):
            continue
        if row.next_attempt_at is None or row.next_attempt_at > now:
            continue
        result = db.session.execute(
            update(ReminderDelivery)
            .where(
                ReminderDelivery.id == row.id,
                ReminderDelivery.status == row.status,
                ReminderDelivery.attempts == row.attempts,
                ReminderDelivery.next_attempt_at <= now,
            )
            .values(status="sending", claimed_at=now, next_attempt_at=lease)
        )
        if result.rowcount == 1:
            taken.append((row.id, by_key[key], row.attempts))
    db.session.commit()
    return taken


def backoff(attempts: int, retry_after: int | None = None) -> timedelta:
    """1, 2, 4, 8 minutes after the 1st, 2nd, 3rd, 4th failure (at most an hour); longer if
    the push service asked for it (Retry-After)."""
    delay = timedelta(minutes=2 ** (attempts - 1))
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return min(delay, MAX_BACKOFF)


# ---------------------------------------------------------------- sending


@dataclass
class PassResult:
    """What one pass did."""

    due: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    subscriptions_removed: int = 0
    errors: list[str] = field(default_factory=list)


def send_due(now: datetime | None = None, sender: push.Sender | None = None) -> PassResult:
    """Send every reminder due at `now` (default: the current time) that this sender claims."""
    now = now or utcnow()
    result = PassResult()
    due = due_now(now)
    db.session.commit()  # end the reading transaction: claims are decided on fresh data
    result.due = len(due)
    if not due:
        return result
    own_sender = sender is None
    sender = sender or push.sender()
    try:
        for start in range(0, len(due), CLAIM_BATCH):
            taken = claim(due[start : start + CLAIM_BATCH], now)
            if taken:
                _send(taken, sender, now, result)
    finally:
        if own_sender:
            sender.close()
    return result


def _send(taken, sender: push.Sender, now: datetime, result: PassResult) -> None:
    """Send the claimed reminders to every browser of their patients, and record how it went
    (committed): 404/410 forgets that browser's subscription."""
    targets = defaultdict(list)
    for row in db.session.execute(
        select(
            PushSubscription.id,
            PushSubscription.patient_id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
        ).where(PushSubscription.patient_id.in_({item.patient_id for _, item, _ in taken}))
    ):
        targets[row.patient_id].append(push.Target(row.id, row.endpoint, row.p256dh, row.auth))
    db.session.commit()  # no transaction stays open while the push services answer

    jobs = [
        (claim_id, item, target)
        for claim_id, item, _attempts in taken
        for target in targets.get(item.patient_id, [])
    ]
    with ThreadPoolExecutor(max_workers=current_app.config["PUSH_WORKERS"]) as pool:
        outcomes = list(
            pool.map(
                lambda job: sender.send(
                    job[2], job[1].reminder.payload, job[1].reminder.ttl_seconds
                ),
                jobs,
            )
        )
    per_claim = defaultdict(list)
    for (claim_id, _item, _target), outcome in zip(jobs, outcomes, strict=True):
        per_claim[claim_id].append(outcome)
    gone = [o.target.id for results in per_claim.values() for o in results if o.gone]
    if gone:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        result.subscriptions_removed += len(gone)
    for claim_id, item, attempts in taken:
        _record(claim_id, item, attempts + 1, per_claim.get(claim_id, []), now, result)
    db.session.commit()


def _record(claim_id, item: Due, attempts: int, outcomes, now: datetime, result: PassResult):
    """The claim's state after this attempt: sent when any of the patient's browsers got it."""
    errors = [o.error for o in outcomes if o.error]
    values = {"attempts": attempts, "last_error": "; ".join(errors)[:300] or None}
    what = f"{item.reminder.kind} reminder {item.reminder.due_key} of patient {item.patient_id}"
    if any(o.delivered for o in outcomes):
        values.update(status="sent", sent_at=now, next_attempt_at=None)
        result.sent += 1
    elif any(o.retry for o in outcomes) and attempts < MAX_ATTEMPTS:
        retry_after = max((o.retry_after or 0 for o in outcomes), default=0)
        values.update(status="retry", next_attempt_at=now + backoff(attempts, retry_after))
        result.retrying += 1
        log.warning("%s not delivered (attempt %d), retrying: %s", what, attempts, errors)
    else:
        values.update(status="failed", next_attempt_at=None)
        result.failed += 1
        log.warning("%s not delivered, given up: %s", what, errors or ["no subscription"])
    result.errors.extend(errors)
    db.session.execute(
        update(ReminderDelivery).where(ReminderDelivery.id == claim_id).values(**values)
    )
