"""The model of the hospital that the state machine in test_booking_stateful.py checks the real
use cases against: the catalogue and the week's sessions, the bookings and where they have
been, the bans, the lines (候补), and what the rules say about them: which refusals apply,
which place comes next, who is offered a place freed, which reminders a booking is due.
Plain Python over the model's own records, nothing read from the code under test: each
prediction here is written from the rules as the issues state them, so that the machine can
tell when the product disagrees.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.appointments.model import AppointmentStatus, WaitStatus
from booking.appointments.notices import NoticeKind
from booking.catalogue.model import Catalogue, ClinicType, Department, Doctor, Hospital, Part
from booking.catalogue.policy import BookingPolicy
from booking.clock import FixedClock
from booking.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    Blacklisted,
    BookingError,
    DifferentDepartment,
    NotBookable,
    NotFull,
    OfferGone,
    OutsideWindow,
    PastDeadline,
    PlaceTaken,
    QuotaExceeded,
    SessionStopped,
    SlotFull,
    WaitlistClosed,
    WrongStatus,
)
from booking.patients.model import BlacklistSource
from tests.support import MONDAY_9AM

Refusals = set[type[BookingError]]

BOOKED, ARRIVED, CANCELLED, NOSHOW = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CANCELLED,
    AppointmentStatus.NOSHOW,
)
POLICY = BookingPolicy()  # the defaults the issue names: 1 per department a day, 2 a day, 3 in 7
TZ = ZoneInfo("Asia/Shanghai")
HOSPITAL = "H1"
MONDAY = date(2026, 11, 23)
# The clock moves at most until Thursday morning, so that most sessions stay ahead.
LATEST = MONDAY_9AM + timedelta(hours=72)

CATALOGUE = Catalogue(
    clinic_types={"general": ClinicType("general", "普通", "General", 500, 1000)},
    hospitals=(Hospital(HOSPITAL, "测试医院", "Test Hospital"),),
    departments=(
        Department(HOSPITAL, "INT", "内科", "Internal medicine"),
        Department(HOSPITAL, "SUR", "外科", "Surgery"),
        Department(HOSPITAL, "LAB", "检验科", "Laboratory", bookable=False),
    ),
    doctors=tuple(
        Doctor(HOSPITAL, dept, work_no, name, name_en, "主治医师", "general")
        for work_no, dept, name, name_en in (
            ("D01", "INT", "赵明", "Zhao Ming"),
            ("D02", "INT", "钱亮", "Qian Liang"),
            ("D03", "SUR", "孙刚", "Sun Gang"),
            ("D04", "SUR", "周静", "Zhou Jing"),
            ("D05", "LAB", "吴敏", "Wu Min"),
        )
    ),
)
DEPARTMENT_OF = {d.work_no: d.department_code for d in CATALOGUE.doctors}
BOOKABLE = {d.code: d.bookable for d in CATALOGUE.departments}

# (doctor, days after Monday 23 November, part, capacity)
SCHEDULE: tuple[tuple[str, int, Part, int], ...] = (
    ("D02", 0, Part.AM, 3),  # under way at 09:00: place 1 (08:00) is past, 2 and 3 are not
    ("D01", 0, Part.PM, 2),
    ("D03", 0, Part.PM, 2),
    ("D01", 1, Part.AM, 3),
    ("D03", 1, Part.AM, 2),
    ("D02", 1, Part.PM, 2),
    ("D05", 1, Part.AM, 2),  # laboratory: not bookable
    ("D02", 2, Part.AM, 2),
    ("D04", 2, Part.EVE, 3),
    ("D01", 3, Part.AM, 2),
    ("D04", 3, Part.PM, 2),
    ("D02", 7, Part.AM, 2),  # Monday 30: the last day of the window at the start
    ("D03", 8, Part.AM, 2),  # Tuesday 1 December: released at 07:00 on Tuesday 24
    ("D01", -14, Part.PM, 2),  # a fortnight ago: 张伟 did not come …
    ("D03", -13, Part.AM, 2),  # … twice; one more no-show within 90 days and he is banned
)
PAST = (len(SCHEDULE) - 2, len(SCHEDULE) - 1)
PATIENTS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊")

WAITING, OFFERED = WaitStatus.WAITING, WaitStatus.OFFERED
IN_LINE = (WAITING, OFFERED)
# 候补 (R8): a line closes at 23:00 the day before the visit; a place freed is held for the
# first in line for 30 minutes.
LINE_CLOSES = time(23, 0)
OFFER_LASTS = timedelta(minutes=30)


@dataclass
class SessionModel:
    id: int
    department: str
    visit_date: date
    starts_at: datetime
    ends_at: datetime
    place_starts: dict[int, datetime]  # queue number -> start of its time window
    stopped: bool = False

    @property
    def capacity(self) -> int:
        return len(self.place_starts)

    @property
    def line_closes_at(self) -> datetime:
        return datetime.combine(self.visit_date - timedelta(days=1), LINE_CLOSES, TZ)


@dataclass
class BookingModel:
    patient: int  # index into PATIENTS
    session: SessionModel
    queue_no: int
    status: AppointmentStatus = BOOKED
    chat: bool = False  # booked with the patient's chat account: reminders go there
    stopped_off: bool = False  # cancelled by a 停诊 and not moved since: it may be moved
    placed_at: datetime | None = None  # when it last took its place: booked, moved, reinstated
    # Every session it has been on, the current one last (a session may come back).
    history: list[SessionModel] = field(default_factory=list)

    @property
    def expected_at(self) -> datetime:
        """When the patient is expected: the start of the place's time window."""
        return self.session.place_starts[self.queue_no]

    def earlier_sessions(self) -> list[SessionModel]:
        """The sessions it was on before, in the order it first left them."""
        seen: list[SessionModel] = []
        for s in self.history:
            if s is not self.session and all(s is not t for t in seen):
                seen.append(s)
        return seen


