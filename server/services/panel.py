"""The clinician panel, read from outcome snapshots kept in step with every change.

The session hook in data/snapshots.py rewrites a patient's snapshots with the same pure
functions the summary uses (outcomes.headline), in the transaction of every write they depend on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, func, select

from ..data.extensions import db
from ..data.models import (
    Clinic,
    Entry,
    Flag,
    OutcomeSnapshot,
    Patient,
    TreatmentSession,
    User,
)
from ..domain import outcomes, safety, schedule
from ..domain.instruments import INSTRUMENTS
from . import audit
from .pagination import offset_cursor, offset_from_cursor

PANEL_INSTRUMENTS = tuple(INSTRUMENTS)


class Score(NamedTuple):
    """A baseline or latest score, as a panel row shows it."""

    total: float
    severity: str
    taken_at: datetime


@dataclass
class PanelRow:
    """One patient's line of the panel, with the attributes PanelRowOut shows."""

    patient: Any  # a row with the Patient columns the panel shows, and `enrolled`
    instrument: str
    snapshot: Any | None  # a row of outcome_snapshot
    open_flag_count: int
    oldest_open_flag_at: datetime | None
    open_flag_overdue: bool
    last_entry_at: datetime | None
    sessions_count: int
    due: list[schedule.Due]

    @property
    def baseline(self) -> Score | None:
        return self._score("baseline")

    @property
    def latest(self) -> Score | None:
        return self._score("latest")

    def _score(self, prefix: str) -> Score | None:
        snapshot = self.snapshot
        if snapshot is None or getattr(snapshot, f"{prefix}_total") is None:
            return None
        return Score(
            getattr(snapshot, f"{prefix}_total"),
            getattr(snapshot, f"{prefix}_severity"),
            getattr(snapshot, f"{prefix}_taken_at"),
        )

    @property
    def baseline_rule(self) -> int | None:
        return self.snapshot.baseline_rule if self.snapshot else None

    @property
    def change(self) -> float | None:
        return outcomes.round1(self.snapshot.change) if self.snapshot else None

    @property
    def percent_change(self) -> float | None:
        return outcomes.round1(self.snapshot.percent_change) if self.snapshot else None

    @property
    def response(self) -> bool | None:
        return self.snapshot.response if self.snapshot else None

    @property
    def remission(self) -> bool | None:
        return self.snapshot.remission if self.snapshot else None

    @property
    def reliable_change(self) -> str | None:
        return self.snapshot.reliable_change if self.snapshot else None

    @property
    def recent_scores(self) -> list[dict]:
        return json.loads(self.recent_scores_json)

    @property
    def recent_scores_json(self) -> str:
        """The trend as the snapshot stores it, JSON text the panel sends without decoding it
        (written only by snapshots.recent_scores)."""
        return (self.snapshot.recent_json or "[]") if self.snapshot else "[]"

    @property
    def outcome_unavailable(self) -> str | None:
        rules = INSTRUMENTS[self.instrument].outcome
        return outcomes.why_no_outcome(
            self.snapshot,
            self.snapshot.baseline_total if self.snapshot is not None else None,
            rules.min_baseline if rules is not None else None,
            has_outcome_rules=rules is not None,
        )

    @property
    def next_due_at(self) -> datetime | None:
        return min((d.due_at for d in self.due), default=None)

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.due)

    def overdue_by(self, now: datetime) -> timedelta:
        overdue = [now - d.due_at for d in self.due if d.overdue]
        return max(overdue, default=timedelta(0))


