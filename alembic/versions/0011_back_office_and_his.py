"""The back office and the HIS: blacklist syncs and masked hospital entries, removed
(anonymised) patients, and the HIS clients allowed to use /fhir

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 05:54:28.841786
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('blacklist_syncs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('failure', sa.String(length=32), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_syncs'))
    )
    with op.batch_alter_table('blacklist_syncs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blacklist_syncs_at'), ['at'], unique=False)

    op.create_table('his_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=28), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_his_clients')),
    sa.UniqueConstraint('name', name=op.f('uq_his_clients_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_his_clients_token_hash'))
    )
    # The hospital's list names a person once; keep the oldest entry of any repeated one
    # before the unique index (entries loaded before syncs existed could repeat).
    op.execute(
        "DELETE FROM blacklist WHERE source = 'hospital' AND id NOT IN "
        "(SELECT MIN(id) FROM blacklist WHERE source = 'hospital' GROUP BY id_hash)"
    )
    with op.batch_alter_table('blacklist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_masked', sa.String(length=24), server_default='', nullable=False))
        batch_op.create_index('uq_blacklist_hospital_id_hash', ['id_hash'], unique=True, sqlite_where=sa.text("source = 'hospital'"), postgresql_where=sa.text("source = 'hospital'"))

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))

def downgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('removed_at')

    with op.batch_alter_table('blacklist', schema=None) as batch_op:
        batch_op.drop_index('uq_blacklist_hospital_id_hash', sqlite_where=sa.text("source = 'hospital'"), postgresql_where=sa.text("source = 'hospital'"))
        batch_op.drop_column('id_masked')

    op.drop_table('his_clients')
    with op.batch_alter_table('blacklist_syncs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blacklist_syncs_at'))

    op.drop_table('blacklist_syncs')