@dataclass
class EntryModel:
    """A patient in a session's line (候补)."""

    id: int  # the database's: entries are offered places in the order they joined
    patient: int
    session: SessionModel
    status: WaitStatus = WAITING
    queue_no: int | None = None  # the place last offered (kept once the offer is over)
    expires_at: datetime | None = None
    booking_no: str | None = None


@dataclass
class Ban:
    source: BlacklistSource
    starts_on: date
    until: date


# The reminders (M1): the evening before the visit at 20:00, and two hours before the time the
# patient is expected; each only when it is still ahead as the booking takes its place.
EVENING = time(20, 0)
SOON = timedelta(hours=2)


def reminders_due(b: BookingModel) -> dict[NoticeKind, datetime]:
    """The reminders a booking should hold for its current place, and when each is due: a
    live chat booking has those that were still ahead when it was last placed (booked, moved
    or taken from a waitlist); any other booking has none."""
    if not b.chat or b.status != BOOKED:
        return {}
    assert b.placed_at is not None
    expected = b.expected_at
    due = {
        NoticeKind.REMINDER_EVENING: datetime.combine(
            b.session.visit_date - timedelta(days=1), EVENING, TZ
        ),
        NoticeKind.REMINDER_SOON: expected - SOON,
    }
    return {kind: at for kind, at in due.items() if b.placed_at < at < expected}


def quota_breaches(uses: Iterable[tuple[date, str]], policy: BookingPolicy = POLICY) -> list[str]:
    """Which quotas a patient's active bookings (visit date, department) break."""
    uses = list(uses)
    breaches = [
        f"{n} bookings in {dept} on {day}"
        for (day, dept), n in Counter(uses).items()
        if n > policy.max_per_department_per_day
    ]
    per_day = Counter(day for day, _ in uses)
    breaches += [f"{n} bookings on {d}" for d, n in per_day.items() if n > policy.max_per_day]
    for first in per_day:
        last = first + timedelta(days=policy.period_days - 1)
        n = sum(first <= day <= last for day, _ in uses)
        if n > policy.max_per_period:
            breaches.append(f"{n} bookings from {first} to {last}")
    return breaches


def local_today(now: datetime) -> date:
    return now.astimezone(TZ).date()


def last_released(now: datetime) -> date:
    here = now.astimezone(TZ)
    ahead = POLICY.window_days - (here.time() < POLICY.release_time)
    return here.date() + timedelta(days=ahead)


def names(refusals: Iterable[type[BookingError]]) -> str:
    return ", ".join(sorted(r.__name__ for r in refusals)) or "none"


