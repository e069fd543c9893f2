"""outcome snapshots under the corrected rules (issue 11), with the newest entry of any context

scales.md (2026-11-30) corrected the outcome rules: the follow-up is never a post-session
entry, rule 2 applies only before the first session, and prorated totals are computed exactly.
The snapshot's `latest_*` is the follow-up, so the newest entry of any context, which the
schedule and the panel's last check-in need, gets its own column; every snapshot is rebuilt
with the app's pure rules (server.domain), reading and writing plain SQL as 2ecd072d2cfa does.

Revision ID: 5e1b7c9d3a20
Revises: a39a81afd357
Create Date: 2026-12-01 12:05:00.000000

"""
from datetime import UTC

from alembic import op
import sqlalchemy as sa

from server.domain import outcomes
from server.domain.instruments import INSTRUMENTS


# revision identifiers, used by Alembic.
revision = '5e1b7c9d3a20'
down_revision = 'a39a81afd357'
branch_labels = None
depends_on = None

# The tables as they are at this revision: only the columns read or written here.
clinic = sa.table(
    'clinic', sa.column('id', sa.String), sa.column('madrs_remission_max', sa.Integer)
)
patient = sa.table('patient', sa.column('id', sa.String), sa.column('clinic_id', sa.String))
entry = sa.table(
    'entry',
    sa.column('id', sa.String),
    sa.column('patient_id', sa.String),
    sa.column('instrument', sa.String),
    sa.column('taken_at', sa.DateTime(timezone=True)),
    sa.column('total', sa.Float),
    sa.column('severity', sa.String),
    sa.column('context', sa.String),
    sa.column('voided', sa.Boolean),
    sa.column('session_id', sa.String),
    sa.column('answers', sa.JSON),
)
treatment_session = sa.table(
    'treatment_session',
    sa.column('id', sa.String),
    sa.column('patient_id', sa.String),
    sa.column('started_at', sa.DateTime(timezone=True)),
)
baseline_choice = sa.table(
    'baseline_choice',
    sa.column('patient_id', sa.String),
    sa.column('instrument', sa.String),
    sa.column('entry_id', sa.String),
)
outcome_snapshot = sa.table(
    'outcome_snapshot',
    sa.column('patient_id', sa.String),
    sa.column('instrument', sa.String),
    sa.column('clinic_id', sa.String),
    sa.column('entry_count', sa.Integer),
    sa.column('baseline_entry_id', sa.String),
    sa.column('baseline_rule', sa.Integer),
    sa.column('baseline_total', sa.Float),
    sa.column('baseline_severity', sa.String),
    sa.column('baseline_taken_at', sa.DateTime(timezone=True)),
    sa.column('latest_entry_id', sa.String),
    sa.column('latest_total', sa.Float),
    sa.column('latest_severity', sa.String),
    sa.column('latest_taken_at', sa.DateTime(timezone=True)),
    sa.column('last_taken_at', sa.DateTime(timezone=True)),
    sa.column('change', sa.Float),
    sa.column('percent_change', sa.Float),
    sa.column('response', sa.Boolean),
    sa.column('remission', sa.Boolean),
    sa.column('reliable_change', sa.String),
)


class _Row:
    """An entry or session with its times in UTC, aware, as the app's models give them."""

    def __init__(self, row, times):
        self.__dict__.update(row._mapping)
        for name in times:
            value = getattr(self, name)
            setattr(self, name, value.replace(tzinfo=UTC) if value.tzinfo is None else value)


def _stored(value, dialect: str):
    """A UTC time as the app stores it: naive on SQLite, aware elsewhere."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.replace(tzinfo=None) if dialect == 'sqlite' else value


def snapshot_rows(connection, patient_id: str, clinic_id: str, madrs_remission_max: int):
    """The patient's snapshot rows, as the app's refresh_snapshots computes them."""
    dialect = connection.dialect.name
    entries = [
        _Row(row, ['taken_at'])
        for row in connection.execute(
            sa.select(entry).where(entry.c.patient_id == patient_id, entry.c.voided.is_(False))
        )
    ]
    sessions = [
        _Row(row, ['started_at'])
        for row in connection.execute(
            sa.select(treatment_session.c.id, treatment_session.c.started_at).where(
                treatment_session.c.patient_id == patient_id
            )
        )
    ]
    explicit = dict(
        connection.execute(
            sa.select(baseline_choice.c.instrument, baseline_choice.c.entry_id).where(
                baseline_choice.c.patient_id == patient_id
            )
        ).all()
    )
    rows = []
    for instrument_id, instrument in INSTRUMENTS.items():
        own = [e for e in entries if e.instrument == instrument_id]
        if not own:
            continue
        remission_max = (
            madrs_remission_max if instrument_id == 'madrs' else instrument.outcome.remission_max
        )
        baseline, rule, latest, comparison = outcomes.headline(
            instrument, own, sessions, explicit.get(instrument_id), remission_max
        )
        rows.append(
            {
                'patient_id': patient_id,
                'instrument': instrument_id,
                'clinic_id': clinic_id,
                'entry_count': len(own),
                'baseline_entry_id': baseline.id if baseline else None,
                'baseline_rule': rule,
                'baseline_total': baseline.total if baseline else None,
                'baseline_severity': baseline.severity if baseline else None,
                'baseline_taken_at': _stored(baseline.taken_at if baseline else None, dialect),
                'latest_entry_id': latest.id if latest else None,
                'latest_total': latest.total if latest else None,
                'latest_severity': latest.severity if latest else None,
                'latest_taken_at': _stored(latest.taken_at if latest else None, dialect),
                'last_taken_at': _stored(max(e.taken_at for e in own), dialect),
                'change': None if comparison.change is None else float(comparison.change),
                'percent_change': None
                if comparison.percent_change is None
                else float(comparison.percent_change),
                'response': comparison.response,
                'remission': comparison.remission,
                'reliable_change': comparison.reliable_change,
            }
        )
    return rows


def upgrade():
    with op.batch_alter_table('outcome_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_taken_at', sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    patients = connection.execute(
        sa.select(patient.c.id, patient.c.clinic_id, clinic.c.madrs_remission_max)
        .join(clinic, clinic.c.id == patient.c.clinic_id)
        .where(sa.exists().where(entry.c.patient_id == patient.c.id))
        .order_by(patient.c.id)
    ).all()
    # Rebuilt whole with the corrected rules.
    connection.execute(outcome_snapshot.delete())
    for patient_id, clinic_id, madrs_remission_max in patients:
        rows = snapshot_rows(connection, patient_id, clinic_id, madrs_remission_max)
        if rows:
            connection.execute(outcome_snapshot.insert(), rows)


def downgrade():
    # The rows stay as the corrected rules computed them: derived data, rebuilt on next write.
    with op.batch_alter_table('outcome_snapshot', schema=None) as batch_op:
        batch_op.drop_column('last_taken_at')
