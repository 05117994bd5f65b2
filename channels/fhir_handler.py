"""What /fhir (channels.fhir_api) asks of the application, in neutral terms: the searches as
plain queries, the reads by key, booking and status changes, and the audit of each access.
The application implements `FhirHandler` (bot.fhir_handler) and answers in the records of
channels.fhir; a refusal it raises is a `FhirError`, answered as an OperationOutcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from channels.fhir import AppointmentRecord, DoctorRecord, ScheduleRecord, SlotRecord
from channels.fhir_in import BookingRequest

# What a request does, for the audit log and the log of failures.
Interaction = Literal["read", "search", "create", "update"]


class FhirError(Exception):
    """A refusal: the HTTP status, the OperationOutcome's issue code and text, and the
    machine-readable reason the audit log keeps."""

    def __init__(self, status: int, code: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reason = status, code, message, reason


@dataclass(frozen=True)
class Caller:
    """A HIS client whose bearer token was accepted, and the address it called from."""

    client: str
    address: str | None


@dataclass(frozen=True)
class PractitionerQuery:
    work_no: str | None
    name: str | None


@dataclass(frozen=True)
class ScheduleQuery:
    doctor: tuple[str, str] | None  # hospital code, work number
    date_from: date | None
    date_to: date | None


@dataclass(frozen=True)
class SlotQuery:
    """Paged by the application (places are many): `offset`, at most `limit`."""

    hospital_code: str | None
    doctor_work_no: str | None
    date_from: date | None
    date_to: date | None
    statuses: tuple[str, ...] | None  # FHIR slot statuses
    offset: int
    limit: int


@dataclass(frozen=True)
class AppointmentQuery:
    id_number: str | None
    booking_no: str | None
    date_from: date | None
    date_to: date | None
    statuses: tuple[str, ...] | None  # FHIR appointment statuses


@dataclass(frozen=True)
class Booked:
    booking_no: str
    created: bool  # False: the same request again (its answer lost), the earlier booking


class FhirHandler(Protocol):
    """The application behind /fhir, once it has started. Domain refusals are raised as
    FhirError; anything else is answered 500 and handed to `refused` with the failure."""

    def now(self) -> datetime: ...

    async def client(self, bearer: str | None) -> str | None:
        """The name of the active HIS client holding this token; None: refused."""
        ...

    async def refused_token(
        self, bearer: str | None, address: str | None, *, throttled: bool
    ) -> None: ...

    async def practitioners(self, query: PractitionerQuery) -> list[DoctorRecord]: ...
    async def schedules(self, query: ScheduleQuery) -> list[ScheduleRecord]: ...

    async def slots(self, query: SlotQuery) -> tuple[list[SlotRecord], int]:
        """One page of places, and the number of every match."""
        ...

    async def appointments(self, query: AppointmentQuery) -> list[AppointmentRecord]: ...
    async def practitioner(self, hospital_code: str, work_no: str) -> DoctorRecord | None: ...
    async def schedule(self, hospital_code: str, work_no: str) -> ScheduleRecord | None: ...
    async def slot(self, session_id: int, queue_no: int) -> SlotRecord | None: ...
    async def appointment(self, booking_no: str) -> AppointmentRecord | None: ...

    async def book(
        self, caller: Caller, wanted: BookingRequest, session_id: int, queue_no: int
    ) -> Booked: ...

    async def change_status(
        self, caller: Caller, booking_no: str, status: str, target: str
    ) -> None:
        """Audited, with `target`, also when the booking has that status already."""
        ...

    async def searched(self, caller: Caller, kind: str, params: list[str], found: int) -> None:
        """Audits a search: the names of its parameters and the number of resources sent."""
        ...

    async def was_read(self, caller: Caller, target: str) -> None: ...

    async def refused(
        self,
        caller: Caller,
        interaction: Interaction,
        target: str | None,
        refusal: FhirError,
        failure: Exception | None,
    ) -> None:
        """Audits a refused request; `failure`: the unexpected error behind a 500. Never
        raises (the answer goes out all the same)."""
        ...


Params = dict[str, list[str]]
Resource = dict[str, Any]
