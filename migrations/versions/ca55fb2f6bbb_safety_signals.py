"""safety signals: flags of a check-in, which may open before its entry arrives

A flag belongs to a check-in (checkin_id, the id its entry has or will have) and may exist
before its entry: a safety signal, sent the moment a positive item is answered, opens it, and
the entry joins it later. Existing flags belong to the check-in of their own entry.

Revision ID: ca55fb2f6bbb
Revises: 7c1d2e3f4a5b
Create Date: 2026-12-01 09:10:02.118342

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ca55fb2f6bbb'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None

flag = sa.table(
    'flag', sa.column('entry_id', sa.String), sa.column('checkin_id', sa.String)
)


def upgrade():
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_id', sa.String(length=36), nullable=True))
    op.execute(flag.update().values(checkin_id=flag.c.entry_id))
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.alter_column('checkin_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column('entry_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f('uq_flag_patient_id_checkin_id_kind'), ['patient_id', 'checkin_id', 'kind']
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_flag_entry_is_the_checkin'), 'entry_id IS NULL OR entry_id = checkin_id'
        )

    op.create_table('safety_signal',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('checkin_id', sa.String(length=36), nullable=False),
    sa.Column('instrument', sa.String(length=16), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('flag_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_safety_signal_flag_id_flag')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_safety_signal_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_signal'))
    )
    with op.batch_alter_table('safety_signal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_signal_flag_id'), ['flag_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_signal_patient_id'), ['patient_id'], unique=False)


def downgrade():
    # The older schema cannot hold a flag without an entry: refuse rather than lose one.
    waiting = op.get_bind().execute(
        sa.select(sa.func.count()).select_from(flag).where(flag.c.entry_id.is_(None))
    ).scalar()
    if waiting:
        raise RuntimeError(
            f'{waiting} safety flag(s) were opened by a signal and have no entry: the older '
            'schema cannot hold them, and downgrading would lose them. Stay on this revision.'
        )

    with op.batch_alter_table('safety_signal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_signal_patient_id'))
        batch_op.drop_index(batch_op.f('ix_safety_signal_flag_id'))
    op.drop_table('safety_signal')

    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_flag_entry_is_the_checkin'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_flag_patient_id_checkin_id_kind'), type_='unique')
        batch_op.alter_column('entry_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column('checkin_id')
