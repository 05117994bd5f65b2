"""The catalogue's port: the hospitals, departments and doctors, and the clinic sessions with
their places."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from booking.catalogue.model import Catalogue, Department, Hospital, Part
from booking.catalogue.schedule import ClinicSession, PlaceStatus, PlannedSession
from booking.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ImportReport:
    hospitals: int = 0
    departments: int = 0
    doctors: int = 0
    templates: int = 0


@dataclass(frozen=True)
class SessionFilter:
    hospital_code: str | None = None
    department_code: str | None = None
    doctor_work_nos: tuple[str, ...] | None = None
    date_from: date | None = None
    date_to: date | None = None
    part: Part | None = None
    open_only: bool = True


@dataclass(frozen=True)
class SessionAvailability:
    session: ClinicSession
    free: int  # places still free whose time is ahead


@dataclass(frozen=True)
class ClaimedPlace:
    place_id: int
    queue_no: int
    starts_at: datetime
    ends_at: datetime


class CatalogueRepository(Protocol):
    async def load(self) -> Catalogue: ...
    async def hospital_and_department(
        self, hospital_code: str, department_code: str
    ) -> tuple[Hospital, Department] | None: ...
    async def upsert(self, catalogue: Catalogue) -> ImportReport: ...


class SessionRepository(Protocol):
    async def ensure(
        self,
        hospital_code: str,
        doctor_work_no: str,
        planned: list[PlannedSession],
        now: datetime,
    ) -> int: ...
    async def get(self, session_id: int, *, for_booking: bool = False) -> ClinicSession | None: ...
    async def find(
        self, hospital_code: str | None, doctor_work_no: str, visit_date: date, part: Part
    ) -> list[ClinicSession]: ...
    async def search(self, f: SessionFilter, after: datetime) -> list[SessionAvailability]: ...
    async def free_places(self, session_id: int, after: datetime) -> int: ...
    async def claim_place(
        self, session_id: int, after: datetime, queue_no: int | None
    ) -> ClaimedPlace | None: ...
    async def place_times(self, session_id: int, queue_no: int) -> ClaimedPlace | None: ...
    async def set_place(
        self, session_id: int, queue_no: int, was: PlaceStatus, becomes: PlaceStatus
    ) -> bool:
        """Changes a place's status only if it still is `was`."""
        ...

    async def hold_free_place(self, session_id: int, after: datetime) -> ClaimedPlace | None:
        """The first free place (starting after `after`) held for a waitlist offer."""
        ...

    async def stop(self, session_id: int, reason: str) -> bool: ...
    async def withdraw_places(self, session_id: int) -> None: ...
    async def busy_places(self, session_id: int) -> int: ...


class CatalogueWork(UnitOfWork, Protocol):
    """What catalogue use cases work with; each concept above extends it."""

    catalogue: CatalogueRepository
    sessions: SessionRepository
