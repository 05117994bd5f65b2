"""``guahao roster``: who is on duty on a day, by hospital and department, followed by a
ready-to-paste example of booking from the command line (``make run`` ends with it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from booking.catalogue.model import Catalogue, Part
from booking.catalogue.schedule import local_now
from booking.catalogue.search import SessionOffer
from booking.catalogue.search import search_sessions as find_sessions
from bot.cli.common import DEFAULT_TZ, DepartmentOpt, HospitalOpt, load_catalogue, parse_day, run
from bot.cli.lookup import check_places
from bot.cli.output import day_text, emit, fees_text, offer_row, table
from bot.runtime.services import Services
from nlu.quick_command import write_quick_command

# A valid resident ID number (GB 11643's example) and mobile number for trying things out.
DEMO_ID_NUMBER = "11010519491231002X"
DEMO_PHONE = "13812345678"


def roster(
    date_: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")
    ] = None,
    hospital: HospitalOpt = None,
    department: DepartmentOpt = None,
) -> None:
    """Who is on duty on a day, by department, and how to book from the command line."""

    async def work(s: Services) -> None:
        now = s.clock.now()
        today = local_now(now, DEFAULT_TZ).date()
        day = parse_day(date_, "--date") or today
        catalogue = await load_catalogue(s)
        check_places(catalogue, hospital, department)
        offers = await find_sessions(
            s.uows,
            s.clock,
            hospital=hospital,
            department=department,
            date_from=day,
            date_to=day,
            include_closed=True,
        )
        print_roster(catalogue, day, offers, s)
        upcoming = await find_sessions(
            s.uows,
            s.clock,
            hospital=hospital,
            department=department,
            date_from=today + timedelta(days=1),
        )
        example = next((o for o in [*upcoming, *offers] if o.bookable), None)
        print_booking_hint(catalogue, example)

    run(work)


def print_roster(catalogue: Catalogue, day: date, offers: list[SessionOffer], s: Services) -> None:
    now = s.clock.now()
    emit(
        f"Duty roster {day_text(day)} (times {DEFAULT_TZ}, now {local_now(now, DEFAULT_TZ):%H:%M})"
    )
    if not offers:
        emit("  no sessions that day (run `guahao demo load` to load the demo hospital)")
        return
    headers = ["id", "part", "time", "doctor", "title", "clinic", "fees", "free", "state"]
    rows = [offer_row(o, now, with_date=False) for o in offers]
    lines = table(headers, rows, indent="    ").splitlines()
    by_row = dict(zip((id(o) for o in offers), lines[1:], strict=True))
    hospital_order = [h.code for h in catalogue.hospitals]
    dept_order = [(d.hospital_code, d.code) for d in catalogue.departments]
    parts = list(Part)

    def place(o: SessionOffer) -> tuple[int, int, int, str]:
        key = (o.session.hospital_code, o.session.department_code)
        return (
            hospital_order.index(key[0]),
            dept_order.index(key),
            parts.index(o.session.part),
            o.session.doctor_work_no,
        )

    current_hospital = current_dept = None
    for o in sorted(offers, key=place):
        if o.hospital.code != current_hospital:
            current_hospital, current_dept = o.hospital.code, None
            emit(f"\n{o.hospital.name_zh} {o.hospital.name_en} ({o.hospital.code})")
            emit(lines[0])
        if o.department.code != current_dept:
            current_dept = o.department.code
            emit(f"  {o.department.name_zh} {o.department.name_en} ({o.department.code})")
        emit(by_row[id(o)])
    emit("fees: registration + consultation, in yuan; free: places still free / capacity")


def print_booking_hint(catalogue: Catalogue, example: SessionOffer | None) -> None:
    emit("\nBook from the command line (copy and paste; the ID number is a valid demo number):")
    emit(f"  guahao patients add --name 张三 --id-number {DEMO_ID_NUMBER} --phone {DEMO_PHONE}")
    if example is None:
        emit("  (no session takes bookings at the moment; see `guahao sessions list`)")
        return
    s = example.session
    shared = sum(d.work_no == s.doctor_work_no for d in catalogue.doctors) > 1
    emit(
        f"  guahao book --id-number {DEMO_ID_NUMBER} --doctor {s.doctor_work_no} "
        f"--date {s.visit_date.isoformat()} --part {s.part.value}"
        + (f" --hospital {s.hospital_code}" if shared else "")
    )
    emit(f"  guahao bookings list --id-number {DEMO_ID_NUMBER}")
    emit("  guahao cancel BOOKING_NO")
    starts = local_now(s.starts_at, example.hospital.timezone).replace(tzinfo=None)
    command = write_quick_command(s.doctor_work_no, starts, "张三")
    if command is not None:  # the seed's one-line booking (C2.3), once 张三 is registered there
        emit(f"  In the web chat or by SMS, after registering 张三 there: {command}")
    emit(
        f"  ({example.doctor.name} {example.doctor.title}, {example.department.name_zh}, "
        f"fees {fees_text(s.registration_fee_fen, s.consultation_fee_fen)} yuan; "
        "more: guahao --help)"
    )
