"""The hospital information systems allowed to use /fhir."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime


class HisClientRow(Base):
    """A hospital information system allowed to use /fhir, known by a SHA-256 of its bearer
    token: the table alone does not let anyone in."""

    __tablename__ = "his_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(28), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
