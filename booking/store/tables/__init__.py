"""The database rows, one module per concept. Only ``booking.store`` knows they exist.

Importing this package registers every table on ``Base.metadata`` (each row module is imported
here), so that the schema is whole wherever it is built or compared: ``create_schema``, Alembic's
``env.py`` and the test that checks the migrations against the rows. Code that uses rows imports
them from their concept's module (``booking.store.tables.appointments``...)."""

from booking.store.tables import (
    appointments,
    catalogue,
    complaints,
    conversations,
    his,
    logs,
    notices,
    patients,
    staff,
)
from booking.store.tables.base import Base

__all__ = [
    "Base",
    "appointments",
    "catalogue",
    "complaints",
    "conversations",
    "his",
    "logs",
    "notices",
    "patients",
    "staff",
]
