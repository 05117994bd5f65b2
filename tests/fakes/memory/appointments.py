"""The appointments' repositories in memory: booking in one go, the bookings, their notices
and the waitlists (候补)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from booking.appointments.model import (
    ACTIVE,
    Appointment,
    AppointmentStatus,
    QuotaUse,
)
from booking.appointments.notices import NewNotice, NoticeKind, NoticeStatus
from booking.appointments.ports import BookingContext, TakenPlace
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import ClinicSession, PlaceStatus
from booking.errors import BookingNumberTaken
from tests.fakes.memory.catalogue import MemorySessions
from tests.fakes.memory.state import Booked, LogLine, State, StoredNotice, Unfinished

WITHDRAWN = "withdrawn"


def quota_uses(state: State, patient_id: int, first: date, last: date) -> list[QuotaUse]:
    return [
        QuotaUse(a.visit_date, a.department_code, a.session_id, a.id)
        for a in (b.appointment for b in state.appointments.values())
        if a.patient_id == patient_id and first <= a.visit_date <= last and a.status in ACTIVE
    ]


class MemoryBookings:
    def __init__(self, state: State, sessions: MemorySessions) -> None:
        self.state = state
        self.sessions = sessions

    async def context(
        self, session_id: int, patient_id: int, after: datetime, horizon: tuple[date, date]
    ) -> BookingContext | None:
        s = self.state
        session = s.sessions.get(session_id)
        if session is None:
            return None
        patient = s.patients.get(patient_id)
        return BookingContext(
            session=session,
            hospital=s.hospitals[session.hospital_code],
            department=s.departments[(session.hospital_code, session.department_code)],
            free=await self.sessions.free_places(session_id, after),
            patient_found=patient is not None,
            patient_born=None if patient is None else patient.birth_date,
            bans=[] if patient is None else [
                b.entry for b in s.bans if b.entry.id_hash == patient.id_hash
            ],
            uses=quota_uses(s, patient_id, *horizon),
        )  # fmt: skip

    async def take(
        self,
        *,
        session: ClinicSession,
        patient_id: int,
        account_id: int | None,
        channel: str,
        after: datetime,
        queue_no: int | None,
        booking_no: str,
        now: datetime,
    ) -> TakenPlace | None:
        place = self.sessions.take_free(session.id, after, queue_no, PlaceStatus.BUSY)
        if place is None:
            return None
        if any(b.appointment.booking_no == booking_no for b in self.state.appointments.values()):
            # The SQL's statement fails as a whole; here the unit of work is left uncommitted.
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        appointment = Appointment(
            id=self.state.new_id(),
            booking_no=booking_no,
            patient_id=patient_id,
            account_id=account_id,
            channel=channel,
            session_id=session.id,
            department_code=session.department_code,
            visit_date=session.visit_date,
            queue_no=place.queue_no,
            status=AppointmentStatus.BOOKED,
            registration_fee_fen=session.registration_fee_fen,
            consultation_fee_fen=session.consultation_fee_fen,
            created_at=now,
        )
        self.state.appointments[appointment.id] = Booked(appointment, updated_at=now)
        detail = {"session_id": session.id, "queue_no": place.queue_no, "channel": channel}
        self.state.booking_log.append(LogLine(now, "booked", booking_no, detail))
        return TakenPlace(appointment.id, place)


class MemoryAppointments(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def get(self, booking_no: str) -> Appointment | None:
        for booked in self.state.appointments.values():
            if booked.appointment.booking_no == booking_no:
                return booked.appointment
        return None

    async def made_for(self, request: str) -> str | None:
        appointment_id = self.state.requests.get(request)
        if appointment_id is None:
            return None
        return self.state.appointments[appointment_id].appointment.booking_no

    async def remember_request(self, request: str, appointment_id: int, now: datetime) -> None:
        self.state.requests[request] = appointment_id

    async def quota_uses(self, patient_id: int, first: date, last: date) -> list[QuotaUse]:
        return quota_uses(self.state, patient_id, first, last)

    async def set_status(
        self,
        appointment_id: int,
        status: AppointmentStatus,
        now: datetime,
        *,
        expected: tuple[AppointmentStatus, ...] = (AppointmentStatus.BOOKED,),
        place: tuple[int, int] | None = None,
        cancel_reason: str | None = None,
        refund_due: bool = False,
    ) -> bool:
        booked = self.state.appointments.get(appointment_id)
        if booked is None or booked.appointment.status not in expected:
            return False
        a = booked.appointment
        if place is not None and (a.session_id, a.queue_no) != place:
            return False
        booked = replace(booked, appointment=replace(a, status=status), updated_at=now)
        if status is AppointmentStatus.CANCELLED:
            booked = replace(
                booked, cancelled_at=now, cancel_reason=cancel_reason, refund_due=refund_due
            )
        self.state.appointments[appointment_id] = booked
        return True

    async def move(
        self,
        appointment_id: int,
        from_session_id: int,
        session: ClinicSession,
        place: ClaimedPlace,
        now: datetime,
    ) -> bool:
        booked = self.state.appointments.get(appointment_id)
        if booked is None:
            return False
        a = booked.appointment
        if a.session_id != from_session_id or a.status is not AppointmentStatus.BOOKED:
            return False
        self.state.appointments[appointment_id] = replace(
            booked, appointment=_placed(a, session, place), updated_at=now
        )
        return True

    async def reinstate(
        self, appointment_id: int, session: ClinicSession, place: ClaimedPlace, now: datetime
    ) -> bool:
        booked = self.state.appointments.get(appointment_id)
        if (
            booked is None
            or booked.appointment.status is not AppointmentStatus.CANCELLED
            or booked.cancel_reason != "hospital_stop"
            or not booked.refund_due
        ):
            return False
        a = replace(booked.appointment, status=AppointmentStatus.BOOKED)
        self.state.appointments[appointment_id] = Booked(_placed(a, session, place), updated_at=now)
        return True

    async def holding_places(self, session_id: int) -> list[Appointment]:
        held = [
            b.appointment
            for b in self.state.appointments.values()
            if b.appointment.session_id == session_id and b.appointment.status in ACTIVE
        ]
        return sorted(held, key=lambda a: a.queue_no)

    async def unattended(self, ended_before: datetime, limit: int) -> list[str]:
        late = [
            b.appointment
            for b in self.state.appointments.values()
            if b.appointment.status is AppointmentStatus.BOOKED
            and self.state.sessions[b.appointment.session_id].ends_at < ended_before
        ]
        return [a.booking_no for a in sorted(late, key=lambda a: a.id)[:limit]]

    async def noshows_since(self, patient_id: int, since: date) -> int:
        return sum(
            b.appointment.patient_id == patient_id
            and b.appointment.status is AppointmentStatus.NOSHOW
            and b.appointment.visit_date >= since
            for b in self.state.appointments.values()
        )


def _placed(a: Appointment, session: ClinicSession, place: ClaimedPlace) -> Appointment:
    return replace(
        a,
        session_id=session.id,
        department_code=session.department_code,
        visit_date=session.visit_date,
        queue_no=place.queue_no,
        registration_fee_fen=session.registration_fee_fen,
        consultation_fee_fen=session.consultation_fee_fen,
    )


class MemoryNotices(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, notices: list[NewNotice], now: datetime) -> None:
        for notice in notices:
            old = self.state.notices.get(notice.key)
            # A reminder withdrawn when its booking moved away is due again when it moves back.
            if old is None or (old.status is NoticeStatus.VOID and old.last_error == WITHDRAWN):
                self.state.notices[notice.key] = StoredNotice(
                    old.id if old else self.state.new_id(), notice
                )

    async def withdraw(self, appointment_id: int, kinds: tuple[NoticeKind, ...]) -> None:
        for key, stored in self.state.notices.items():
            n = stored.notice
            if (
                n.appointment_id == appointment_id
                and stored.status is NoticeStatus.PENDING
                and n.kind in kinds
            ):
                self.state.notices[key] = replace(
                    stored, status=NoticeStatus.VOID, last_error=WITHDRAWN
                )

    async def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stored in self.state.notices.values():
            counts[stored.status.value] = counts.get(stored.status.value, 0) + 1
        return counts
