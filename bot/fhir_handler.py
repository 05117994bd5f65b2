"""What /fhir (channels.fhir_api) does in the hospital: the booking read models and use cases
behind each FHIR interaction, their answers as channels.fhir's records, the booking rules'
refusals as the channel's FhirError, and every access audited as "his:NAME"."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from booking.appointments.model import AppointmentStatus
from booking.catalogue.schedule import PlaceStatus
from booking.clock import Clock
from booking.errors import (
    AlreadyBooked,
    BookingError,
    InvalidInput,
    NotFound,
    PlaceTaken,
    SlotFull,
    TryAgain,
    WrongStatus,
)
from booking.his.booking import book_from_his, booked_already, change_status_from_his
from booking.his.clients import bad_token, client_for, his_actor
from booking.his.ports import PlaceFilter
from booking.his.reads import TooMany, appointments, doctor_cards, schedules, slots
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.fhir_records import appointment_record, doctor_record, schedule_record, slot_record
from channels.fhir import AppointmentRecord, DoctorRecord, ScheduleRecord, SlotRecord
from channels.fhir_api import Handlers
from channels.fhir_handler import (
    AppointmentQuery,
    Booked,
    Caller,
    FhirError,
    FhirHandler,
    Interaction,
    PractitionerQuery,
    ScheduleQuery,
    SlotQuery,
)
from channels.fhir_in import BookingRequest

log = logging.getLogger(__name__)
# A refusal by the booking rules: 409 when the place or booking is not as the client thought
# (another took it), 422 when the rule itself refuses (window, blacklist, quota, stop…).
_CONFLICTS = (SlotFull, PlaceTaken, WrongStatus)
ACTIONS: dict[Interaction, str] = {
    "read": audit.HIS_READ,
    "search": audit.HIS_SEARCH,
    "create": audit.HIS_BOOK,
    "update": audit.HIS_UPDATE,
}


class FhirServices(Protocol):
    """What /fhir needs from the application, once it has started."""

    @property
    def uows(self) -> UnitOfWorkFactory[HospitalWork]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def protector(self) -> Protector: ...


def refusal_of(error: BookingError) -> FhirError:
    if isinstance(error, NotFound):
        return FhirError(404, "not-found", error.message, error.reason)
    if isinstance(error, _CONFLICTS):
        return FhirError(409, "conflict", error.message, error.reason)
    if isinstance(error, TooMany):
        return FhirError(400, "too-costly", error.message, error.reason)
    if isinstance(error, TryAgain):
        return FhirError(503, "transient", error.message, error.reason)
    if isinstance(error, InvalidInput):
        return FhirError(422, "invalid", error.message, error.reason)
    return FhirError(422, "business-rule", error.message, error.reason)


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except BookingError as error:
        raise refusal_of(error) from None


P = ParamSpec("P")
R = TypeVar("R")


def _refused_as_fhir(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with _refusals():
            return await method(*args, **kwargs)

    return wrapped


def _log_failure(action: str, error: Exception) -> None:
    """Where it failed, without the exception's message: a validation error quotes its
    input, which may be a patient's name or ID number (no personal data in the logs)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames[-4:]))
    log.error("/fhir %s failed: %s at %s", action, type(error).__name__, where)


