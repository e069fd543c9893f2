"""server-side sign-in sessions, and reset codes beside enrollment codes

auth_session holds one row per signed-in browser (the cookie carries only a random id whose
hash is stored here). enrollment_code gains a purpose: "enroll" as before (every existing
code), or "reset", a code that lets the account user_id set a new password. A patient record
can be deactivated (patient.active).

Revision ID: a44430d7fc50
Revises: 99d0f43d8d52
Create Date: 2026-12-01 11:23:40.687969

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a44430d7fc50'
down_revision = '99d0f43d8d52'
branch_labels = None
depends_on = None

enrollment_code = sa.table('enrollment_code', sa.column('purpose', sa.String))


def upgrade():
    op.create_table('auth_session',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_auth_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_auth_session_secret_hash'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('enrollment_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='enroll', nullable=False))
        batch_op.add_column(sa.Column('user_id', sa.String(length=36), nullable=True))
        batch_op.alter_column('patient_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_enrollment_code_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_enrollment_code_user_id_user_account'), 'user_account', ['user_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_enrollment_code_purpose'), "purpose IN ('enroll', 'reset')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_enrollment_code_purpose_names_whom'),
            "(purpose = 'enroll' AND patient_id IS NOT NULL AND user_id IS NULL) "
            "OR (purpose = 'reset' AND user_id IS NOT NULL)",
        )


def downgrade():
    # Reset codes have no place in the older schema (a clinician's has no patient): dropped.
    op.execute(enrollment_code.delete().where(enrollment_code.c.purpose == 'reset'))
    with op.batch_alter_table('enrollment_code', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_enrollment_code_purpose_names_whom'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_enrollment_code_purpose'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_enrollment_code_user_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_enrollment_code_user_id'))
        batch_op.alter_column('patient_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=False)
        batch_op.drop_column('user_id')
        batch_op.drop_column('purpose')

    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_column('active')

    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))

    op.drop_table('auth_session')
