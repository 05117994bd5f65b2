"""complaint handling: where to answer, level, deadline, acceptance; staff actions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_cipher', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='zh', nullable=False))
        batch_op.add_column(sa.Column('level', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('accept_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('accepted_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('accepted_name', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('post_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('user_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_complaints_accept_by'), ['accept_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_post_due_at'), ['post_due_at'], unique=False)
    # Complaints filed before staff handled them in groups are posted to staff once. They have
    # no deadline (so no automatic escalation) and no way to answer the patient online.
    op.execute("UPDATE complaints SET post_due_at = updated_at WHERE status <> 'closed'")

    op.create_table('complaint_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_no', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=True),
    sa.Column('staff_name', sa.String(length=128), nullable=True),
    sa.Column('department_code', sa.String(length=16), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tell_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['complaint_no'], ['complaints.complaint_no'], name=op.f('fk_complaint_actions_complaint_no_complaints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_actions'))
    )
    with op.batch_alter_table('complaint_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_actions_complaint_no'), ['complaint_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_actions_tell_due_at'), ['tell_due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_actions_tell_due_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_actions_complaint_no'))
    op.drop_table('complaint_actions')

    # Complaints taken by phone have no complainant; the old schema wants one.
    op.execute("UPDATE complaints SET user_hash = '' WHERE user_hash IS NULL")
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_post_due_at'))
        batch_op.drop_index(batch_op.f('ix_complaints_accept_by'))
        batch_op.alter_column('user_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('post_due_at')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('accepted_name')
        batch_op.drop_column('accepted_by')
        batch_op.drop_column('accept_by')
        batch_op.drop_column('level')
        batch_op.drop_column('language')
        batch_op.drop_column('user_cipher')
