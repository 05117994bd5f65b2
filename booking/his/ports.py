"""The port the HIS interface needs: its clients (known by a hash of their bearer token) and
the places of the schedule as FHIR Slots read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from booking.catalogue.schedule import ClinicSession, PlaceStatus
from booking.roster.ports import RosterWork


@dataclass(frozen=True)
class HisClient:
    """A hospital information system allowed to use /fhir. Only a hash of its token is kept."""

    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class PlaceFilter:
    hospital_code: str | None = None
    doctor_work_no: str | None = None
    session_id: int | None = None
    queue_no: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[PlaceStatus, ...] | None = None
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class PlaceView:
    """One place (queue number) of a session: what a FHIR Slot is."""

    session: ClinicSession
    queue_no: int
    starts_at: datetime
    ends_at: datetime
    status: PlaceStatus


@dataclass(frozen=True)
class Horizon:
    """The first and last visit dates a doctor holds sessions on."""

    hospital_code: str
    doctor_work_no: str
    first: date
    last: date


class HisRepository(Protocol):
    async def add_client(self, name: str, token_hash: str, now: datetime) -> HisClient | None:
        """None when the name is in use (revoked names stay taken, for the audit log)."""
        ...

    async def client_by_token(self, token_hash: str) -> HisClient | None: ...
    async def clients(self) -> list[HisClient]: ...
    async def revoke(self, name: str, now: datetime) -> bool: ...
    async def places(self, f: PlaceFilter) -> list[PlaceView]:
        """Ordered by visit date, session and queue number; ``limit`` from ``offset``."""
        ...

    async def count_places(self, f: PlaceFilter) -> int:
        """How many places match, whatever ``offset`` and ``limit`` say."""
        ...

    async def horizons(self) -> list[Horizon]: ...


class HisWork(RosterWork, Protocol):
    his: HisRepository