class HospitalModel:
    """What the hospital should look like, and which refusals the rules allow."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.sessions: list[SessionModel] = []
        self.bookings: dict[str, BookingModel] = {}
        self.bans: dict[int, list[Ban]] = defaultdict(list)
        self.listed: dict[int, tuple[date, date]] = {}  # the hospital's list: from, until
        self.given_back: set[tuple[int, int]] = set()  # (session index, queue number)
        self.entries: list[EntryModel] = []  # in the order they joined

    def now(self) -> datetime:
        return self.clock.now()

    def holders(self, s: SessionModel) -> dict[int, BookingModel]:
        """Queue number -> the booking that holds it (every status but cancelled holds)."""
        return {
            b.queue_no: b
            for b in self.bookings.values()
            if b.session is s and b.status != CANCELLED
        }

    def offers(self, s: SessionModel) -> dict[int, EntryModel]:
        """Queue number -> the line's entry it is held for (busy-tentative)."""
        return {e.queue_no: e for e in self.entries if e.session is s and e.status is OFFERED}

    def taken(self, s: SessionModel) -> set[int]:
        return set(self.holders(s)) | set(self.offers(s))

    def free_places(self, s: SessionModel) -> list[int]:
        """Queue numbers that can still be booked: not held by a booking nor for an offer,
        not stopped, their time ahead."""
        if s.stopped:
            return []
        taken = self.taken(s)
        now = self.now()
        return [q for q, at in sorted(s.place_starts.items()) if q not in taken and at > now]

    def places_given_back(self) -> list[tuple[int, int]]:
        return sorted((i, q) for i, q in self.given_back if q not in self.taken(self.sessions[i]))

    def banned(self, patient: int, source: BlacklistSource | None = None) -> bool:
        today = local_today(self.now())
        return any(
            b.starts_on <= today <= b.until and source in (None, b.source)
            for b in self.bans[patient]
        )

    def session_refusals(self, s: SessionModel) -> Refusals:
        refusals: Refusals = set()
        if not BOOKABLE[s.department]:
            refusals.add(NotBookable)
        if s.stopped:
            refusals.add(SessionStopped)
        if s.ends_at <= self.now() or s.visit_date > last_released(self.now()):
            refusals.add(OutsideWindow)
        return refusals

    def patient_refusals(
        self, patient: int, s: SessionModel, moving: BookingModel | None = None
    ) -> Refusals:
        refusals: Refusals = set()
        if self.banned(patient):
            refusals.add(Blacklisted)
        mine = [
            b
            for b in self.bookings.values()
            if b.patient == patient and b.status != CANCELLED and b is not moving
        ]
        if any(b.session is s for b in mine):
            refusals.add(AlreadyBooked)
        uses = [(b.session.visit_date, b.session.department) for b in mine]
        if quota_breaches([*uses, (s.visit_date, s.department)]):
            refusals.add(QuotaExceeded)
        return refusals

    def book_refusals(self, patient: int, s: SessionModel, queue_no: int | None) -> Refusals:
        refusals = self.session_refusals(s) | self.patient_refusals(patient, s)
        free = self.free_places(s)
        if s.stopped:
            return refusals
        if not free:
            refusals.add(SlotFull)
        elif queue_no is not None and queue_no not in free:
            refusals.add(PlaceTaken)  # others are free: the patient may choose again
        return refusals

    def cancel_refusals(self, b: BookingModel) -> Refusals:
        """退号 of a live booking, until its session starts."""
        refusals: Refusals = set()
        if b.status != BOOKED:
            refusals.add(WrongStatus)
        if self.now() >= b.session.starts_at:
            refusals.add(PastDeadline)
        return refusals

    def transfer_refusals(self, b: BookingModel, target: SessionModel) -> Refusals:
        """转号 of a live booking to another session of its department, until the day before
        its visit, under every rule of booking (its own place not counted)."""
        current = b.session
        refusals = self.session_refusals(target) | self.patient_refusals(b.patient, target, b)
        if b.status != BOOKED or target is current:
            refusals.add(WrongStatus)
        if target.department != current.department:
            refusals.add(DifferentDepartment)
        last_day = current.visit_date - timedelta(days=POLICY.transfer_days_before)
        if local_today(self.now()) > last_day:
            refusals.add(PastDeadline)
        if not self.free_places(target) and not target.stopped:
            refusals.add(SlotFull)
        return refusals

    def stopped_transfer_refusals(self, b: BookingModel, target: SessionModel) -> Refusals:
        """停诊's one-press transfer: only of a booking a stop cancelled (and not moved since),
        into its department, under every rule of booking (once stopped, it holds no place).
        Every doctor here is of one level ("general"), so "the same doctor or one of the same
        level" never refuses more than "the same department" does."""
        refusals = self.session_refusals(target) | self.patient_refusals(b.patient, target)
        if target.department != b.session.department:
            refusals.add(DifferentDepartment)
        if not self.free_places(target) and not target.stopped:
            refusals.add(SlotFull)
        if not b.stopped_off:
            refusals.add(WrongStatus)
        return refusals

    def describe(self, booking_no: str) -> str:
        b = self.bookings[booking_no]
        where = self.sessions.index(b.session)
        how = "chat" if b.chat else "desk"
        return (
            f"{b.status} {how} booking {booking_no} "
            f"(patient {b.patient}, session {where}/{b.queue_no})"
        )

    # ---- 候补 ----------------------------------------------------------------------------

    def in_line(self, patient: int, s: SessionModel) -> EntryModel | None:
        return next(
            (
                e
                for e in self.entries
                if e.patient == patient and e.session is s and e.status in IN_LINE
            ),
            None,
        )

    def position(self, entry: EntryModel) -> int:
        """1: the next to be offered a place."""
        return sum(
            e.session is entry.session and e.status in IN_LINE and e.id <= entry.id
            for e in self.entries
        )

    def join_refusals(self, patient: int, s: SessionModel) -> Refusals:
        """A line is joined under the rules of booking, only while it is open and only when
        the session is full."""
        refusals = self.session_refusals(s) | self.patient_refusals(patient, s)
        if self.now() >= s.line_closes_at:
            refusals.add(WaitlistClosed)
        if self.free_places(s):
            refusals.add(NotFull)
        if self.in_line(patient, s) is not None:
            refusals.add(AlreadyWaiting)
        return refusals

    def pass_on(self, s: SessionModel, queue_no: int) -> EntryModel | None:
        """A place leaves its patient (a cancellation, a move, an offer let go): while the
        session is open and its line too, it is offered to the first waiting, for 30 minutes;
        else it is free for anyone."""
        first = next((e for e in self.entries if e.session is s and e.status is WAITING), None)
        if s.stopped or first is None or self.now() >= s.line_closes_at:
            return None
        first.status, first.queue_no = OFFERED, queue_no
        first.expires_at = self.now() + OFFER_LASTS
        return first

    def let_go(self, entry: EntryModel, status: WaitStatus) -> None:
        """The patient leaves the line or lets the offer go: the place held passes on."""
        was = entry.status
        entry.status = status
        if was is OFFERED:
            assert entry.queue_no is not None
            self.pass_on(entry.session, entry.queue_no)

    def accept_refusals(self, entry: EntryModel) -> Refusals:
        """An offer is taken while it stands, under every rule of booking."""
        expires = entry.expires_at
        if entry.status is not OFFERED or expires is None or self.now() >= expires:
            return {OfferGone}
        return self.session_refusals(entry.session) | self.patient_refusals(
            entry.patient, entry.session
        )

    def stop_line(self, s: SessionModel) -> None:
        """停诊 closes the line: nobody in it is offered anything any more."""
        for e in self.entries:
            if e.session is s and e.status in IN_LINE:
                e.status = WaitStatus.CLOSED

    def tend(self) -> tuple[int, int, int]:
        """The background round: offers not taken in time lapse and pass on; free places go
        to whoever waits in an open line; lines past their closing close. Returns how many
        were offered, lapsed and closed (offers made by passing a lapsed one on not counted)."""
        now = self.now()
        lapsing = [
            e
            for e in self.entries
            if e.status is OFFERED and e.expires_at is not None and e.expires_at <= now
        ]
        lapsing.sort(key=lambda e: (e.expires_at, e.id))
        for e in lapsing:
            self.let_go(e, WaitStatus.LAPSED)
        offered = 0
        for s in self.sessions:
            while self.free_places(s) and self.pass_on(s, self.free_places(s)[0]):
                offered += 1
        closing = [
            e for e in self.entries if e.status is WAITING and now >= e.session.line_closes_at
        ]
        for e in closing:
            e.status = WaitStatus.CLOSED
        return offered, len(lapsing), len(closing)
