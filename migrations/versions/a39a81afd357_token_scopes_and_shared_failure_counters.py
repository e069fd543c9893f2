"""token scopes and shared failure counters

api_token.scope: "read" tokens may only GET; existing tokens keep what they could do
("write"). failed_attempt: failed sign-ins and enrollment codes counted in the database, so
that every worker sees the same counts when no Redis is configured.

Revision ID: a39a81afd357
Revises: a44430d7fc50
Create Date: 2026-12-01 11:24:14.943060

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a39a81afd357'
down_revision = 'a44430d7fc50'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('failed_attempt',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('counter', sa.String(length=400), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_attempt'))
    )
    with op.batch_alter_table('failed_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_failed_attempt_counter_at', ['counter', 'at'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=8), server_default='write', nullable=False))



def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('scope')

    with op.batch_alter_table('failed_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_attempt_counter_at')

    op.drop_table('failed_attempt')
