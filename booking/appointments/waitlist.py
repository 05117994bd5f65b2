"""候补 (R8): patients wait in line for a full session; a place that comes free is held for
the first in line, who has a while (30 minutes by default) to take it before it passes on.

A freed place never becomes free for everyone while someone waits: the cancellation that frees
it holds it (FHIR slot status busy-tentative) for the first in line, in its own transaction.
Holding a place is claiming it, so a waitlist can never overbook. A line closes at 23:00 the day
before the visit: nobody joins after, no new offer is made, and those still waiting are told.
"""

from __future__ import annotations

from datetime import datetime

from booking.appointments.book import (
    BookingReceipt,
    book_in,
    check_bookable,
    check_patient_may_book,
    made_by,
    where_held,
)
from booking.appointments.model import (
    IN_LINE,
    NewWaitlistEntry,
    Waiting,
    WaitingView,
    WaitlistEntry,
    WaitStatus,
)
from booking.appointments.ports import AppointmentWork
from booking.appointments.waitlist_offers import pass_on_place
from booking.catalogue.schedule import PlaceStatus
from booking.clock import Clock
from booking.errors import (
    AlreadyWaiting,
    BookingError,
    BookingNumberTaken,
    NotFound,
    NotFull,
    OfferGone,
    TryAgain,
    WaitlistClosed,
)
from booking.unit_of_work import UnitOfWorkFactory


async def join_waitlist(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    *,
    patient_id: int,
    session_id: int,
    channel: str,
    account: tuple[str, str],
    address: str | None = None,
) -> Waiting:
    """Join a full session's line, under the same rules as booking it (bans, quotas, one
    place per session); raises NotFull when a place can simply be booked."""
    now = clock.now()
    async with uows() as uow:
        session = await uow.sessions.get(session_id)
        if session is None:
            raise NotFound("no such session", what="session")
        hospital, department = await where_held(uow, session)
        check_bookable(session, hospital, department, now)
        closes_at = hospital.policy.waitlist_closing(session.visit_date, hospital.timezone)
        if now >= closes_at:
            raise WaitlistClosed(
                "this session's waitlist has closed", closes_at=closes_at.isoformat()
            )
        acct = await uow.patients.account(account[0], account[1], now)
        if not await uow.patients.is_linked(acct.id, patient_id):
            raise NotFound("no such patient", what="patient")
        await check_patient_may_book(uow, hospital, department, patient_id, session, now)
        if await uow.sessions.free_places(session_id, now) > 0:
            raise NotFull("this session still has places to book", session_id=session_id)
        if address is not None:
            await uow.patients.set_address(acct.id, address)
        entry_id = await uow.waitlist.add(
            NewWaitlistEntry(session_id, patient_id, acct.id, channel, closes_at), now
        )
        if entry_id is None:
            raise AlreadyWaiting("this patient is already waiting for this session")
        position = await uow.waitlist.position(entry_id)
        await uow.logs.booking_event(
            now, "waitlist_joined", None, {"session_id": session_id, "position": position}
        )
        await uow.commit()
    return Waiting(entry_id, position, session, closes_at, hospital.policy.waitlist_offer_minutes)


async def leave_waitlist(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    entry_id: int,
    *,
    account: tuple[str, str],
) -> None:
    """The patient no longer waits; a place held for them passes on."""
    await _let_go(uows, clock, entry_id, account, WaitStatus.LEFT)


async def decline_offer(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    entry_id: int,
    *,
    account: tuple[str, str],
) -> None:
    await _let_go(uows, clock, entry_id, account, WaitStatus.DECLINED)


async def accept_offer(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    entry_id: int,
    *,
    account: tuple[str, str],
    address: str | None = None,
    request: str | None = None,
) -> BookingReceipt:
    """Book the place held for the patient, under every rule a booking obeys. When the
    patient can no longer book it (a ban, a quota filled meanwhile), the place passes on.
    ``request``: as for booking.appointments.book.book: the same request again gets the same
    receipt."""
    for _ in range(3):
        try:
            return await _accept(uows, clock, entry_id, account, address, request)
        except BookingNumberTaken:
            continue  # nothing was saved: again with a fresh number
        except (NotFound, OfferGone, TryAgain):
            raise  # nothing changed: the offer stands (TryAgain: ask again)
        except BookingError:
            # A rule of the patient's (a ban, a quota filled meanwhile): passed on.
            await _let_go(uows, clock, entry_id, account, WaitStatus.DECLINED, quietly=True)
            raise
    raise TryAgain("the booking system is busy, please try again")


