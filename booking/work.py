"""The whole unit of work: every repository of every concept, as ``booking.store`` provides it
and the application holds it."""

from __future__ import annotations

from typing import Protocol

from booking.complaints.ports import ComplaintWork
from booking.his.ports import HisWork
from booking.reports.ports import ReportWork


class HospitalWork(HisWork, ComplaintWork, ReportWork, Protocol):
    pass
