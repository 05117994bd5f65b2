"""Never overbook (issue 2, item 6): a Hypothesis state machine books, cancels (退号),
transfers (转号), stops sessions (停诊), marks arrivals and no-shows, blacklists and moves the
clock, in random order, through the real use cases on a real database: SQLite and PostgreSQL.

A small model says what the hospital should look like. Every step must agree with it: a
refusal must give a reason the model finds applies (SlotFull only when no place is left,
PlaceTaken when another one is, QuotaExceeded only past a quota, …), whatever the model allows
must go through with the queue number it expects, and a no-show bans exactly when it should.
After every step the database itself is checked: busy places never exceed capacity and equal
the active appointments of every open session, no patient holds two places in one session,
queue numbers are unique, every patient's quotas hold (default policy), stopped sessions keep
no booked or arrived appointment, and the bookings stored are exactly the model's. A place
given back (by a cancellation or a transfer) has a rule of its own that books it again, and
must succeed whenever the model sees no other reason to refuse.

Reminders and lines (issue 14): most bookings are made with the patient's chat account. A
booking moves back and forth (A → B → A by 转号); one a 停诊 cancelled moves on with the
one-press transfer, back into the session it was first booked in, too. Full sessions get
lines (候补): a place freed is held for the first in line, who takes it, lets it go, leaves, or
lets the offer lapse while the clock moves on, and the background round does (and counts)
exactly what the model expects. After every step the lines and the places held for them
are the model's, and the notices table gives each live chat booking exactly the reminders
of its current place that were still ahead when it took that place (the evening before at
20:00, two hours before its time), once each and saying where and when, and no pending
reminder to a cancelled booking or for a session the booking has left. The model works out
which reminders are due from the rule (booking_model.reminders_due), not from the code.

The catalogue is small so that sessions fill up and quotas bite: one hospital, internal
medicine and surgery with two doctors each, a laboratory that takes no bookings, 13 sessions
of 2 or 3 places from Monday 23 November 2026 (the clock starts at 09:00, with Monday
morning's session under way, and moves on by hours up to Thursday morning) to Tuesday
1 December (outside the 7-day window until 07:00 on Tuesday 24), and six patients, one of
whom missed two appointments a fortnight ago. Each example gets a database of its own: a copy
of a populated SQLite file, or a fresh PostgreSQL schema.

``pytest --hypothesis-show-statistics`` tells how often each use case succeeded or was
refused, and for which reason.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from booking.appointments.attendance import mark_arrived, mark_noshow
from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session, transfer, transfer_stopped
from booking.appointments.model import WaitStatus
from booking.appointments.notices import NoticeStatus
from booking.appointments.waitlist import (
    accept_offer,
    decline_offer,
    join_waitlist,
    leave_waitlist,
)
from booking.appointments.waitlist_offers import tend_waitlists
from booking.catalogue.schedule import PlaceStatus, SessionStatus
from booking.clock import FixedClock
from booking.errors import BookingError, OfferGone, PastDeadline, WrongStatus
from booking.files.blacklist import read_list
from booking.patients.blacklist import sync_file
from booking.patients.model import BlacklistEntry, BlacklistSource, ListFile, SyncOrigin, SyncStatus
from booking.protect import Protector
from booking.staff.audit import COMMAND_LINE
from booking.store import Database
from tests.integration import booking_tables as tables
from tests.integration.booking_model import (
    ARRIVED,
    BOOKED,
    CANCELLED,
    IN_LINE,
    LATEST,
    NOSHOW,
    OFFER_LASTS,
    OFFERED,
    PAST,
    PATIENTS,
    POLICY,
    TZ,
    WAITING,
    Ban,
    BookingModel,
    EntryModel,
    HospitalModel,
    Refusals,
    SessionModel,
    local_today,
    names,
    quota_breaches,
    reminders_due,
)
from tests.integration.booking_tables import StoredReminder
from tests.support import MONDAY_9AM, SECRET, id_number, postgres_database, sqlite_database

UPLOAD = SyncOrigin.UPLOAD
T = TypeVar("T")
BUSY, FREE, WITHDRAWN = PlaceStatus.BUSY, PlaceStatus.FREE, PlaceStatus.BUSY_UNAVAILABLE
HELD = PlaceStatus.BUSY_TENTATIVE
PENDING, SENT = NoticeStatus.PENDING, NoticeStatus.SENT
SESSION = st.sampled_from(range(PAST[0]))  # the rules draw among this week's sessions
# 张伟 books about half of the time, so that one patient meets the quotas and the ban. (No
# one_of here nor below: each alternative costs the shrinker whole runs of the machine.)
PATIENT = st.integers(1 - len(PATIENTS), len(PATIENTS) - 1).map(lambda n: max(n, 0))
# Mostly with the patient's chat account, so that the booking has reminders; a shrunk
# example books without one (as at the desk) unless the reminders matter.
CHAT = st.integers(0, 3).map(bool)
# Who, where, which queue number if the patient asks for one (4 is never there), and how; a
# shrunk example books the first free place.
QUEUE_NO = st.integers(-4, 4).map(lambda n: n if n > 0 else None)
BOOKING = st.tuples(PATIENT, SESSION, QUEUE_NO, CHAT)
# The model, each patient's id and ID number's hash, chat account and its id.
State = tuple[HospitalModel, list[int], list[str], list[tuple[str, str]], list[int]]


class BookingMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FixedClock(MONDAY_9AM)
        self.protector = Protector(SECRET)
        self.model = HospitalModel(self.clock)
        self.patient_ids: list[int] = []
        self.patient_hashes: list[str] = []
        self.accounts: list[tuple[str, str]] = []
        self.account_ids: list[int] = []
        self.resources = AsyncExitStack()  # closed in teardown, last in first out
        try:
            self.db = self.run(self.fresh_database())
        except BaseException:
            self.teardown()
            raise

    async def fresh_database(self) -> Database:
        """A database of its own for this example, populated, with the model to match."""
        raise NotImplementedError

    def teardown(self) -> None:
        try:
            self.run(self.resources.aclose())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def state(self) -> State:
        return (self.model, self.patient_ids, self.patient_hashes, self.accounts, self.account_ids)

    async def populate(self, db: Database) -> None:
        """The catalogue, this week's sessions, the patients and 张伟's history."""
        self.db = db
        now = self.clock.now()
        self.model.sessions = await tables.open_sessions(db, now)
        patients = await tables.register_patients(db, self.protector, self.clock)
        self.patient_ids, self.patient_hashes, self.accounts, self.account_ids = patients
        # 张伟's two no-shows of a fortnight ago, through the use cases at the time.
        self.clock.set(MONDAY_9AM - timedelta(days=14))
        for index in PAST:
            past = self.model.sessions[index]
            receipt = await book(
                self.db,
                self.clock,
                patient_id=self.patient_ids[0],
                session_id=past.id,
                channel="sms",
            )
            self.model.bookings[receipt.appointment.booking_no] = BookingModel(0, past, 1, NOSHOW)
        self.clock.set(MONDAY_9AM - timedelta(days=12))
        for booking_no in self.model.bookings:
            assert await mark_noshow(self.db, self.clock, booking_no) is None
        self.clock.set(MONDAY_9AM)

    def now(self) -> datetime:
        return self.clock.now()

    def attempt(
        self, kind: str, coro: Coroutine[Any, Any, T], refusals: Refusals, what: str
    ) -> T | None:
        """Run a use case; a refusal must be one the model expects, and nothing else may fail.
        The outcomes show up in ``pytest --hypothesis-show-statistics``."""
        try:
            result = self.run(coro)
        except BookingError as exc:
            assert type(exc) in refusals, (
                f"{kind} {what}: refused with {type(exc).__name__} ({exc.message}); "
                f"the model expected {names(refusals) if refusals else 'success'}"
            )
            event(f"{kind}: {type(exc).__name__}")
            return None
        assert not refusals, f"{kind} {what}: done; the model expected one of {names(refusals)}"
        event(f"{kind}: done")
        return result

    # ---- the rules -------------------------------------------------------------------------

    def _book(
        self, kind: str, patient: int, index: int, queue_no: int | None, chat: bool
    ) -> str | None:
        """Book with the patient's chat account (reminders go there) or without one."""
        s = self.model.sessions[index]
        refusals = self.model.book_refusals(patient, s, queue_no)
        expected_queue_no = queue_no or min(self.model.free_places(s), default=0)
        receipt = self.attempt(
            kind,
            book(
                self.db,
                self.clock,
                patient_id=self.patient_ids[patient],
                session_id=s.id,
                channel="telegram" if chat else "sms",
                account=self.accounts[patient] if chat else None,
                queue_no=queue_no,
            ),
            refusals,
            f"patient {patient} into session {index} (queue no {queue_no}, chat {chat})",
        )
        if receipt is None:
            return None
        appointment = receipt.appointment
        assert appointment.queue_no == receipt.place.queue_no == expected_queue_no, (
            f"{kind}: got queue no {appointment.queue_no}, the model expected {expected_queue_no}"
        )
        assert (appointment.session_id, appointment.status) == (s.id, BOOKED)
        assert appointment.patient_id == self.patient_ids[patient]
        self.model.bookings[appointment.booking_no] = BookingModel(
            patient, s, appointment.queue_no, chat=chat, placed_at=self.now(), history=[s]
        )
        return appointment.booking_no

    @initialize(target=bookings, attempts=st.lists(BOOKING, min_size=2, max_size=8))
    def morning_rush(self, attempts: list[tuple[int, int, int | None, bool]]) -> Any:
        """Bookings to start from, whichever rules Hypothesis leaves out of an example."""
        return self.book_places(attempts)

    @rule(target=bookings, attempts=st.lists(BOOKING, min_size=1, max_size=4))
    def book_places(self, attempts: list[tuple[int, int, int | None, bool]]) -> Any:
        """A few bookings in a row, so that sessions fill up and quotas bite."""
        booked = [self._book("book", *attempt) for attempt in attempts]
        return multiple(*(no for no in booked if no is not None))

    @precondition(lambda self: bool(self.model.places_given_back()))
    @rule(
        target=bookings,
        pick=st.integers(0, 1000),
        patient=st.integers(0, len(PATIENTS) - 1),
        chat=CHAT,
    )
    def book_place_given_back(self, pick: int, patient: int, chat: bool) -> Any:
        """A place given back (cancelled, or left by a transfer) can be booked again, by its
        queue number, by a patient the model sees no reason to refuse (when there is one)."""
        places = self.model.places_given_back()
        index, queue_no = places[pick % len(places)]
        s = self.model.sessions[index]
        allowed = [p for p in range(len(PATIENTS)) if not self.model.book_refusals(p, s, queue_no)]
        if allowed:
            patient = allowed[patient % len(allowed)]
        booked = self._book("rebook", patient, index, queue_no, chat)
        return multiple() if booked is None else multiple(booked)

    def choose(
        self, drawn: str, pick: int, anyone: int, wanted: Callable[[BookingModel], bool]
    ) -> str:
        """Mostly a booking the rule can act on, so that refusals do not crowd out the rest;
        now and then (``anyone`` = 0) whichever booking was drawn."""
        # In booking order: the booking numbers are random, and Hypothesis needs every run of
        # an example to make the same choices.
        candidates = [no for no, b in self.model.bookings.items() if wanted(b)]
        return candidates[pick % len(candidates)] if anyone and candidates else drawn

    @rule(booking=bookings, pick=st.integers(0, 1000), anyone=st.integers(0, 2))
    def cancel_booking(self, booking: str, pick: int, anyone: int) -> None:
        """退号, mostly of a booking whose place someone waits for when there is one (the
        place is then held for the first in line), else of any booking that can be
        cancelled; now and then of whichever booking was drawn."""
        waited_for = {e.session.id for e in self.model.entries if e.status is WAITING}
        if any(
            b.status == BOOKED and b.session.id in waited_for for b in self.model.bookings.values()
        ):
            booking = self.choose(
                booking, pick, anyone, lambda b: b.status == BOOKED and b.session.id in waited_for
            )
        else:
            booking = self.choose(booking, pick, anyone, lambda b: b.status == BOOKED)
        b = self.model.bookings[booking]
        refusals = self.model.cancel_refusals(b)
        what = self.model.describe(booking)
        account = self.accounts[b.patient] if b.chat else None  # else by staff, as at the desk
        cancelling = cancel(self.db, self.clock, booking, account=account)
        done = self.attempt("cancel", cancelling, refusals, what)
        if done is not None:
            assert done.booking_no == booking
            b.status = CANCELLED
            self.model.given_back.add((self.model.sessions.index(b.session), b.queue_no))
            if self.model.pass_on(b.session, b.queue_no) is not None:
                event("cancel: the place is offered to the first in line")

    @rule(
        booking=bookings,
        pick=st.integers(0, 1000),
        anyone=st.integers(0, 2),
        to=SESSION,
        anywhere=st.integers(0, 4),
    )
    def transfer_booking(
        self, booking: str, pick: int, anyone: int, to: int, anywhere: int
    ) -> None:
        """Mostly to another session of the same department; now and then to any session."""
        booking = self.choose(booking, pick, anyone, lambda b: b.status == BOOKED)
        current = self.model.bookings[booking].session
        same = [
            s
            for s in self.model.sessions
            if s.department == current.department and s is not current
        ]
        target = self.model.sessions[to] if anywhere == 0 or not same else same[to % len(same)]
        self._transfer(booking, target)

    @precondition(
        lambda self: any(
            b.status == BOOKED and b.earlier_sessions() for b in self.model.bookings.values()
        )
    )
    @rule(booking=bookings, pick=st.integers(0, 1000), anyone=st.integers(0, 2), back=SESSION)
    def transfer_back(self, booking: str, pick: int, anyone: int, back: int) -> None:
        """转号 back to a session the booking was on before (A → B → A): it takes a place
        there again, with the reminders of that place (issue 14, class 3)."""
        booking = self.choose(
            booking, pick, anyone, lambda b: b.status == BOOKED and bool(b.earlier_sessions())
        )
        b = self.model.bookings[booking]
        earlier = b.earlier_sessions() or [b.session]  # none: "already in this session"
        self._transfer(booking, earlier[back % len(earlier)])

    def _transfer(self, booking: str, target: SessionModel) -> None:
        """转号 by the patient, in chat for a chat booking (by staff for a desk booking)."""
        b = self.model.bookings[booking]
        current = b.session
        refusals = self.model.transfer_refusals(b, target)
        free = self.model.free_places(target)
        account = self.accounts[b.patient] if b.chat else None
        receipt = self.attempt(
            "transfer",
            transfer(self.db, self.clock, booking, target.id, account=account),
            refusals,
            f"{self.model.describe(booking)} to session {self.model.sessions.index(target)}",
        )
        if receipt is None:
            return
        assert receipt.to_session.id == target.id
        assert receipt.place.queue_no == free[0], f"transfer: got {receipt.place}, not {free[0]}"
        if any(s is target for s in b.history):
            event("transfer: back to a session it was on before")
        self.model.given_back.add((self.model.sessions.index(current), b.queue_no))
        if self.model.pass_on(current, b.queue_no) is not None:
            event("transfer: the place left is offered to the first in line")
        b.session, b.queue_no, b.placed_at = target, free[0], self.now()
        b.history.append(target)

    @precondition(lambda self: sum(s.stopped for s in self.model.sessions) < 2)
    @rule(pick=SESSION, anywhere=st.integers(0, 3))
    def stop(self, pick: int, anywhere: int) -> None:
        """停诊, mostly of a session with bookings (checked in or not) to cancel; at most two
        per run, so that there is something left to book."""
        busy = [
            s
            for s in self.model.sessions
            if any(b.status in (BOOKED, ARRIVED) for b in self.model.holders(s).values())
        ]
        # Now and then one a booking was moved into, so that its move after the stop can take
        # it back where it was.
        moved_in = [
            s for s in busy if any(len(b.history) > 1 for b in self.model.holders(s).values())
        ]
        if anywhere >= 2 and moved_in:
            busy = moved_in
        s = self.model.sessions[pick] if anywhere == 0 or not busy else busy[pick % len(busy)]
        index = self.model.sessions.index(s)
        refusals: Refusals = {WrongStatus} if s.stopped else set()
        cancelled = self.attempt(
            "stop",
            stop_session(self.db, self.clock, s.id, "医生临时停诊"),
            refusals,
            f"session {index}",
        )
        if cancelled is None:
            return
        expected = {
            no
            for no, b in self.model.bookings.items()
            if b.session is s and b.status in (BOOKED, ARRIVED)
        }
        got = {a.booking_no for a in cancelled}
        assert got == expected, f"stop session {index} cancelled {got}; the model: {expected}"
        for no in expected:
            self.model.bookings[no].status = CANCELLED
            self.model.bookings[no].stopped_off = True
        s.stopped = True
        self.model.stop_line(s)

    @precondition(lambda self: any(s.stopped for s in self.model.sessions))
    @rule(
        booking=bookings,
        pick=st.integers(0, 1000),
        anyone=st.integers(0, 2),
        to=SESSION,
        how=st.integers(0, 3),
    )
    def transfer_stopped_booking(
        self, booking: str, pick: int, anyone: int, to: int, how: int
    ) -> None:
        """停诊's one-press transfer, by the patient in chat: a booking the hospital stopped
        takes a place in another session of its department, mostly one it was on before
        (back into the session it was first booked in), else any of its department; now and
        then (``how`` = 0) any session."""
        back = how >= 2

        def movable(b: BookingModel) -> bool:
            return b.stopped_off and (not back or any(not s.stopped for s in b.earlier_sessions()))

        booking = self.choose(booking, pick, anyone, movable)
        b = self.model.bookings[booking]
        stopped = b.session
        earlier = [s for s in b.earlier_sessions() if not s.stopped]
        same = [s for s in self.model.sessions if s.department == stopped.department]
        same = [s for s in same if s is not stopped]
        if how == 0 or not same:
            target = self.model.sessions[to]
        elif back and earlier:
            target = earlier[to % len(earlier)]
        else:
            target = same[to % len(same)]
        refusals = self.model.stopped_transfer_refusals(b, target)
        free = self.model.free_places(target)
        receipt = self.attempt(
            "transfer stopped",
            transfer_stopped(
                self.db, self.clock, booking, target.id, account=self.accounts[b.patient]
            ),
            refusals,
            f"{self.model.describe(booking)} to session {self.model.sessions.index(target)}",
        )
        if receipt is None:
            return
        appointment = receipt.appointment
        assert (appointment.booking_no, appointment.status) == (booking, BOOKED)
        assert receipt.place.queue_no == free[0], f"got {receipt.place}, not {free[0]}"
        if any(s is target for s in b.history):
            event("transfer stopped: back to a session it was on before")
        b.status, b.stopped_off = BOOKED, False
        b.session, b.queue_no, b.placed_at = target, free[0], self.now()
        b.history.append(target)

    # ---- 候补: lines for full sessions ----------------------------------------------------

    @rule(target=bookings, pick=SESSION, chat=CHAT, crowd=st.integers(0, 2))
    def fill_session(self, pick: int, chat: bool, crowd: int) -> Any:
        """A popular session (one that takes bookings, when there is one): patients the model
        sees no reason to refuse take every place left, and up to ``crowd`` more join its
        line."""
        bookable = [
            s
            for s in self.model.sessions
            if self.model.free_places(s) and not self.model.session_refusals(s)
        ]
        s = bookable[pick % len(bookable)] if bookable else self.model.sessions[pick]
        index = self.model.sessions.index(s)
        turns = [(pick + n) % len(PATIENTS) for n in range(len(PATIENTS))]
        booked = []
        for patient in turns:
            if self.model.free_places(s) and not self.model.book_refusals(patient, s, None):
                booked.append(self._book("fill", patient, index, None, chat))
        for patient in [p for p in turns if not self.model.join_refusals(p, s)][:crowd]:
            self._join(patient, s)
        return multiple(*(no for no in booked if no is not None))

    @rule(patient=st.integers(0, len(PATIENTS) - 1), pick=SESSION, anywhere=st.integers(0, 3))
    def join_line(self, patient: int, pick: int, anywhere: int) -> None:
        """候补, in chat: mostly the line of a full session that takes patients, by a patient
        the model sees no reason to refuse; now and then (``anywhere`` = 0) any session's
        line, by whoever was drawn."""
        open_lines = [
            s
            for s in self.model.sessions
            if not self.model.free_places(s)
            and not self.model.session_refusals(s)
            and self.now() < s.line_closes_at
        ]
        if anywhere == 0 or not open_lines:
            s = self.model.sessions[pick]
        else:
            s = open_lines[pick % len(open_lines)]
            allowed = [p for p in range(len(PATIENTS)) if not self.model.join_refusals(p, s)]
            patient = allowed[patient % len(allowed)] if allowed else patient
        self._join(patient, s)

    def _join(self, patient: int, s: SessionModel) -> None:
        waiting = self.attempt(
            "join line",
            join_waitlist(
                self.db,
                self.clock,
                patient_id=self.patient_ids[patient],
                session_id=s.id,
                channel="telegram",
                account=self.accounts[patient],
            ),
            self.model.join_refusals(patient, s),
            f"patient {patient} for session {self.model.sessions.index(s)}",
        )
        if waiting is None:
            return
        entry = EntryModel(waiting.entry_id, patient, s)
        self.model.entries.append(entry)
        position = self.model.position(entry)
        assert waiting.position == position, f"join: position {waiting.position}, not {position}"

    def choose_entry(self, pick: int, anyone: int, *statuses: WaitStatus) -> EntryModel:
        """Mostly an entry the rule can act on (in one of ``statuses``); now and then
        (``anyone`` = 0) any entry."""
        candidates = [e for e in self.model.entries if e.status in statuses]
        if not anyone or not candidates:
            candidates = self.model.entries
        return candidates[pick % len(candidates)]

    def describe_entry(self, entry: EntryModel) -> str:
        where = self.model.sessions.index(entry.session)
        return f"{entry.status} entry {entry.id} (patient {entry.patient}, session {where})"

    @precondition(lambda self: any(e.status in IN_LINE for e in self.model.entries))
    @rule(later=st.booleans())
    def waitlist_round(self, later: bool) -> None:
        """The background round: offers not taken in time lapse and pass on, free places go
        to whoever waits, lines past their closing close; it does (and counts) exactly what
        the model expects. It runs now, or (``later``) once the 30 minutes an offer made now
        would stand have passed, to the minute."""
        if later and self.now() < LATEST:
            self.clock.advance(OFFER_LASTS)
        expected = self.model.tend()
        tended = self.run(tend_waitlists(self.db, self.clock))
        got = (tended.offered, tended.lapsed, tended.closed)
        assert got == expected, f"round: (offered, lapsed, closed) {got}, the model {expected}"
        event(f"waitlist round: {'lapsed' if tended.lapsed else 'nothing lapsed'}")

    @precondition(lambda self: any(e.status is OFFERED for e in self.model.entries))
    @rule(target=bookings, pick=st.integers(0, 1000), anyone=st.integers(0, 3))
    def take_offer(self, pick: int, anyone: int) -> Any:
        """The first in line takes the place held for them, in chat: it is booked under every
        rule of booking, else it passes on."""
        entry = self.choose_entry(pick, anyone, OFFERED)
        refusals = self.model.accept_refusals(entry)
        what = self.describe_entry(entry)
        account = self.accounts[entry.patient]
        receipt = self.attempt(
            "take offer",
            accept_offer(self.db, self.clock, entry.id, account=account),
            refusals,
            what,
        )
        if receipt is None:
            if OfferGone not in refusals:  # a rule of the patient's: the place passes on
                self.model.let_go(entry, WaitStatus.DECLINED)
            return multiple()
        appointment = receipt.appointment
        assert entry.queue_no is not None
        assert (appointment.session_id, appointment.queue_no) == (entry.session.id, entry.queue_no)
        assert appointment.patient_id == self.patient_ids[entry.patient]
        entry.status, entry.booking_no = WaitStatus.BOOKED, appointment.booking_no
        self.model.bookings[appointment.booking_no] = BookingModel(
            entry.patient,
            entry.session,
            entry.queue_no,
            chat=True,
            placed_at=self.now(),
            history=[entry.session],
        )
        return multiple(appointment.booking_no)

    @precondition(lambda self: any(e.status in IN_LINE for e in self.model.entries))
    @rule(pick=st.integers(0, 1000), anyone=st.integers(0, 3), leave=st.booleans())
    def let_offer_go(self, pick: int, anyone: int, leave: bool) -> None:
        """The patient declines the offer (or, ``leave``, leaves the line, offered or still
        waiting); a place held for them passes on."""
        if leave:
            entry = self.choose_entry(pick, anyone, *IN_LINE)
            use_case, status, kind = leave_waitlist, WaitStatus.LEFT, "leave line"
        else:
            entry = self.choose_entry(pick, anyone, OFFERED)
            use_case, status, kind = decline_offer, WaitStatus.DECLINED, "decline offer"
        refusals: Refusals = set() if entry.status in IN_LINE else {OfferGone}
        account = self.accounts[entry.patient]
        done = self.attempt(
            kind,
            self.let_go_of(use_case, entry.id, account),
            refusals,
            self.describe_entry(entry),
        )
        if done is not None:
            if entry.status is OFFERED:
                event(f"{kind}: an offer")
            self.model.let_go(entry, status)

    async def let_go_of(
        self, use_case: Callable[..., Coroutine[Any, Any, None]], entry_id: int, account: Any
    ) -> bool:
        """``attempt`` takes None for a refusal; these use cases return None when done."""
        await use_case(self.db, self.clock, entry_id, account=account)
        return True

    @rule(booking=bookings, pick=st.integers(0, 1000), anyone=st.integers(0, 2))
    def arrive(self, booking: str, pick: int, anyone: int) -> None:
        """Check-in: mostly of someone booked for today, now and then of any booking."""
        today = local_today(self.now())
        booking = self.choose(
            booking, pick, anyone, lambda b: b.status == BOOKED and b.session.visit_date == today
        )
        b = self.model.bookings[booking]
        refusals: Refusals = set()
        if today != b.session.visit_date:
            refusals.add(PastDeadline)
        if b.status != BOOKED:
            refusals.add(WrongStatus)
        what = self.model.describe(booking)
        arrived = self.attempt("arrive", mark_arrived(self.db, self.clock, booking), refusals, what)
        if arrived is not None:
            b.status = ARRIVED

    @rule(booking=bookings, pick=st.integers(0, 1000), anyone=st.integers(0, 2))
    def no_show(self, booking: str, pick: int, anyone: int) -> None:
        self._no_show(self.choose(booking, pick, anyone, lambda b: b.status == BOOKED))

    @precondition(lambda self: any(b.status == BOOKED for b in self.model.bookings.values()))
    @rule()
    def no_shows_of_the_day(self) -> None:
        """The desk marks every booking of a session that has begun, and not checked in, as
        a no-show; this is how patients reach the ban."""
        for booking, b in list(self.model.bookings.items()):
            if b.status == BOOKED and b.session.starts_at <= self.now():
                self._no_show(booking)

    def _no_show(self, booking: str) -> None:
        """After 3 no-shows within 90 days the patient is banned for 90 days."""
        b = self.model.bookings[booking]
        refusals: Refusals = set()
        if self.now() < b.session.starts_at:
            refusals.add(PastDeadline)
        if b.status != BOOKED:
            refusals.add(WrongStatus)

        async def noshow() -> tuple[BlacklistEntry | None]:
            return (await mark_noshow(self.db, self.clock, booking),)

        what = self.model.describe(booking)
        outcome = self.attempt("no-show", noshow(), refusals, what)
        if outcome is None:
            return
        (ban,) = outcome
        b.status = NOSHOW
        today = local_today(self.now())
        since = today - timedelta(days=POLICY.noshow_lookback_days)
        noshows = sum(
            x.patient == b.patient and x.status == NOSHOW and x.session.visit_date >= since
            for x in self.model.bookings.values()
        )
        # A ban from the hospital's list does not stand in for the no-show ban: it may end sooner.
        expect_ban = noshows >= POLICY.noshow_ban_threshold and not self.model.banned(
            b.patient, BlacklistSource.NOSHOW
        )
        assert (ban is not None) == expect_ban, f"no-show {what}: ban {ban}, {noshows} no-shows"
        if ban is not None:
            event("no-show: patient banned")
            until = today + timedelta(days=POLICY.noshow_ban_days)
            assert (ban.starts_on, ban.until) == (today, until)
            self.model.bans[b.patient].append(Ban(BlacklistSource.NOSHOW, ban.starts_on, until))

    @precondition(lambda self: sum(map(len, self.model.bans.values())) < 2)
    @rule(patient=st.integers(0, len(PATIENTS) - 1), days=st.integers(0, 2))
    def hospital_blacklists(self, patient: int, days: int) -> None:
        """The hospital's list, synchronised as staff upload it: this patient on it from today
        for ``days`` more days (replacing their earlier line), with everyone listed before."""
        today = local_today(self.now())
        self.model.listed[patient] = (today, today + timedelta(days=days))
        lines = ["身份证号,原因,开始日期,结束日期"] + [
            f"{id_number(n + 1)},医院黑名单,{start},{until}"
            for n, (start, until) in sorted(self.model.listed.items())
        ]
        file = ListFile("\n".join(lines).encode())
        report = self.run(
            sync_file(
                self.db,
                self.clock,
                self.protector,
                file,
                origin=UPLOAD,
                read=read_list,
                actor=COMMAND_LINE,
            )
        )
        assert report.status is SyncStatus.APPLIED, report
        bans = self.model.bans[patient]
        bans[:] = [b for b in bans if b.source is not BlacklistSource.HOSPITAL]
        bans.append(Ban(BlacklistSource.HOSPITAL, today, today + timedelta(days=days)))

    @precondition(lambda self: self.clock.now() < LATEST)
    @rule(hours=st.sampled_from([1, 2, 5, 11, 22]))
    def advance_clock(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    # ---- the invariants --------------------------------------------------------------------

    @invariant()
    def database_never_overbooks(self) -> None:
        views, availability, places = self.run(tables.snapshot(self.db, self.protector, self.now()))
        active = [v for v in views if v.status != CANCELLED]
        for s in self.model.sessions:
            held = [v for v in active if v.session_id == s.id]
            queue_nos = [v.queue_no for v in held]
            patients = [v.patient_name for v in held]
            where = f"session {self.model.sessions.index(s)}"
            busy, withdrawn = places[s.id, BUSY], places[s.id, WITHDRAWN]
            for_line = places[s.id, HELD]  # held for the first in line
            total = busy + withdrawn + for_line + places[s.id, FREE]
            assert total == s.capacity, f"{where}: {total} places for {s.capacity}"
            assert busy <= s.capacity, f"{where}: {busy} busy of {s.capacity}"
            assert len(set(queue_nos)) == len(queue_nos), f"{where}: queue nos {queue_nos}"
            assert set(queue_nos) <= set(s.place_starts), f"{where}: queue nos {queue_nos}"
            assert len(set(patients)) == len(patients), f"{where}: patients {patients}"
            free = availability[s.id].free
            if availability[s.id].session.status is SessionStatus.OPEN:
                assert not s.stopped, f"{where} is open again"
                assert (busy, withdrawn) == (len(held), 0), f"{where}: {busy} busy, {held=}"
                offers = self.model.offers(s)
                assert for_line == len(offers), f"{where}: {for_line} held for {offers}"
                assert free == len(self.model.free_places(s)), f"{where}: {free} free places"
            else:
                assert s.stopped, f"{where} stopped unasked"
                kept = [v.booking_no for v in held if v.status in (BOOKED, ARRIVED)]
                assert not kept, f"{where} is stopped but keeps bookings {kept}"
                assert (withdrawn, free) == (s.capacity, 0), f"{where}: stopped, {places=}"
        by_patient: dict[str, list[tuple[date, str]]] = defaultdict(list)
        for v in active:
            by_patient[v.patient_name].append((v.visit_date, v.department_code))
        for name, uses in by_patient.items():
            assert not quota_breaches(uses), f"{name}: {quota_breaches(uses)}"
        # And the database holds exactly the bookings the model expects.
        index = {s.id: i for i, s in enumerate(self.model.sessions)}
        stored = {
            v.booking_no: (v.status, index[v.session_id], v.queue_no, v.patient_name, v.visit_date)
            for v in views
        }
        expected = {
            no: (
                b.status,
                index[b.session.id],
                b.queue_no,
                PATIENTS[b.patient],
                b.session.visit_date,
            )
            for no, b in self.model.bookings.items()
        }
        differ = {no: (stored.get(no), expected.get(no)) for no in stored.keys() | expected.keys()}
        assert stored == expected, {no: d for no, d in differ.items() if d[0] != d[1]}

    @invariant()
    def lines_are_the_models(self) -> None:
        """候补: the lines hold exactly the model's entries, and a place is held
        (busy-tentative) for each offer that stands, and for nothing else."""
        entries, held = self.run(tables.lines(self.db))
        expected = [
            (e.id, e.session.id, self.patient_ids[e.patient], e.status, e.queue_no, e.booking_no)
            for e in self.model.entries
        ]
        differ = [
            (got, wanted) for got, wanted in zip(entries, expected, strict=False) if got != wanted
        ]
        assert entries == expected, f"lines: (stored, the model's) {differ or (entries, expected)}"
        offered = {(e.session.id, e.queue_no) for e in self.model.entries if e.status is OFFERED}
        assert held == offered, f"places held {held}, offers {offered}"

    @invariant()
    def every_live_booking_has_its_reminders(self) -> None:
        """Issue 14: a live chat booking has, for its current place, exactly the reminders
        that were still ahead when it took that place (pending, or sent), each once and
        saying where and when; no reminder is pending twice, nor for a cancelled booking, nor
        for a session the booking no longer holds; a booking without an account has none.
        (No dispatcher runs here, so a reminder stays pending once written; the check allows
        for one that was sent.)"""
        of: dict[str, list[StoredReminder]] = defaultdict(list)
        for reminder in self.run(tables.reminders(self.db)):
            of[reminder.booking_no].append(reminder)
        unknown = set(of) - set(self.model.bookings)
        assert not unknown, f"reminders for bookings the model does not know: {unknown}"
        for no, b in self.model.bookings.items():
            what = self.model.describe(no)
            pending = [r for r in of[no] if r.status is PENDING]
            twice = [kind for kind, n in Counter(r.kind for r in pending).items() if n > 1]
            assert not twice, f"{what}: {twice} pending twice: {pending}"
            if b.status == CANCELLED:
                assert not pending, f"{what}: reminders pending: {pending}"
            elsewhere = [r for r in pending if r.about["session_id"] != b.session.id]
            assert not elsewhere, f"{what}: reminders for a session it left: {elsewhere}"
            if b.status != BOOKED:
                continue
            due = reminders_due(b)
            # Its current place's: pending, or sent since it took the place (a reminder sent
            # before it moved away stays sent under its key when it comes back).
            here = [
                r
                for r in of[no]
                if r.about["session_id"] == b.session.id
                and (
                    r.status is PENDING
                    or (r.status is SENT and r.sent_at is not None and r.sent_at >= b.placed_at)
                )
            ]
            kinds = sorted(r.kind for r in here)
            assert kinds == sorted(due), (
                f"{what}, placed at {b.placed_at}: reminders {kinds}, expected {sorted(due)}; "
                f"all its reminders: {[(r.key, r.status.value) for r in of[no]]}"
            )
            expected = b.expected_at
            for r in here:
                got = (r.due_at, r.not_after, r.account_id, r.about["queue_no"], r.about["time"])
                wanted = (
                    due[r.kind],
                    expected,
                    self.account_ids[b.patient],
                    b.queue_no,
                    expected.astimezone(TZ).strftime("%H:%M"),
                )
                assert got == wanted, f"{what}: {r.key} says {got}, not {wanted}"


class SqliteBookingMachine(BookingMachine):
    # The populated database is built once per test run and copied for each example: a file
    # copy takes milliseconds, populating a quarter of a second, and shrinking a failure may
    # need hundreds of examples.
    template: ClassVar[tuple[Path, State] | None] = None

    async def fresh_database(self) -> Database:
        directory = Path(tempfile.mkdtemp(prefix="guahao-stateful-"))
        self.resources.callback(shutil.rmtree, directory, ignore_errors=True)
        template = SqliteBookingMachine.template
        if template is None:
            path = Path(tempfile.mkdtemp(prefix="guahao-stateful-template-")) / "guahao.sqlite3"
            atexit.register(shutil.rmtree, path.parent, ignore_errors=True)
            async with sqlite_database(path) as db:
                await self.populate(db)
            template = SqliteBookingMachine.template = (path, copy.deepcopy(self.state()))
        (
            self.model,
            self.patient_ids,
            self.patient_hashes,
            self.accounts,
            self.account_ids,
        ) = copy.deepcopy(template[1])
        self.model.clock = self.clock
        source = template[0]
        for name in (source.name, source.name + "-wal"):  # no log is left once all is closed
            if (source.parent / name).exists():
                shutil.copyfile(source.parent / name, directory / name)
        path = directory / source.name
        db = Database(f"sqlite+aiosqlite:///{path}")
        self.resources.push_async_callback(db.dispose)
        return db


class PostgresBookingMachine(BookingMachine):
    async def fresh_database(self) -> Database:
        db = await self.resources.enter_async_context(postgres_database(pool_size=2))
        await self.populate(db)
        return db


COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # Once an example fails, the explain phase traces every line of every later run, which
    # makes shrinking through SQLAlchemy four times slower; the shrunk steps say enough.
    phases=[phase for phase in Phase if phase is not Phase.explain],
)
SqliteBookingMachine.TestCase.settings = settings(COMMON, max_examples=60, stateful_step_count=40)
PostgresBookingMachine.TestCase.settings = settings(COMMON, max_examples=20, stateful_step_count=30)
# With --hypothesis-show-statistics, pytest shows how often each outcome came up.
TestNeverOverbookOnSqlite = SqliteBookingMachine.TestCase
TestNeverOverbookOnPostgres = pytest.mark.postgres(PostgresBookingMachine.TestCase)