async def _accept(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    entry_id: int,
    account: tuple[str, str],
    address: str | None,
    request: str | None,
) -> BookingReceipt:
    now = clock.now()
    async with uows() as uow:
        # The session first (shared), then the entry, then its place: the order of a stop,
        # so that a stop and a patient taking an offer never wait on each other in a circle.
        unlocked = await uow.waitlist.get(entry_id)
        if unlocked is not None:
            await uow.sessions.get(unlocked.session_id, for_booking=True)
        entry = await _owned(uow, entry_id, account, now)
        if entry.status is WaitStatus.BOOKED and request is not None:
            # Taken by this very request, whose answer was lost in a crash: its receipt.
            made = await made_by(uow, request, entry.patient_id, entry.session_id)
            if made is not None:
                return made
        expires = entry.offer_expires_at
        if entry.status is not WaitStatus.OFFERED or expires is None or now >= expires:
            raise OfferGone("this offer is no longer open", status=entry.status.value)
        assert entry.queue_no is not None  # an offer always holds a place
        # The held place is freed and booked in one transaction: nobody else can see it free.
        if not await uow.sessions.set_place(
            entry.session_id, entry.queue_no, PlaceStatus.BUSY_TENTATIVE, PlaceStatus.FREE
        ):
            raise OfferGone("this offer is no longer open", status="withdrawn")
        receipt = await book_in(
            uow,
            now,
            patient_id=entry.patient_id,
            session_id=entry.session_id,
            channel=entry.channel,
            account=account,
            queue_no=entry.queue_no,
            address=address,
            request=request,
        )
        await uow.waitlist.finish(
            entry.id, WaitStatus.BOOKED, now, (WaitStatus.OFFERED,),
            booking_no=receipt.appointment.booking_no,
        )  # fmt: skip
        await uow.logs.booking_event(
            now, "waitlist_booked", receipt.appointment.booking_no,
            {"session_id": entry.session_id, "queue_no": entry.queue_no},
        )  # fmt: skip
        await uow.commit()
    return receipt


async def _let_go(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    entry_id: int,
    account: tuple[str, str],
    status: WaitStatus,
    *,
    quietly: bool = False,
) -> None:
    now = clock.now()
    async with uows() as uow:
        try:
            entry = await _owned(uow, entry_id, account, now)
        except NotFound:
            if quietly:
                return
            raise
        if entry.status not in IN_LINE:
            if quietly:
                return
            raise OfferGone("no longer waiting", status=entry.status.value)
        await uow.waitlist.finish(entry.id, status, now, IN_LINE)
        if entry.status is WaitStatus.OFFERED and entry.queue_no is not None:
            session = await uow.sessions.get(entry.session_id)
            assert session is not None
            hospital, _ = await where_held(uow, session)
            await pass_on_place(uow, session, hospital, entry.queue_no, now, held=True)
        await uow.logs.booking_event(
            now, f"waitlist_{status.value}", None, {"session_id": entry.session_id}
        )
        await uow.commit()


async def waiting_of_account(
    uows: UnitOfWorkFactory[AppointmentWork], channel: str, user_hash: str
) -> list[WaitingView]:
    """The lines this account's patients are in (read-only: asking must not create one)."""
    async with uows(readonly=True) as uow:
        return await uow.waitlist.of_account(channel, user_hash)


async def _owned(
    uow: AppointmentWork, entry_id: int, account: tuple[str, str], now: datetime
) -> WaitlistEntry:
    entry = await uow.waitlist.get(entry_id, lock=True)
    if entry is not None:
        acct = await uow.patients.account(account[0], account[1], now)
        if entry.account_id == acct.id or await uow.patients.is_linked(acct.id, entry.patient_id):
            return entry
    # Told as "not found", so that other patients' entries cannot be probed.
    raise NotFound("no such waitlist entry", what="waitlist")