def panel_rows(
    clinic_id: str, instrument: str = "phq9", query: str | None = None, sort: str = "default"
) -> list[PanelRow]:
    """One row per patient of the clinic, in a fixed number of queries whatever its size."""
    now = datetime.now(UTC)
    # Plain rows, not ORM objects: the panel reads thousands of them and changes none.
    statement = (
        select(
            Patient.id,
            Patient.display_name,
            Patient.external_id,
            Patient.timezone,
            Patient.schedule,
            Patient.created_at,
            Patient.active,
            User.id.is_not(None).label("enrolled"),
        )
        .outerjoin(User, User.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic_id)
    )
    patients = db.session.execute(statement).all()
    if query:
        # In Python, not SQL LIKE: no wildcards, and case folding beyond ASCII on SQLite too.
        needle = query.casefold()
        patients = [p for p in patients if needle in p.display_name.casefold()]

    # The shown instrument's snapshots whole (the trend as stored text), and of every
    # instrument only when it was last taken, which is all that what is due needs.
    columns = [c for c in OutcomeSnapshot.__table__.columns if c.name != "recent"]
    recent_json = cast(OutcomeSnapshot.recent, Text).label("recent_json")
    snapshots = {
        s.patient_id: s
        for s in db.session.execute(
            select(*columns, recent_json).where(
                OutcomeSnapshot.clinic_id == clinic_id, OutcomeSnapshot.instrument == instrument
            )
        )
    }
    last_taken_of: dict[str, dict[str, datetime]] = defaultdict(dict)
    for patient_id, name, last_taken_at in db.session.execute(
        select(
            OutcomeSnapshot.patient_id, OutcomeSnapshot.instrument, OutcomeSnapshot.last_taken_at
        ).where(OutcomeSnapshot.clinic_id == clinic_id)
    ):
        if name in PANEL_INSTRUMENTS:
            last_taken_of[patient_id][name] = last_taken_at
    open_flags = {
        patient_id: (count, oldest)
        for patient_id, count, oldest in db.session.execute(
            select(Flag.patient_id, func.count(), func.min(Flag.opened_at))
            .join(Patient, Patient.id == Flag.patient_id)
            .where(Patient.clinic_id == clinic_id, Flag.status == "open")
            .group_by(Flag.patient_id)
        )
    }
    overdue_hours = db.session.scalar(
        select(Clinic.flag_overdue_hours).where(Clinic.id == clinic_id)
    )
    session_counts = dict(
        db.session.execute(
            select(TreatmentSession.patient_id, func.count())
            .join(Patient, Patient.id == TreatmentSession.patient_id)
            .where(Patient.clinic_id == clinic_id, TreatmentSession.cancelled_at.is_(None))
            .group_by(TreatmentSession.patient_id)
        ).all()
    )
    # Sessions close to today (any time zone's "today"), for pre-session check-ins.
    near_sessions = db.session.execute(
        select(TreatmentSession.id, TreatmentSession.patient_id, TreatmentSession.started_at)
        .join(Patient, Patient.id == TreatmentSession.patient_id)
        .where(
            Patient.clinic_id == clinic_id,
            TreatmentSession.cancelled_at.is_(None),
            TreatmentSession.started_at >= now - timedelta(days=2),
            TreatmentSession.started_at <= now + timedelta(days=2),
        )
    ).all()
    with_pre = set(
        db.session.scalars(
            select(Entry.session_id).where(
                Entry.session_id.in_([s.id for s in near_sessions] or [""]),
                Entry.context == "pre_session",
                # The scheduled pre-session check-in: a quick rating does not stand for it.
                Entry.instrument == schedule.PRE_SESSION_INSTRUMENT,
                Entry.voided.is_(False),
            )
        )
    )

    sessions_today: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for session in near_sessions:
        sessions_today[session.patient_id].append((session.id, session.started_at))

    rows = []
    for patient in patients:
        last_taken = last_taken_of.get(patient.id, {})
        due = schedule.due_items(
            patient.schedule,
            now=now,
            timezone=patient.timezone,
            start=patient.created_at,
            last_taken=last_taken,
            sessions=sessions_today.get(patient.id, []),
            sessions_with_pre_entry=with_pre,
        )
        open_count, oldest_open = open_flags.get(patient.id, (0, None))
        rows.append(
            PanelRow(
                patient=patient,
                instrument=instrument,
                snapshot=snapshots.get(patient.id),
                open_flag_count=open_count,
                oldest_open_flag_at=oldest_open,
                open_flag_overdue=oldest_open is not None
                and safety.is_overdue(oldest_open, now, overdue_hours),
                last_entry_at=max(last_taken.values(), default=None),
                sessions_count=session_counts.get(patient.id, 0),
                due=due,
            )
        )
    return sort_rows(rows, sort, now)


def sort_rows(rows: list[PanelRow], sort: str, now: datetime) -> list[PanelRow]:
    """Default: open flags first (the oldest flag first), then most overdue, then name; or by
    one column."""

    def name(row: PanelRow):
        return (row.patient.display_name.casefold(), row.patient.id)

    if sort == "name":
        return sorted(rows, key=name)
    if sort in ("latest", "change"):
        column = "latest_total" if sort == "latest" else "change"

        # Highest first (worst score, most improvement); patients without a value last.
        def by_value(row: PanelRow):
            value = getattr(row.snapshot, column) if row.snapshot else None
            return (value is None, -(value or 0), name(row))

        return sorted(rows, key=by_value)
    if sort == "last_entry_at":
        # Most recent first; patients who never checked in last.
        return sorted(
            rows,
            key=lambda r: (
                r.last_entry_at is None,
                -(r.last_entry_at.timestamp() if r.last_entry_at else 0),
                name(r),
            ),
        )

    # Open flags first, the longest open first; then the most overdue check-ins.
    def flags_then_overdue(row: PanelRow):
        oldest = row.oldest_open_flag_at
        return (
            oldest is None,
            oldest.timestamp() if oldest else 0,
            -row.overdue_by(now).total_seconds(),
            name(row),
        )

    return sorted(rows, key=flags_then_overdue)


def read_page(
    clinician: User, instrument: str, query: str | None, sort: str, limit: int, cursor: str | None
) -> dict:
    """One page of the clinician's panel, audited with the patients it shows (committed)."""
    rows = panel_rows(clinician.clinic_id, instrument, query, sort)
    start = offset_from_cursor(cursor)
    shown = rows[start : start + limit]
    more = start + limit < len(rows)
    audit.record(
        "panel.read",
        detail={
            "instrument": instrument,
            "offset": start,
            "patient_ids": [row.patient.id for row in shown],
        },
    )
    db.session.commit()
    return {"items": shown, "next_cursor": offset_cursor(start + limit) if more else None}
