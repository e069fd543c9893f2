"""the panel's trend: the last 12 scores on each outcome snapshot

outcome_snapshot.recent holds a patient's newest 12 entries of the instrument (any context,
voided ones left out), oldest first, as [{"taken_at", "total"}], so that the panel draws a
sparkline per patient from the row it already reads. Filled here from the entries (as
snapshots.recent_scores computes it); a downgrade drops the column.

Revision ID: 52556f650a73
Revises: e2a6c1f0b9d4
Create Date: 2026-12-02 10:00:00

"""
from collections import defaultdict
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '52556f650a73'
down_revision = 'e2a6c1f0b9d4'
branch_labels = None
depends_on = None

RECENT_SCORES = 12


def _stamp(value):
    # SQLite gives naive UTC datetimes (or strings), PostgreSQL aware ones.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def upgrade():
    with op.batch_alter_table('outcome_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recent', sa.JSON(), nullable=True))

    bind = op.get_bind()
    entry = sa.table(
        'entry',
        sa.column('id', sa.String),
        sa.column('patient_id', sa.String),
        sa.column('instrument', sa.String),
        sa.column('taken_at', sa.DateTime(timezone=True)),
        sa.column('total', sa.Float),
        sa.column('voided', sa.Boolean),
    )
    snapshot = sa.table(
        'outcome_snapshot',
        sa.column('patient_id', sa.String),
        sa.column('instrument', sa.String),
        sa.column('recent', sa.JSON),
    )
    newest = defaultdict(list)
    rows = bind.execute(
        sa.select(entry.c.patient_id, entry.c.instrument, entry.c.taken_at, entry.c.total)
        .where(entry.c.voided.is_(False))
        .order_by(entry.c.patient_id, entry.c.instrument, entry.c.taken_at, entry.c.id)
    )
    for patient_id, instrument, taken_at, total in rows:
        kept = newest[(patient_id, instrument)]
        kept.append({
            'taken_at': _stamp(taken_at),
            'total': int(total) if float(total).is_integer() else float(total),
        })
        if len(kept) > RECENT_SCORES:
            del kept[0]
    for (patient_id, instrument), recent in newest.items():
        bind.execute(
            snapshot.update()
            .where(snapshot.c.patient_id == patient_id, snapshot.c.instrument == instrument)
            .values(recent=recent)
        )


def downgrade():
    with op.batch_alter_table('outcome_snapshot', schema=None) as batch_op:
        batch_op.drop_column('recent')
