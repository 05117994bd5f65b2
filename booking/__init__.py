"""The booking domain: the hospital's catalogue and schedule, real-name patients and bookings.

Pure Python at its core; ``booking.store`` is the only place that knows about SQLAlchemy.
Use cases are plain async functions that take a unit of work (see ``booking.ports``).
"""
