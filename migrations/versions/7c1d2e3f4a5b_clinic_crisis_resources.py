"""clinic crisis resources and flag overdue hours

A clinic's crisis resources become structured, so that the PWA can dial every number: an
emergency number, a crisis line (name, number to call, number to text), the clinic's phone and
hours, and a message. The free-text crisis_text becomes that message; the numbers start unset,
for the clinic's admin to fill in. flag_overdue_hours: how long a flag may stay open before it
is shown as overdue.

Revision ID: 7c1d2e3f4a5b
Revises: 2ecd072d2cfa
Create Date: 2026-12-01 08:52:17.659126

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d2e3f4a5b'
down_revision = '2ecd072d2cfa'
branch_labels = None
depends_on = None

clinic = sa.table(
    'clinic', sa.column('crisis_text', sa.Text), sa.column('crisis_message', sa.Text)
)


def upgrade():
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_overdue_hours', sa.Integer(), server_default='24', nullable=False))
        batch_op.add_column(sa.Column('crisis_emergency_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('crisis_line_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('crisis_line_phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('crisis_line_sms', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('crisis_clinic_phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('crisis_clinic_hours', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('crisis_message', sa.Text(), nullable=True))
    # The clinic's own words stay, whole; the default text (crisis_text null) is not copied,
    # since its placeholders are what the structured numbers replace.
    op.execute(clinic.update().values(crisis_message=clinic.c.crisis_text))
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.drop_column('crisis_text')
        batch_op.create_check_constraint(
            batch_op.f('ck_clinic_flag_overdue_hours_in_range'),
            'flag_overdue_hours BETWEEN 1 AND 168',
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_clinic_crisis_line_whole'),
            '(crisis_line_name IS NULL) = (crisis_line_phone IS NULL) '
            'AND (crisis_line_sms IS NULL OR crisis_line_phone IS NOT NULL)',
        )


def downgrade():
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_text', sa.Text(), nullable=True))
    op.execute(clinic.update().values(crisis_text=clinic.c.crisis_message))
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_clinic_crisis_line_whole'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_clinic_flag_overdue_hours_in_range'), type_='check')
        batch_op.drop_column('crisis_message')
        batch_op.drop_column('crisis_clinic_hours')
        batch_op.drop_column('crisis_clinic_phone')
        batch_op.drop_column('crisis_line_sms')
        batch_op.drop_column('crisis_line_phone')
        batch_op.drop_column('crisis_line_name')
        batch_op.drop_column('crisis_emergency_number')
        batch_op.drop_column('flag_overdue_hours')
