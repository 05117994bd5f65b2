"""web inbox: notices kept for web chat users

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_hash', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_inbox'))
    )
    with op.batch_alter_table('web_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_inbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_inbox_user_hash'), ['user_hash'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('web_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_inbox_user_hash'))
        batch_op.drop_index(batch_op.f('ix_web_inbox_created_at'))

    op.drop_table('web_inbox')
