"""phone codes: every one-time SMS code, to prove a number being registered or to add a
patient, in one table keyed by the phone it went to, for limits per phone and per account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

The link codes of the last day are carried over (with their patient's registered phone), so
that the limits still count them; a code lives five minutes, so one sent just before the
upgrade may have to be asked for again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('phone_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_phone_codes_account_id_accounts')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_phone_codes_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes'))
    )
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.create_index('ix_phone_codes_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_codes_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_phone_codes_phone_created', ['phone_hash', 'created_at'], unique=False)

    op.execute(
        "INSERT INTO phone_codes "
        "(account_id, phone_hash, patient_id, code_hash, expires_at, tries, created_at) "
        "SELECT l.account_id, p.phone_hash, l.patient_id, l.code_hash, l.expires_at, l.tries, "
        "l.created_at FROM link_codes l JOIN patients p ON p.id = l.patient_id "
        "ORDER BY l.id"
    )
    op.drop_table('link_codes')


def downgrade() -> None:
    op.create_table('link_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_link_codes_account_id_accounts')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_link_codes_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_codes'))
    )
    with op.batch_alter_table('link_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_codes_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_link_codes_patient_created', ['patient_id', 'created_at'], unique=False)

    op.execute(
        "INSERT INTO link_codes (account_id, patient_id, code_hash, expires_at, tries, created_at) "
        "SELECT account_id, patient_id, code_hash, expires_at, tries, created_at "
        "FROM phone_codes WHERE patient_id IS NOT NULL ORDER BY id"
    )
    op.drop_table('phone_codes')
