"""The outcome snapshot (the panel's copy of outcomes.headline), kept in step by the session.

Every write to what outcomes depend on marks its patients: entries, treatment sessions and
baseline choices (one patient each), and a clinic's MADRS cut-off (its patients with MADRS
entries). Just before the transaction commits, each marked patient's snapshots are
recomputed once, inside that transaction. Services call nothing, so no write path can forget.

Writes through the unit of work are seen at each flush; bulk `insert()`, `update()` and
`delete()` statements through the session are seen as they run. Raw SQL text is not seen:
nothing but migrations writes that way. Flags are not tracked: the panel counts them live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain

from sqlalchemy import asc, delete, desc, event, func, inspect, select, union_all
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session

from ..domain import outcomes
from ..domain.instruments import INSTRUMENTS
from .extensions import db
from .models import BaselineChoice, Clinic, Entry, OutcomeSnapshot, Patient, TreatmentSession

# Tables whose rows belong to one patient and feed outcomes.headline().
PATIENT_TABLES = {model.__table__ for model in (Entry, TreatmentSession, BaselineChoice)}
RECENT_SCORES = 12  # points of the panel's trend sparkline
_PATIENTS = "snapshots.patients"  # session.info keys: what this transaction has marked
_CLINICS = "snapshots.clinics"


def remission_max_for(clinic: Clinic, instrument_id: str) -> int | None:
    """The remission cut-off that applies in this clinic (MADRS is a clinic choice); None for
    an instrument without outcome rules (mood_now)."""
    if instrument_id == "madrs":
        return clinic.madrs_remission_max
    rules = INSTRUMENTS[instrument_id].outcome
    return None if rules is None else rules.remission_max


def refresh_snapshots(patient_id: str, session: Session | scoped_session | None = None) -> None:
    """Recompute a patient's outcome snapshots from what the transaction sees now.

    The work is the same whatever the patient's history: outcomes.headline() depends on only
    a few of a patient's entries per instrument (see `_candidates`), so those are read by
    index, never the whole history."""
    session = db.session if session is None else session
    # Lock the patient row: concurrent writers for one patient take turns, and each
    # recomputes from what the previous one committed (PostgreSQL; SQLite has one writer).
    # NO KEY UPDATE, because inserting an entry already holds KEY SHARE on this row.
    patient = session.execute(
        select(Patient).where(Patient.id == patient_id).with_for_update(key_share=True)
    ).scalar_one_or_none()
    session.execute(delete(OutcomeSnapshot).where(OutcomeSnapshot.patient_id == patient_id))
    if patient is None:  # deleted in this transaction (only tests delete patients)
        return
    counted = (Entry.patient_id == patient_id, Entry.voided.is_(False))
    totals = session.execute(
        select(Entry.instrument, func.count(), func.max(Entry.taken_at))
        .where(*counted)
        .group_by(Entry.instrument)
    ).all()
    if not totals:
        return
    clinic = session.get(Clinic, patient.clinic_id)
    first_session = session.scalar(
        select(func.min(TreatmentSession.started_at)).where(
            TreatmentSession.patient_id == patient_id, TreatmentSession.cancelled_at.is_(None)
        )
    )
    sessions = [] if first_session is None else [_FirstSession(first_session)]
    explicit = dict(
        session.execute(
            select(BaselineChoice.instrument, BaselineChoice.entry_id).where(
                BaselineChoice.patient_id == patient_id
            )
        ).all()
    )
    queries = [
        query
        for instrument_id, _count, _last in totals
        for query in _candidates(
            patient_id, instrument_id, first_session, explicit.get(instrument_id)
        )
    ]
    # UNION ALL, not UNION: PostgreSQL has no equality for json, and an entry that is two
    # candidates at once is simply read twice.
    rows = session.execute(union_all(*queries) if len(queries) > 1 else queries[0]).all()
    found = list({row.id: row for row in rows}.values())
    for instrument_id, entry_count, last_taken_at in totals:
        own = [e for e in found if e.instrument == instrument_id]
        newest = session.execute(
            select(Entry.id, Entry.taken_at, Entry.total)
            .where(*counted, Entry.instrument == instrument_id)
            .order_by(Entry.taken_at.desc(), Entry.id.desc())
            .limit(RECENT_SCORES)
        ).all()
        session.add(
            snapshot_of(
                patient,
                clinic,
                instrument_id,
                own,
                sessions,
                explicit.get(instrument_id),
                entry_count=entry_count,
                last_taken_at=last_taken_at,
                recent=recent_scores(newest),
            )
        )


@dataclass(frozen=True)
class _FirstSession:
    """The first held session, which is all choose_baseline() reads of the sessions."""

    started_at: datetime
    cancelled_at: None = None


# What outcomes.headline() reads of an entry.
_COLUMNS = (
    Entry.id,
    Entry.instrument,
    Entry.taken_at,
    Entry.total,
    Entry.severity,
    Entry.context,
    Entry.voided,
    Entry.session_id,
    Entry.answers,  # a prorated total is recomputed from them, exactly
)


def _candidates(patient_id, instrument_id, first_session, explicit_id) -> list:
    """The only entries that outcomes.headline() can choose for one instrument, as queries.

    Its baseline rules (outcomes.choose_baseline) take the chosen entry, else the last entry
    in context `baseline` up to the first held session, else the last entry other than
    `post_session` in the week before it, else the first entry other than `post_session`;
    its follow-up is the last entry other than `post_session`. Each of these is the earliest
    or latest entry of a set, read here with every entry tied at that time (ties are broken
    by id in Python, as headline() does), so headline() over these rows chooses exactly what
    it would over the whole history. Voided entries never count."""
    own = (
        Entry.patient_id == patient_id,
        Entry.instrument == instrument_id,
        Entry.voided.is_(False),
    )
    comparable = Entry.context != "post_session"

    def at(order, *conditions):
        # The first time in index order that meets the conditions: the index on (patient,
        # instrument, taken_at) is walked from one end and the walk stops there, where
        # min()/max() with conditions beyond the index would read every entry.
        moment = (
            select(Entry.taken_at)
            .where(*own, *conditions)
            .order_by(order(Entry.taken_at))
            .limit(1)
            .scalar_subquery()
        )
        return select(*_COLUMNS).where(*own, *conditions, Entry.taken_at == moment)

    first, last = asc, desc
    queries = [at(first, comparable), at(last, comparable)]
    if first_session is None:
        queries.append(at(last, Entry.context == "baseline"))
    else:
        window = first_session - outcomes.BASELINE_BEFORE_FIRST_SESSION
        queries.append(at(last, Entry.context == "baseline", Entry.taken_at <= first_session))
        queries.append(
            at(last, comparable, Entry.taken_at >= window, Entry.taken_at <= first_session)
        )
    if explicit_id is not None:
        queries.append(select(*_COLUMNS).where(*own, Entry.id == explicit_id))
    return queries


def snapshot_of(
    patient: Patient,
    clinic: Clinic,
    instrument_id: str,
    entries,
    sessions,
    explicit_id: str | None,
    entry_count: int,
    last_taken_at: datetime,
    recent: list[dict],
) -> OutcomeSnapshot:
    """The snapshot row of outcomes.headline() over `entries` (non-voided, one instrument)."""
    baseline, rule, latest, comparison = outcomes.headline(
        INSTRUMENTS[instrument_id],
        entries,
        sessions,
        explicit_id,
        remission_max_for(clinic, instrument_id),
    )
    return OutcomeSnapshot(
        patient_id=patient.id,
        instrument=instrument_id,
        clinic_id=patient.clinic_id,
        entry_count=entry_count,
        baseline_entry_id=baseline.id if baseline else None,
        baseline_rule=rule,
        baseline_total=baseline.total if baseline else None,
        baseline_severity=baseline.severity if baseline else None,
        baseline_taken_at=baseline.taken_at if baseline else None,
        # None when every entry is post-session: they never are the follow-up.
        latest_entry_id=latest.id if latest else None,
        latest_total=latest.total if latest else None,
        latest_severity=latest.severity if latest else None,
        latest_taken_at=latest.taken_at if latest else None,
        last_taken_at=last_taken_at,
        # Unrounded (exact values as the nearest float): rounded when answered.
        change=_number(comparison.change),
        percent_change=_number(comparison.percent_change),
        response=comparison.response,
        remission=comparison.remission,
        reliable_change=comparison.reliable_change,
        recent=recent,
    )


def recent_scores(entries) -> list[dict]:
    """The newest RECENT_SCORES of these entries, oldest first, as the panel sends them."""
    newest = sorted(entries, key=lambda e: (e.taken_at, e.id))[-RECENT_SCORES:]
    return [
        {
            "taken_at": e.taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total": int(e.total) if float(e.total).is_integer() else float(e.total),
        }
        for e in newest
    ]


def _number(value) -> float | None:
    return None if value is None else float(value)


def mark(session: Session, patient_ids=(), clinic_ids=()) -> None:
    """Have these patients' (and these clinics' MADRS) snapshots recomputed before commit."""
    session.info.setdefault(_PATIENTS, set()).update(patient_ids)
    session.info.setdefault(_CLINICS, set()).update(clinic_ids)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    # Deleted rows are read before the flush, while their attributes can still be loaded.
    deleted = {row.patient_id for row in session.deleted if _table_of(row) in PATIENT_TABLES}
    if deleted:
        mark(session, deleted)


def _after_flush(session: Session, _flush_context) -> None:
    # After the flush foreign keys are filled in; new and dirty still list what it wrote.
    patients, clinics = set(), set()
    dirty = session.dirty
    for row in chain(session.new, dirty):
        table = _table_of(row)
        if table in PATIENT_TABLES:
            if row in dirty and not session.is_modified(row):
                continue
            patients.add(row.patient_id)
            # A row moved to another patient changes the one it left too.
            patients.update(inspect(row).attrs.patient_id.history.deleted)
        elif table is Clinic.__table__ and row in dirty:
            if inspect(row).attrs.madrs_remission_max.history.has_changes():
                clinics.add(row.id)
    if patients or clinics:
        mark(session, patients, clinics)


def _table_of(row):
    return getattr(type(row), "__table__", None)


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = state.statement.entity_description.get("table")
    if table in PATIENT_TABLES:
        mark(state.session, _bulk_patients(state, table))
    elif table is Clinic.__table__ and state.is_update:
        # Which columns an update sets is not public API: any bulk update of a clinic counts.
        mark(state.session, clinic_ids=_matched(state, table.c.id))


def _bulk_patients(state: ORMExecuteState, table) -> set[str]:
    """The patients a bulk statement writes to, known before it runs."""
    if state.is_insert:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters]
        if all(row and "patient_id" in row for row in rows):
            return {row["patient_id"] for row in rows}
        values = state.statement.compile().params  # insert().values(...): one row or many
        found = {v for k, v in values.items() if k == "patient_id" or k.startswith("patient_id_m")}
        if not found or None in found:
            raise RuntimeError(f"A bulk insert into {table.name} must name its patient_id.")
        return found
    if state.is_executemany:  # an update by primary key: [{"id": ..., "voided": True}, ...]
        if all("patient_id" in row for row in state.parameters):
            return {row["patient_id"] for row in state.parameters}
        ids = [row["id"] for row in state.parameters]
        return set(state.session.scalars(select(table.c.patient_id).where(table.c.id.in_(ids))))
    return set(_matched(state, table.c.patient_id))


def _matched(state: ORMExecuteState, column) -> list:
    """`column` of the rows an UPDATE or DELETE's WHERE matches, read before it runs."""
    where = state.statement.whereclause
    query = select(column).distinct()
    query = query if where is None else query.where(where)
    return state.session.scalars(query, state.parameters).all()


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit recomputes
    session.flush()  # writes still pending are marked by this flush
    # Snapshot rows are not tracked, so a recompute marks no one and this runs once; should
    # one ever mark a patient, they are recomputed too, still before the commit.
    while session.info.get(_PATIENTS) or session.info.get(_CLINICS):
        patients = session.info.pop(_PATIENTS, set())
        clinics = session.info.pop(_CLINICS, set())
        if clinics:
            patients |= set(
                session.scalars(
                    select(Entry.patient_id)
                    .join(Patient, Patient.id == Entry.patient_id)
                    .where(Patient.clinic_id.in_(clinics), Entry.instrument == "madrs")
                    .distinct()
                )
            )
        # Patient locks taken in one order by every writer: two transactions never deadlock.
        for patient_id in sorted(patients):
            refresh_snapshots(patient_id, session)
        session.flush()


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed or rolled back: the marks are spent
        session.info.pop(_PATIENTS, None)
        session.info.pop(_CLINICS, None)


_LISTENERS = {
    "before_flush": _before_flush,
    "after_flush": _after_flush,
    "do_orm_execute": _do_orm_execute,
    "before_commit": _before_commit,
    "after_transaction_end": _after_transaction_end,
}


def keep_in_step(sessions: scoped_session) -> None:
    """Install the hook on the sessions `sessions` makes (once, however often it is called)."""
    for name, listener in _LISTENERS.items():
        if not event.contains(sessions, name, listener):
            event.listen(sessions, name, listener)
