"""booking requests: the booking each patient's message made, so that the same message come
again after a crash (its answer lost) gets that booking's receipt

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('booking_requests',
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_booking_requests_appointment_id_appointments')),
    sa.PrimaryKeyConstraint('request_hash', name=op.f('pk_booking_requests'))
    )
    with op.batch_alter_table('booking_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_requests_made_at'), ['made_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('booking_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_requests_made_at'))

    op.drop_table('booking_requests')
