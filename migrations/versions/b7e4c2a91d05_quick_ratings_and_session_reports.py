"""quick ratings (mood_now: an entry without a band) and the patient's after-session reports

`mood_now` has no bands, so an entry's severity may be null. A session report holds the side
effects the patient rated 0–3 after a session, and a note; its id is the client's.

Revision ID: b7e4c2a91d05
Revises: 5e1b7c9d3a20
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4c2a91d05'
down_revision = '5e1b7c9d3a20'
branch_labels = None
depends_on = None

# Written out here (not imported): a migration says what the schema was at its revision.
SIDE_EFFECTS = ('nausea', 'dizziness', 'dissociation', 'headache', 'drowsiness')

entry = sa.table('entry', sa.column('severity', sa.String))


def upgrade():
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.alter_column('severity', existing_type=sa.String(length=32), nullable=True)

    op.create_table(
        'session_report',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('patient_id', sa.String(length=36), nullable=False),
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in SIDE_EFFECTS),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        *(
            sa.CheckConstraint(
                f'{name} BETWEEN 0 AND 3', name=op.f(f'ck_session_report_{name}_in_range')
            )
            for name in SIDE_EFFECTS
        ),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['patient.id'], name=op.f('fk_session_report_patient_id_patient')
        ),
        sa.ForeignKeyConstraint(
            ['session_id'],
            ['treatment_session.id'],
            name=op.f('fk_session_report_session_id_treatment_session'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_session_report')),
    )
    with op.batch_alter_table('session_report', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_session_report_patient_id'), ['patient_id'], unique=False
        )
        batch_op.create_index(
            'ix_session_report_session_taken', ['session_id', 'taken_at'], unique=False
        )


def downgrade():
    # The older schema cannot hold a quick rating: refuse rather than lose one.
    unbanded = op.get_bind().execute(
        sa.select(sa.func.count()).select_from(entry).where(entry.c.severity.is_(None))
    ).scalar()
    if unbanded:
        raise RuntimeError(
            f'{unbanded} entries have no band (quick ratings): the older schema cannot hold '
            'them, and downgrading would lose them. Stay on this revision.'
        )
    with op.batch_alter_table('session_report', schema=None) as batch_op:
        batch_op.drop_index('ix_session_report_session_taken')
        batch_op.drop_index(batch_op.f('ix_session_report_patient_id'))
    op.drop_table('session_report')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.alter_column('severity', existing_type=sa.String(length=32), nullable=False)