class HisHandler(FhirHandler):
    """The FHIR handler on one running application's services."""

    def __init__(self, services: FhirServices) -> None:
        self.s = services

    def _actor(self, caller: Caller) -> Actor:
        return his_actor(caller.client, caller.address)

    async def _audit(
        self, caller: Caller, action: str, target: str | None, after: dict[str, Any] | None = None
    ) -> None:
        entry = self._actor(caller).did(self.s.clock.now(), action, target, None, after)
        await audit.record(self.s.uows, entry)

    def now(self) -> datetime:
        return self.s.clock.now()

    async def client(self, bearer: str | None) -> str | None:
        found = await client_for(self.s.uows, bearer)
        return None if found is None else found.name

    async def refused_token(
        self, bearer: str | None, address: str | None, *, throttled: bool
    ) -> None:
        """Counted on one entry per address and kind (booking.staff.audit.record_repeated)."""
        await bad_token(self.s.uows, self.s.clock, bearer, address, throttled=throttled)

    @_refused_as_fhir
    async def practitioners(self, query: PractitionerQuery) -> list[DoctorRecord]:
        cards = await doctor_cards(self.s.uows, work_no=query.work_no, name=query.name)
        return [doctor_record(c) for c in cards]

    @_refused_as_fhir
    async def schedules(self, query: ScheduleQuery) -> list[ScheduleRecord]:
        views = await schedules(
            self.s.uows, doctor=query.doctor, date_from=query.date_from, date_to=query.date_to
        )
        return [schedule_record(v) for v in views]

    @_refused_as_fhir
    async def slots(self, query: SlotQuery) -> tuple[list[SlotRecord], int]:
        statuses = query.statuses
        f = PlaceFilter(
            hospital_code=query.hospital_code,
            doctor_work_no=query.doctor_work_no,
            date_from=query.date_from,
            date_to=query.date_to,
            statuses=tuple(PlaceStatus(v) for v in statuses) if statuses else None,
            offset=query.offset,
            limit=query.limit,
        )
        found, total = await slots(self.s.uows, f)
        return [slot_record(v) for v in found], total

    @_refused_as_fhir
    async def appointments(self, query: AppointmentQuery) -> list[AppointmentRecord]:
        statuses = query.statuses
        try:
            views = await appointments(
                self.s.uows,
                self.s.protector,
                id_number=query.id_number,
                booking_no=query.booking_no,
                date_from=query.date_from,
                date_to=query.date_to,
                statuses=tuple(AppointmentStatus(v) for v in statuses) if statuses else None,
            )
        except InvalidInput as error:  # e.g. an ID number with a wrong check digit
            raise FhirError(400, "invalid", error.message, "invalid_resource") from None
        return [appointment_record(v) for v in views]

    @_refused_as_fhir
    async def practitioner(self, hospital_code: str, work_no: str) -> DoctorRecord | None:
        for card in await doctor_cards(self.s.uows, work_no=work_no):
            if card.hospital.code == hospital_code:
                return doctor_record(card)
        return None

    @_refused_as_fhir
    async def schedule(self, hospital_code: str, work_no: str) -> ScheduleRecord | None:
        for view in await schedules(self.s.uows, doctor=(hospital_code, work_no)):
            return schedule_record(view)
        return None

    @_refused_as_fhir
    async def slot(self, session_id: int, queue_no: int) -> SlotRecord | None:
        f = PlaceFilter(session_id=session_id, queue_no=queue_no, limit=1)
        found, _ = await slots(self.s.uows, f)
        return slot_record(found[0]) if found else None

    @_refused_as_fhir
    async def appointment(self, booking_no: str) -> AppointmentRecord | None:
        views = await appointments(self.s.uows, self.s.protector, booking_no=booking_no)
        return appointment_record(views[0]) if views else None

    @_refused_as_fhir
    async def book(
        self, caller: Caller, wanted: BookingRequest, session_id: int, queue_no: int
    ) -> Booked:
        s = self.s
        try:
            receipt = await book_from_his(
                s.uows, s.protector, s.clock, self._actor(caller), name=wanted.name,
                id_number=wanted.id_number, phone=wanted.phone,
                session_id=session_id, queue_no=queue_no,
            )  # fmt: skip
        except AlreadyBooked:  # the same request again, its answer lost: not an error
            earlier = await booked_already(
                s.uows, s.protector, wanted.id_number, session_id, queue_no
            )
            if earlier is None:
                raise
            target = f"Appointment/{earlier.booking_no}"
            await self._audit(caller, audit.HIS_READ, target, {"repeated_create": True})
            return Booked(earlier.booking_no, created=False)
        return Booked(receipt.appointment.booking_no, created=True)

    @_refused_as_fhir
    async def change_status(
        self, caller: Caller, booking_no: str, status: str, target: str
    ) -> None:
        wanted = AppointmentStatus(status)
        found = await appointments(self.s.uows, self.s.protector, booking_no=booking_no)
        if not found:
            raise NotFound("no booking with this number", what="booking")
        if found[0].status is not wanted:  # audited by the change itself
            actor = self._actor(caller)
            await change_status_from_his(self.s.uows, self.s.clock, actor, booking_no, wanted)
        else:  # nothing to change, but the access is audited all the same
            after = {"status": wanted.value, "changed": False}
            await self._audit(caller, audit.HIS_UPDATE, target, after)

    @_refused_as_fhir
    async def searched(self, caller: Caller, kind: str, params: list[str], found: int) -> None:
        await self._audit(caller, audit.HIS_SEARCH, kind, {"params": params, "count": found})

    @_refused_as_fhir
    async def was_read(self, caller: Caller, target: str) -> None:
        await self._audit(caller, audit.HIS_READ, target)

    async def refused(
        self,
        caller: Caller,
        interaction: Interaction,
        target: str | None,
        refusal: FhirError,
        failure: Exception | None,
    ) -> None:
        action = ACTIONS[interaction]
        if failure is not None:
            _log_failure(action, failure)
        after = {"reason": refusal.reason, "status": refusal.status, "action": action}
        try:
            await self._audit(caller, audit.HIS_REFUSED, target, after)
        except Exception:  # the database is down: the answer still goes out
            log.error("/fhir: could not audit a refusal (%s)", refusal.reason)


def his_handlers(services: Callable[[], FhirServices | None]) -> Handlers:
    """The handler of the running application's services (none while it starts)."""

    def handler() -> FhirHandler | None:
        s = services()
        return None if s is None else HisHandler(s)

    return handler
