"""web push reminders: the VAPID key, push subscriptions, reminder settings and claims

A patient's browsers subscribe (push_subscription, one row per endpoint); their reminder
settings are a row of their own, or the defaults while there is none; each reminder sent is
claimed first (reminder_delivery, unique per patient, kind and due item), so that senders
running at once send it once. vapid_key holds the generated key pair when VAPID_PRIVATE_KEY
is not set. New tables only: nothing to backfill; a downgrade drops them (and the
subscriptions with them: browsers subscribe again after an upgrade).

Revision ID: d8437d76aca5
Revises: fbd51a7a5e0d
Create Date: 2026-12-01 14:32:20.042313

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8437d76aca5'
down_revision = 'fbd51a7a5e0d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vapid_key',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_vapid_key'))
    )
    op.create_table('push_subscription',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('p256dh', sa.String(length=100), nullable=False),
    sa.Column('auth', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_push_subscription_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscription')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscription_endpoint'))
    )
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscription_patient_id'), ['patient_id'], unique=False)

    op.create_table('reminder_delivery',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_key', sa.String(length=100), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("kind IN ('checkin', 'pre_session', 'post_session')", name=op.f('ck_reminder_delivery_kind')),
    sa.CheckConstraint("status IN ('sending', 'retry', 'sent', 'failed')", name=op.f('ck_reminder_delivery_status')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_reminder_delivery_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_delivery')),
    sa.UniqueConstraint('patient_id', 'kind', 'due_key', name=op.f('uq_reminder_delivery_patient_id_kind_due_key'))
    )
    op.create_table('reminder_settings',
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('time_of_day', sa.String(length=5), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('pre_session_hours', sa.Integer(), nullable=False),
    sa.Column('post_session_next_day', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(quiet_start IS NULL) = (quiet_end IS NULL)', name=op.f('ck_reminder_settings_quiet_hours_whole')),
    sa.CheckConstraint('pre_session_hours BETWEEN 0 AND 48', name=op.f('ck_reminder_settings_pre_session_hours_in_range')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_reminder_settings_patient_id_patient')),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_reminder_settings'))
    )


def downgrade():
    op.drop_table('reminder_settings')
    op.drop_table('reminder_delivery')
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscription_patient_id'))

    op.drop_table('push_subscription')
    op.drop_table('vapid_key')
