"""The waitlists (候补) in memory: one place in a session's line per patient, first come first
offered."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from booking.appointments.model import IN_LINE, NewWaitlistEntry, WaitlistEntry, WaitStatus
from tests.fakes.memory.state import State, Unfinished


class MemoryWaitlist(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, entry: NewWaitlistEntry, now: datetime) -> int | None:
        for e in self.state.waitlist.values():
            in_line = e.status in IN_LINE
            if in_line and (e.session_id, e.patient_id) == (entry.session_id, entry.patient_id):
                return None
        added = WaitlistEntry(
            id=self.state.new_id(),
            session_id=entry.session_id,
            patient_id=entry.patient_id,
            account_id=entry.account_id,
            channel=entry.channel,
            status=WaitStatus.WAITING,
            joined_at=now,
            closes_at=entry.closes_at,
        )
        self.state.waitlist[added.id] = added
        return added.id

    async def position(self, entry_id: int) -> int:
        mine = self.state.waitlist[entry_id]
        return sum(
            e.session_id == mine.session_id and e.status in IN_LINE and e.id <= entry_id
            for e in self.state.waitlist.values()
        )

    async def get(self, entry_id: int, *, lock: bool = False) -> WaitlistEntry | None:
        return self.state.waitlist.get(entry_id)

    async def first_waiting(self, session_id: int) -> WaitlistEntry | None:
        waiting = [
            e
            for e in self.state.waitlist.values()
            if e.session_id == session_id and e.status is WaitStatus.WAITING
        ]
        return min(waiting, key=lambda e: e.id, default=None)

    async def offer(
        self, entry_id: int, queue_no: int, expires_at: datetime, now: datetime
    ) -> bool:
        entry = self.state.waitlist.get(entry_id)
        if entry is None or entry.status is not WaitStatus.WAITING:
            return False
        self.state.waitlist[entry_id] = replace(
            entry, status=WaitStatus.OFFERED, queue_no=queue_no, offer_expires_at=expires_at
        )
        return True

    async def finish(
        self,
        entry_id: int,
        status: WaitStatus,
        now: datetime,
        expected: tuple[WaitStatus, ...],
        booking_no: str | None = None,
    ) -> bool:
        entry = self.state.waitlist.get(entry_id)
        if entry is None or entry.status not in expected:
            return False
        self.state.waitlist[entry_id] = replace(entry, status=status, booking_no=booking_no)
        return True

    async def close_session(self, session_id: int, now: datetime) -> list[WaitlistEntry]:
        closed = []
        for entry in list(self.state.waitlist.values()):
            if entry.session_id == session_id and entry.status in IN_LINE:
                closed.append(replace(entry, status=WaitStatus.CLOSED))
                self.state.waitlist[entry.id] = closed[-1]
        return closed
