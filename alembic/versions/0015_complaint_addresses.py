"""complaint addresses: a keyed hash of the network address a web chat complaint came from, so
that complaints are capped per address as well as per account (issue 15)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Earlier complaints have none: they count only per account.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_complaints_address_hash'), ['address_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_address_hash'))
        batch_op.drop_column('address_hash')
