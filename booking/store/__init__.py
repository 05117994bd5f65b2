"""Storage of the booking domain on SQLAlchemy (SQLite or PostgreSQL)."""

from booking.store.database import Database, SqlUnitOfWork
from booking.store.migrations import create_schema, drop_schema, upgrade

__all__ = ["Database", "SqlUnitOfWork", "create_schema", "drop_schema", "upgrade"]
