"""planned sessions (cancellation) and the monitoring record (issue 11)

A session may be cancelled (when, by whom): it stays, marked, and links no entries. Each session
may have one monitoring record (sedation, dissociation, respiratory depression, adverse events,
minutes, discharge, notes, who recorded it) with its vital signs as rows. A clinic's blood
pressure thresholds (before dosing, at any time) mark readings as raised; the defaults are
140/90 and 180/110. Nothing existing changes: no session is cancelled and none has a record.

Revision ID: fbd51a7a5e0d
Revises: b7e4c2a91d05
Create Date: 2026-12-01 14:21:23.806489

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fbd51a7a5e0d'
down_revision = 'b7e4c2a91d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('session_monitoring',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('sedation', sa.String(length=16), nullable=False),
    sa.Column('dissociation', sa.String(length=16), nullable=False),
    sa.Column('respiratory_depression', sa.Boolean(), nullable=False),
    sa.Column('adverse_events', sa.JSON(), nullable=False),
    sa.Column('monitoring_minutes', sa.Integer(), nullable=True),
    sa.Column('ready_to_leave_minutes', sa.Integer(), nullable=True),
    sa.Column('discharged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.String(length=36), nullable=False),
    sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("dissociation IN ('none', 'mild', 'moderate', 'severe')", name=op.f('ck_session_monitoring_dissociation_level')),
    sa.CheckConstraint("sedation IN ('none', 'mild', 'moderate', 'severe')", name=op.f('ck_session_monitoring_sedation_level')),
    sa.CheckConstraint('monitoring_minutes BETWEEN 0 AND 1440', name=op.f('ck_session_monitoring_monitoring_minutes_in_range')),
    sa.CheckConstraint('ready_to_leave_minutes BETWEEN 0 AND 1440', name=op.f('ck_session_monitoring_ready_to_leave_minutes_in_range')),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_session.id'], name=op.f('fk_session_monitoring_session_id_treatment_session')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_session_monitoring'))
    )
    op.create_table('vital_signs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('systolic', sa.Integer(), nullable=False),
    sa.Column('diastolic', sa.Integer(), nullable=False),
    sa.Column('heart_rate', sa.Integer(), nullable=True),
    sa.Column('spo2', sa.Integer(), nullable=True),
    sa.CheckConstraint('diastolic BETWEEN 20 AND 160', name=op.f('ck_vital_signs_diastolic_in_range')),
    sa.CheckConstraint('heart_rate BETWEEN 20 AND 250', name=op.f('ck_vital_signs_heart_rate_in_range')),
    sa.CheckConstraint('spo2 BETWEEN 50 AND 100', name=op.f('ck_vital_signs_spo2_in_range')),
    sa.CheckConstraint('systolic > diastolic', name=op.f('ck_vital_signs_systolic_above_diastolic')),
    sa.CheckConstraint('systolic BETWEEN 50 AND 260', name=op.f('ck_vital_signs_systolic_in_range')),
    sa.ForeignKeyConstraint(['session_id'], ['session_monitoring.session_id'], name=op.f('fk_vital_signs_session_id_session_monitoring')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vital_signs'))
    )
    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vital_signs_session_id'), ['session_id'], unique=False)

    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bp_before_dosing_systolic', sa.Integer(), server_default='140', nullable=False))
        batch_op.add_column(sa.Column('bp_before_dosing_diastolic', sa.Integer(), server_default='90', nullable=False))
        batch_op.add_column(sa.Column('bp_any_time_systolic', sa.Integer(), server_default='180', nullable=False))
        batch_op.add_column(sa.Column('bp_any_time_diastolic', sa.Integer(), server_default='110', nullable=False))
        batch_op.create_check_constraint(
            batch_op.f('ck_clinic_bp_thresholds_in_range'),
            'bp_before_dosing_systolic BETWEEN 50 AND 260 '
            'AND bp_before_dosing_diastolic BETWEEN 20 AND 160 '
            'AND bp_before_dosing_systolic > bp_before_dosing_diastolic '
            'AND bp_any_time_systolic BETWEEN 50 AND 260 '
            'AND bp_any_time_diastolic BETWEEN 20 AND 160 '
            'AND bp_any_time_systolic > bp_any_time_diastolic',
        )

    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by_id', sa.String(length=36), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_treatment_session_cancelled_by_someone'),
            '(cancelled_at IS NULL) = (cancelled_by_id IS NULL)',
        )


def downgrade():
    # The older schema would show a cancelled session as held and lose every monitoring
    # record: refuse rather than change clinical data.
    bind = op.get_bind()
    session = sa.table('treatment_session', sa.column('cancelled_at', sa.DateTime(timezone=True)))
    monitoring = sa.table('session_monitoring', sa.column('session_id', sa.String))
    cancelled = bind.execute(
        sa.select(sa.func.count()).select_from(session).where(session.c.cancelled_at.is_not(None))
    ).scalar()
    recorded = bind.execute(sa.select(sa.func.count()).select_from(monitoring)).scalar()
    if cancelled or recorded:
        raise RuntimeError(
            f'{cancelled} cancelled session(s) and {recorded} monitoring record(s): the older '
            'schema cannot hold them, and downgrading would lose them. Stay on this revision.'
        )

    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('ck_treatment_session_cancelled_by_someone'), type_='check'
        )
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('cancelled_at')

    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_clinic_bp_thresholds_in_range'), type_='check')
        batch_op.drop_column('bp_any_time_diastolic')
        batch_op.drop_column('bp_any_time_systolic')
        batch_op.drop_column('bp_before_dosing_diastolic')
        batch_op.drop_column('bp_before_dosing_systolic')

    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vital_signs_session_id'))

    op.drop_table('vital_signs')
    op.drop_table('session_monitoring')
