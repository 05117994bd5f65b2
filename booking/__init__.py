"""The booking domain, one subpackage per hospital concept, each above the ones it uses:

    catalogue/     what the hospital offers: hospitals, departments, doctors, sessions, places
    staff/         back-office accounts, sign-ins, the audit log, the booking and error logs
    patients/      real-name patients, registration, chat accounts, SMS codes, the blacklist
    appointments/  booking, cancelling, transferring, the waitlist, attendance, notices, the desk
    roster/        doctors' records and weekly duties, the sessions generated from them
    complaints/    complaints and what staff do with them
    his/           the hospital information system as a client
    reports/       statistics
    files/         the formats of files the hospital hands us

Each holds its model (types and pure rules), its port (``ports.py``: repositories and the unit
of work its use cases need) and its use cases: plain async functions taking a unit of work.
Pure Python; ``booking.store`` is the only place that knows about SQLAlchemy, and only the
composition root (bot) opens it. ``pyproject.toml``'s import-linter contracts keep the layers.
"""
