"""The staff web console and its JSON API: schedules, bookings, blacklist, reports, audit.

`backoffice.router(...)` is the console as one APIRouter; the application passes it what it
needs (the database, the clock, the protector of personal data, the password hasher)."""

from backoffice.passwords import Argon2Passwords
from backoffice.routes import router

__all__ = ["Argon2Passwords", "router"]
