"""候补: patients waiting for full sessions (the place held for an offer is in `queue_no`)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 02:20:29.935321
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('waitlist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queue_no', sa.Integer(), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booking_no', sa.String(length=20), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_waitlist_account_id_accounts')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_waitlist_patient_id_patients')),
    sa.ForeignKeyConstraint(['session_id'], ['clinic_sessions.id'], name=op.f('fk_waitlist_session_id_clinic_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist'))
    )

    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_waitlist_session_status', ['session_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_waitlist_status_closes', ['status', 'closes_at'], unique=False)
        batch_op.create_index('ix_waitlist_status_expires', ['status', 'offer_expires_at'], unique=False)
        batch_op.create_index('uq_waitlist_session_patient_in_line', ['session_id', 'patient_id'], unique=True, sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))



def downgrade() -> None:
    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_session_patient_in_line', sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))
        batch_op.drop_index('ix_waitlist_status_expires')
        batch_op.drop_index('ix_waitlist_status_closes')
        batch_op.drop_index('ix_waitlist_session_status')
        batch_op.drop_index(batch_op.f('ix_waitlist_patient_id'))

    op.drop_table('waitlist')
