"""conversations with the bot, and the messages already answered

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('channel', 'user_hash', name=op.f('uq_conversations_channel_user_hash'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_updated_at'), ['updated_at'], unique=False)

    op.create_table('handled_messages',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('message_hash', sa.String(length=64), nullable=False),
    sa.Column('replies', sa.Text(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'message_hash', name=op.f('pk_handled_messages'))
    )
    with op.batch_alter_table('handled_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handled_messages_handled_at'), ['handled_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handled_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handled_messages_handled_at'))
    op.drop_table('handled_messages')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_updated_at'))
    op.drop_table('conversations')
