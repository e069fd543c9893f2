"""an index on entry (patient_id, instrument, taken_at), for the outcome snapshot's reads

The snapshot is recomputed on every write from a few entries per instrument (the earliest and
latest of a kind, issue 14): this index finds each by its patient, instrument and time, so a
check-in costs the same whatever the patient's history. An index only: nothing to backfill.

Revision ID: e2a6c1f0b9d4
Revises: d8437d76aca5
Create Date: 2026-12-01 18:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a6c1f0b9d4'
down_revision = 'd8437d76aca5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_entry_patient_instrument_taken', 'entry', ['patient_id', 'instrument', 'taken_at']
    )


def downgrade():
    op.drop_index('ix_entry_patient_instrument_taken', table_name='entry')
