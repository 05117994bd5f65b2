"""Statistics (B7) on SQLite and PostgreSQL: bookings made, cancelled, checked in and missed
with the real use cases, then every report checked against counts made independently (from
the bookings made, and by plain SELECTs); the CSV and XLSX downloads hold the same numbers;
an empty period gives zeros; a wrong period is told politely; only administrators may look.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; the period is that week's
visit days, Monday to Friday.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from booking.appointments.attendance import mark_arrived, mark_noshow
from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session
from booking.appointments.desk import close_expired
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.reports.reading import read_report
from booking.reports.statistics import Basis, Counts, Group, Grouping, Period, Tally, Yuan
from booking.reports.tables import Kind, table
from booking.staff.model import Actor, Role
from booking.store import Database
from tests.office import audit_rows, csrf_of, office, signed_in_as, staff
from tests.support import MONDAY_9AM, id_number

MON, TUE, WED, FRI, SAT = (date(2026, 11, d) for d in (23, 24, 25, 27, 28))
WEEK = Period(MON, FRI)
BORN = date(1969, 7, 20)  # no other test's patients were born that day
CHILD = date(2019, 6, 1)  # 儿科 sees children only
PAEDIATRICIANS = ("02408", "02415")
CLINIC_TYPES = {"expert": "专家门诊", "general": "普通门诊", "special": "特需门诊"}


@dataclass
class Made:
    booking_no: str
    hospital: str
    department: str
    doctor: str
    clinic_type: str
    channel: str
    visit_date: date
    registration_fen: int
    consultation_fen: int
    status: str = "booked"
    refund_due: bool = False

    @property
    def month(self) -> str:
        return self.visit_date.isoformat()[:7]


async def make(
    db: Database,
    clock: FixedClock,
    protector: Protector,
    n: int,
    doctor: str,
    day: date,
    part: Part,
    channel: str,
) -> Made:
    account = protector.account("web", f"report-{n}")
    patient = await register_patient(
        db,
        protector,
        clock,
        name=f"统计{chr(0x4E00 + n)}",
        id_number=id_number(n, born=CHILD if doctor in PAEDIATRICIANS else BORN),
        phone=f"1397766{n:04d}",
        account=account,
    )
    [offer] = await search_sessions(db, clock, doctor=doctor, date_from=day, date_to=day, part=part)
    receipt = await book(
        db,
        clock,
        patient_id=patient.id,
        session_id=offer.session.id,
        channel=channel,
        account=account,
    )
    a = receipt.appointment
    return Made(
        booking_no=a.booking_no,
        hospital=receipt.hospital.code,
        department=f"{receipt.hospital.code} {receipt.department.name_zh}",
        doctor=f"{receipt.hospital.code} {offer.doctor.name} ({offer.doctor.work_no})",
        clinic_type=CLINIC_TYPES[offer.session.clinic_type],
        channel=channel,
        visit_date=a.visit_date,
        registration_fen=a.registration_fee_fen,
        consultation_fen=a.consultation_fee_fen,
    )


@pytest.fixture
async def week(demo: Database, clock: FixedClock, protector: Protector) -> list[Made]:
    """Ten bookings over two hospitals and five channels: checked in, seen, missed, cancelled
    by the patient and by the desk, still ahead, and one after the period."""
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    plan = [
        ("00868", MON, Part.AM, "web"),  # 1 checked in
        ("00902", MON, Part.AM, "telegram"),  # 2 no-show
        ("01110", MON, Part.AM, "sms"),  # 3 checked in, then seen (the HIS says fulfilled)
        ("02216", MON, Part.AM, "desk"),  # 4 still booked
        ("10021", MON, Part.AM, "web"),  # 5 checked in, at the TCM hospital (H02)
        ("00868", WED, Part.PM, "web"),  # 6 cancelled by the patient
        ("00868", WED, Part.PM, "telegram"),  # 7 booked
        ("01105", TUE, Part.AM, "sms"),  # 8 cancelled by the desk
        ("02415", TUE, Part.AM, "fhir"),  # 9 booked by the HIS
        ("02415", SAT, Part.PM, "web"),  # 10 after the period
    ]
    made = [await make(demo, clock, protector, 500 + n, *step) for n, step in enumerate(plan, 1)]
    for i in (0, 2, 4):
        await mark_arrived(demo, clock, made[i].booking_no)
        made[i].status = "arrived"
    await mark_noshow(demo, clock, made[1].booking_no)
    made[1].status = "noshow"
    async with demo.write_engine.begin() as conn:  # what the HIS's visit record would do
        await conn.execute(
            text("UPDATE appointments SET status = 'fulfilled' WHERE booking_no = :no"),
            {"no": made[2].booking_no},
        )
    made[2].status = "fulfilled"
    await cancel(demo, clock, made[5].booking_no, account=protector.account("web", "report-506"))
    async with office(demo, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        answer = await client.post(
            f"/admin/bookings/{made[7].booking_no}/cancel", data={"csrf": csrf}
        )
        assert answer.status_code == 303
    for i in (5, 7):
        made[i].status, made[i].refund_due = "cancelled", True
    return made


def expected(made: list[Made], key: str) -> dict[str, tuple[int, ...]]:
    """Per group: total, booked, arrived, fulfilled, cancelled, no-show, fees (not cancelled)."""
    found: dict[str, Counter[str]] = {}
    for m in made:
        c = found.setdefault(str(getattr(m, key)), Counter())
        c["total"] += 1
        c[m.status] += 1
        if m.status != "cancelled":
            c["reg"] += m.registration_fen
            c["cons"] += m.consultation_fen
    fields = ("total", "booked", "arrived", "fulfilled", "cancelled", "noshow", "reg", "cons")
    return {k: tuple(c[f] for f in fields) for k, c in found.items()}


def numbers(c: Counts) -> tuple[int, ...]:
    return (
        c.total,
        c.booked,
        c.arrived,
        c.fulfilled,
        c.cancelled,
        c.noshow,
        c.registration_fen,
        c.consultation_fen,
    )


def shown(groups: list[Group]) -> dict[str, tuple[int, ...]]:
    return {g.label: numbers(g.counts) for g in groups if g.counts.total}


async def test_the_reports_match_the_bookings_made_and_the_database(
    week: list[Made], demo: Database
) -> None:
    in_week = [m for m in week if WEEK.first <= m.visit_date <= WEEK.last]
    assert len(in_week) == 9
    report = await read_report(demo, WEEK)
    assert shown(report.departments) == expected(in_week, "department")
    assert shown(report.doctors) == expected(in_week, "doctor")
    assert shown(report.channels) == expected(in_week, "channel")
    assert shown(report.clinic_types) == expected(in_week, "clinic_type")
    assert shown(report.days) == expected(in_week, "visit_date")
    assert [d.key for d in report.days] == [f"2026-11-{d}" for d in range(23, 28)]
    assert shown(report.months) == expected(in_week, "month")
    totals = report.totals
    assert (totals.total, totals.cancelled, totals.noshow, totals.visits) == (9, 2, 1, 3)
    assert str(totals.no_show_rate) == "25.0%"  # 1 missed of 4 whose day has come
    assert str(totals.cancellation_rate) == "22.2%"  # 2 of 9
    assert [(r.booking_no, r.refund_due, r.reason) for r in report.refunds] == [
        (week[5].booking_no, True, "patient"),
        (week[7].booking_no, True, "staff"),
    ]
    async with demo.write_engine.connect() as conn:  # the database, asked plainly
        rows = await conn.execute(
            text(
                "SELECT status, COUNT(*), SUM(registration_fee_fen), SUM(consultation_fee_fen) "
                "FROM appointments WHERE visit_date BETWEEN :a AND :b GROUP BY status"
            ),
            {"a": MON, "b": FRI},
        )
        by_status = {status: (n, reg, cons) for status, n, reg, cons in rows}
    assert {s: n for s, (n, _, _) in by_status.items()} == Counter(m.status for m in in_week)
    paid = [v for s, v in by_status.items() if s != "cancelled"]
    assert totals.registration_fen == sum(reg for _, reg, _ in paid)
    assert totals.consultation_fen == sum(cons for _, _, cons in paid)
    # One hospital: its bookings only, its departments named without its code.
    first_hospital = await read_report(demo, Period(MON, FRI, "H01"))
    h01 = expected([m for m in in_week if m.hospital == "H01"], "department")
    assert shown(first_hospital.departments) == {k[4:]: v for k, v in h01.items()}
    assert "中医内科" not in str(shown(first_hospital.departments))
    assert first_hospital.totals.total == 8


def fen(cell: object) -> int:
    """Yuan in a spreadsheet cell, a number (not text) with two decimals, back in fen."""
    assert isinstance(cell, int | float)
    return round(cell * 100)


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def download(
    client: httpx.AsyncClient,
    kind: str,
    fmt: str,
    first: date = MON,
    last: date = FRI,
    basis: str = "visit",
) -> httpx.Response:
    params = {"kind": kind, "format": fmt, "from": first.isoformat(), "to": last.isoformat()}
    params["basis"] = basis
    answer = await client.get("/admin/reports/export", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    return answer


async def test_the_page_charts_and_downloads_show_the_same_numbers(
    week: list[Made], demo: Database, clock: FixedClock, protector: Protector
) -> None:
    in_week = [m for m in week if WEEK.first <= m.visit_date <= WEEK.last]
    departments = expected(in_week, "department")
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        answer = await client.get(
            "/admin/reports", params={"from": "2026-11-23", "to": "2026-11-27"}
        )
        assert answer.status_code == 200
        assert "script" not in answer.headers["content-security-policy"]
        page = answer.text
        section = page.split('<section id="department">')[1].split("</section>")[0]
        assert section.count('<rect class="bar"') == len(departments)  # one bar each
        for name, (total, *_rest) in departments.items():
            assert f"<title>{name}: {total}</title>" in section
        assert section.count("<tr") == len(departments) + 2  # the heads and the total
        daily = page.split('<section id="daily">')[1].split("</section>")[0]
        assert daily.count('<polyline class="line"') == 4
        refunds = page.split('<section id="refunds">')[1].split("</section>")[0]
        assert week[5].booking_no in refunds and week[7].booking_no in refunds
        assert week[0].booking_no not in refunds
        for n in range(1, len(week) + 1):  # reports name no patients
            assert f"统计{chr(0x4E00 + 500 + n)}" not in page

        got = csv_rows((await download(client, "department", "csv")).content)
        assert got[0][:2] == ["科室 Department", "预约数 Bookings"]
        by_name = {row[0]: row for row in got[1:-1]}
        assert set(by_name) == set(departments)
        for name, (
            total,
            booked,
            arrived,
            fulfilled,
            cancelled,
            noshow,
            reg,
            cons,
        ) in departments.items():
            row = by_name[name]
            assert [int(x) for x in row[1:7]] == [
                total,
                booked,
                arrived,
                fulfilled,
                cancelled,
                noshow,
            ]
            assert row[9:11] == [str(Yuan(reg)), str(Yuan(cons))]
        assert got[-1][:2] == ["合计 Total", "9"]

        answer = await download(client, "doctor", "xlsx")
        assert answer.headers["content-type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet = load_workbook(io.BytesIO(answer.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        doctors = expected(in_week, "doctor")
        in_sheet = {r[0]: (*r[1:7], fen(r[9]), fen(r[10])) for r in rows[1:-1]}
        assert in_sheet == doctors
        assert rows[-1][0] == "合计 Total" and rows[-1][1] == 9

        report = await read_report(demo, WEEK)
        for kind in (Kind.DAILY, Kind.REFUNDS, Kind.CHANNEL):
            sheet = load_workbook(io.BytesIO((await download(client, kind, "xlsx")).content)).active
            assert sheet is not None
            cells = [
                [str(c) if c is not None else "" for c in r]
                for r in sheet.iter_rows(values_only=True)
            ]
            want = table(report, kind)
            assert len(cells) == len(want.rows) + 2
            assert [c[0] for c in cells[1:-1]] == [str(r[0]) for r in want.rows]
    exports = [r for r in await audit_rows(demo) if r["action"] == "report.export"]
    assert [(r["username"], r["target"], r["after"]["format"]) for r in exports] == [
        ("admin", "department", "csv"),
        ("admin", "doctor", "xlsx"),
        ("admin", "daily", "xlsx"),
        ("admin", "refunds", "xlsx"),
        ("admin", "channel", "xlsx"),
    ]
    assert exports[0]["after"] == {
        "from": "2026-11-23",
        "to": "2026-11-27",
        "hospital": None,
        "basis": "visit",
        "format": "csv",
        "rows": len(departments),
    }


async def test_staff_workload_counts_the_audit_log_per_member_of_staff(
    week: list[Made], demo: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        await download(client, "workload", "csv")
        got = csv_rows((await download(client, "workload", "csv")).content)
    counted = Counter(
        (r["username"], r["action"]) for r in await audit_rows(demo) if r["staff_id"] is not None
    )
    counted[("admin", "report.export")] -= 1  # the second download was audited after its read
    assert {(u, a): int(n) for u, a, n in got[1:-1]} == +counted
    assert ("desk", "booking.cancel") in counted and ("admin", "login") in counted
    assert got[-1] == ["合计 Total", "", str(sum(counted.values()))]


async def test_by_booking_date_a_booking_counts_on_the_day_it_was_made_in_shanghai(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await staff(demo, clock, "admin", Role.ADMIN)
    sunday_late = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    monday_early = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 00:30 on Monday in Shanghai
    for n, when in enumerate((sunday_late, monday_early, MONDAY_9AM), 1):
        clock.set(when)
        await make(demo, clock, protector, 600 + n, "00868", WED, Part.PM, "web")
    sun = date(2026, 11, 22)
    by_booking = await read_report(demo, Period(sun, MON, basis=Basis.BOOKED))
    assert [(d.key, d.counts.total) for d in by_booking.days] == [
        ("2026-11-22", 1),
        ("2026-11-23", 2),
    ]
    assert shown(by_booking.departments) == {"H01 心血管内科": (3, 3, 0, 0, 0, 0, 300, 15000)}
    assert (await read_report(demo, Period(sun, sun, basis=Basis.BOOKED))).totals.total == 1
    assert (await read_report(demo, Period(sun, MON))).totals.total == 0  # visits on Wednesday
    assert (await read_report(demo, Period(WED, WED))).totals.total == 3
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        asked = {"from": "2026-11-22", "to": "2026-11-23", "basis": "booked"}
        page = (await client.get("/admin/reports", params=asked)).text
        assert '<option value="booked" selected>' in page and "basis=booked" in page
        got = csv_rows((await download(client, "daily", "csv", sun, MON, basis="booked")).content)
        assert got[0][:2] == ["预约日期 Booking date", "预约数 Bookings"]
        assert [row[:2] for row in got[1:]] == [
            ["2026-11-22", "1"],
            ["2026-11-23", "2"],
            ["合计 Total", "3"],
        ]
        wrong = await client.get("/admin/reports", params={**asked, "basis": "paid"})
        assert wrong.status_code == 400 and "按就诊日期或预约日期" in wrong.text
    [export] = [r for r in await audit_rows(demo) if r["action"] == "report.export"]
    assert export["after"]["basis"] == "booked"


async def test_a_period_with_nothing_gives_zeros_and_empty_tables(
    week: list[Made], demo: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        page = (
            await client.get("/admin/reports", params={"from": "2025-01-01", "to": "2025-01-31"})
        ).text
        assert "无记录 Nothing in this period." in page and "<dd>0</dd>" in page
        assert "¥0.00" in page and "<dd>—</dd>" in page  # no rate of nothing
        daily = page.split('<section id="daily">')[1].split("</section>")[0]
        assert daily.count("<tr>") == 31 + 1
        got = csv_rows(
            (
                await download(client, "department", "csv", date(2025, 1, 1), date(2025, 1, 31))
            ).content
        )
        zeros = ["合计 Total", "0", "0", "0", "0", "0", "0", "—", "—", "0.00", "0.00", "0", "0"]
        assert got[1:] == [zeros]
        sheet = load_workbook(
            io.BytesIO(
                (
                    await download(client, "refunds", "xlsx", date(2025, 1, 1), date(2025, 1, 1))
                ).content
            )
        ).active
        assert sheet is not None and sheet.max_row == 2


@pytest.mark.parametrize(
    ("first", "last", "hospital", "said"),
    [
        ("2026-11-27", "2026-11-23", "", "早于开始日期"),
        ("2025-01-01", "2026-11-27", "", "400"),
        ("2026-13-01", "2026-11-27", "", "开始日期有误"),
        ("2026-11-23", "2026-11-27", "H99", "没有这家医院"),
        ("9999-12-30", "9999-12-31", "", "开始日期有误"),  # was a 500: no day after it
        ("0001-01-01", "0001-01-31", "", "开始日期有误"),  # was a 500: no UTC midnight
    ],
)
async def test_a_wrong_period_is_told_politely(
    demo: Database,
    clock: FixedClock,
    protector: Protector,
    first: str,
    last: str,
    hospital: str,
    said: str,
) -> None:
    await staff(demo, clock, "admin", Role.ADMIN)
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        params = {"from": first, "to": last, "hospital": hospital}
        answer = await client.get("/admin/reports", params=params)
        assert answer.status_code == 400
        assert said in answer.text and 'role="alert"' in answer.text
        assert f'value="{first}"' in answer.text  # the form keeps what was typed
        export = await client.get("/admin/reports/export", params={**params, "kind": "daily"})
        assert export.status_code == 400 and said in export.text
    assert not [r for r in await audit_rows(demo) if r["action"] == "report.export"]


async def test_an_unknown_report_or_file_format_is_told_politely(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await staff(demo, clock, "admin", Role.ADMIN)
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        for params in ({"kind": "patients"}, {"kind": "daily", "format": "pdf"}, {}):
            answer = await client.get("/admin/reports/export", params=params)
            assert answer.status_code == 400 and "没有这种报表或格式" in answer.text
        whole_month = await client.get("/admin/reports/export", params={"kind": "monthly"})
        assert whole_month.status_code == 200  # this month, as XLSX, when nothing else is said
        assert (
            'filename="guahao-monthly-20261101-20261130.xlsx"'
            in (whole_month.headers["content-disposition"])
        )
    assert len([r for r in await audit_rows(demo) if r["action"] == "report.export"]) == 1


async def test_only_administrators_see_reports_and_the_refusals_are_recorded(
    week: list[Made], demo: Database, clock: FixedClock, protector: Protector
) -> None:
    for username in ("desk", "cardio"):
        async with office(demo, clock, protector) as client:
            await signed_in_as(client, username)
            home = (await client.get("/admin/")).text
            assert "/admin/reports" not in home
            assert (await client.get("/admin/reports")).status_code == 403
            export = await client.get(
                "/admin/reports/export", params={"kind": "refunds", "format": "csv"}
            )
            assert export.status_code == 403 and week[5].booking_no not in export.text
    async with office(demo, clock, protector) as client:
        answer = await client.get("/admin/reports")
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"
    denied = [
        (r["username"], r["target"], r["after"]["why"])
        for r in await audit_rows(demo)
        if r["action"] == "denied"
    ]
    assert denied == [
        ("desk", "GET /admin/reports", "read_reports"),
        ("desk", "GET /admin/reports/export", "read_reports"),
        ("cardio", "GET /admin/reports", "read_reports"),
        ("cardio", "GET /admin/reports/export", "read_reports"),
    ]
    assert not [r for r in await audit_rows(demo) if r["action"] == "report.export"]


async def test_the_page_shows_this_month_by_default_with_a_hospital_choice(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await staff(demo, clock, "admin", Role.ADMIN)
    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        page = (await client.get("/admin/reports")).text
    assert 'value="2026-11-01"' in page and 'value="2026-11-30"' in page
    assert re.search(r'<option value="H02">H02 示范市中医院</option>', page)
    assert csrf_of(page)  # the log-out form


async def test_bookings_closed_unattended_are_neither_cancellations_nor_refunds(
    week: list[Made], demo: Database, clock: FixedClock
) -> None:
    """The desk's bulk close (booking.appointments.desk.close_expired) stores them as cancelled
    with no refund: the hospital kept the place and the fee. Counted as cancellations they
    raised the cancellation rate, their fees went missing from the takings, and the refunds
    list (cut at 200 on the page) filled with bookings nobody returned."""
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # Thursday 09:00 in Shanghai
    desk = Actor(staff_id=None, username=None, address="test")
    assert await close_expired(demo, clock, date(2026, 11, 25), desk) == 3
    in_week = [m for m in week if WEEK.first <= m.visit_date <= WEEK.last]
    closed = [m for m in in_week if m.status == "booked"]
    assert len(closed) == 3
    report = await read_report(demo, WEEK)
    totals = report.totals
    assert (totals.total, totals.booked, totals.expired, totals.cancelled) == (9, 0, 3, 2)
    assert str(totals.cancellation_rate) == "22.2%"  # still 2 of 9
    kept = [m for m in in_week if m.status != "cancelled"]
    assert totals.registration_fen == sum(m.registration_fen for m in kept)
    assert totals.consultation_fen == sum(m.consultation_fen for m in kept)
    assert [r.booking_no for r in report.refunds] == [week[5].booking_no, week[7].booking_no]
    daily = table(report, Kind.DAILY)
    assert daily.columns[-2] == "过期关闭 Closed unattended" and daily.total is not None
    assert daily.total[-2] == 3


async def test_bookings_the_hospital_stopped_are_refunded_but_not_cancellations(
    week: list[Made], demo: Database, clock: FixedClock, protector: Protector
) -> None:
    """停诊 cancels every booking of the session for refund: no patient chose it. Counted as
    退号 they doubled a week's cancellation rate; they are a column of their own, still in
    the refunds list and, refunded, out of the takings."""
    stopping = (week[6], week[8])  # booked, on 00868's Wednesday and 02415's Tuesday
    async with demo.write_engine.connect() as conn:
        sessions = [
            (
                await conn.execute(
                    text("SELECT session_id FROM appointments WHERE booking_no = :no"),
                    {"no": m.booking_no},
                )
            ).scalar_one()
            for m in stopping
        ]
    for session_id in sessions:
        [stopped] = await stop_session(demo, clock, session_id, "医生外出会诊")
        assert stopped.booking_no in {m.booking_no for m in stopping}
    async with demo.write_engine.connect() as conn:  # the database, asked plainly
        rows = await conn.execute(
            text(
                "SELECT booking_no, cancel_reason, refund_due FROM appointments "
                "WHERE status = 'cancelled' AND visit_date BETWEEN :a AND :b"
            ),
            {"a": MON, "b": FRI},
        )
        reasons = {no: (reason, bool(due)) for no, reason, due in rows}
    by_no = {m.booking_no: m for m in week}
    stopped_nos = {no for no, (reason, _) in reasons.items() if reason == "hospital_stop"}
    assert stopped_nos == {m.booking_no for m in stopping}
    for no, (reason, due) in reasons.items():
        by_no[no].status, by_no[no].refund_due = (
            "stopped" if reason == "hospital_stop" else "cancelled",
            due,
        )
    in_week = [m for m in week if WEEK.first <= m.visit_date <= WEEK.last]

    report = await read_report(demo, WEEK)
    totals = report.totals
    assert (totals.total, totals.booked, totals.cancelled, totals.stopped) == (9, 1, 2, 2)
    assert str(totals.cancellation_rate) == "22.2%"  # 2 of 9, not 4 of 9
    kept = [m for m in in_week if m.status not in ("cancelled", "stopped")]
    assert totals.registration_fen == sum(m.registration_fen for m in kept)
    assert totals.consultation_fen == sum(m.consultation_fen for m in kept)
    assert {(r.booking_no, r.reason, r.refund_due) for r in report.refunds} == {
        (no, reason, due) for no, (reason, due) in reasons.items()
    }
    assert len(report.refunds) == 4
    refunded = {r.booking_no: r.refund_fen for r in report.refunds}
    for m in stopping:
        assert refunded[m.booking_no] == m.registration_fen + m.consultation_fen > 0

    def per(key: str) -> dict[str, tuple[int, int, str, int, int]]:
        """Per group: cancelled, stopped, the cancellation rate, the fees kept."""
        found: dict[str, Counter[str]] = {}
        for m in in_week:
            c = found.setdefault(str(getattr(m, key)), Counter())
            c["total"] += 1
            c[m.status] += 1
            if m in kept:
                c["reg"] += m.registration_fen
                c["cons"] += m.consultation_fen
        return {
            k: (c["cancelled"], c["stopped"], f"{100 * c['cancelled'] / c['total']:.1f}%",
                c["reg"], c["cons"])
            for k, c in found.items()
        }  # fmt: skip

    departments = per("department")
    assert {
        g.label: (
            g.counts.cancelled,
            g.counts.stopped,
            str(g.counts.cancellation_rate),
            g.counts.registration_fen,
            g.counts.consultation_fen,
        )
        for g in report.departments
    } == departments
    assert sum(v[1] for v in departments.values()) == 2

    async with office(demo, clock, protector) as client:
        await signed_in_as(client, "admin")
        page = (
            await client.get("/admin/reports", params={"from": "2026-11-23", "to": "2026-11-27"})
        ).text
        section = page.split('<section id="department">')[1].split("</section>")[0]
        assert '<th class="n">停诊 Stopped by the hospital</th></tr>' in section
        refunds = page.split('<section id="refunds">')[1].split("</section>")[0]
        assert all(m.booking_no in refunds for m in stopping)
        assert refunds.count("停诊 stopped") == 2

        got = csv_rows((await download(client, "department", "csv")).content)
        assert got[0][-1] == "停诊 Stopped by the hospital"
        assert got[0][-2] == "过期关闭 Closed unattended"  # the columns before keep their places
        in_csv = {r[0]: (int(r[5]), int(r[12]), r[8], r[9], r[10]) for r in got[1:-1]}
        assert in_csv == {
            k: (c, st, rate, str(Yuan(reg)), str(Yuan(cons)))
            for k, (c, st, rate, reg, cons) in departments.items()
        }
        assert (got[-1][0], got[-1][5], got[-1][8], got[-1][12]) == (
            "合计 Total",
            "2",
            "22.2%",
            "2",
        )
        assert got[-1][9:11] == [
            str(Yuan(totals.registration_fen)),
            str(Yuan(totals.consultation_fen)),
        ]

        sheet = load_workbook(io.BytesIO((await download(client, "daily", "xlsx")).content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][-1] == "停诊 Stopped by the hospital"
        days = per("visit_date")
        in_sheet = {r[0]: (r[3], r[8], fen(r[5]), fen(r[6])) for r in rows[1:-1]}
        nothing = (0, 0, "—", 0, 0)  # Thursday and Friday: nobody booked
        assert in_sheet == {
            day: (cancelled, stopped, reg, cons)
            for day, (cancelled, stopped, _, reg, cons) in (
                (d.isoformat(), days.get(d.isoformat(), nothing)) for d in WEEK.days
            )
        }
        assert (rows[-1][0], rows[-1][3], rows[-1][8]) == ("合计 Total", 2, 2)
        assert fen(rows[-1][5]) == totals.registration_fen

        sheet = load_workbook(
            io.BytesIO((await download(client, "refunds", "xlsx")).content)
        ).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        refund_rows = {r[0]: (r[5], r[6], fen(r[9])) for r in rows[1:-1]}
        for m in stopping:
            assert refund_rows[m.booking_no] == (
                "停诊 stopped",
                "是 yes",
                m.registration_fen + m.consultation_fen,
            )
        assert len(refund_rows) == 4


async def test_the_tables_of_one_report_see_the_same_moment(
    week: list[Made], demo: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A booking cancelled while the page's queries run must not be booked in one table and
    cancelled in the next (PostgreSQL reads each query afresh unless told otherwise)."""
    from booking.store.reports_repo import SqlReports

    tallies = SqlReports.tallies
    changed: list[str] = []

    async def cancelled_meanwhile(
        self: SqlReports, period: Period, zone: ZoneInfo, by: Grouping
    ) -> list[Tally]:
        found = await tallies(self, period, zone, by)
        if not changed:  # after the first table: someone cancels a booking
            async with demo.write_engine.begin() as conn:
                await conn.execute(
                    text("UPDATE appointments SET status = 'cancelled' WHERE booking_no = :no"),
                    {"no": week[3].booking_no},
                )
            changed.append(week[3].booking_no)
        return found

    monkeypatch.setattr(SqlReports, "tallies", cancelled_meanwhile)
    report = await read_report(demo, WEEK)
    assert changed
    cancelled = {
        sum(g.counts.cancelled for g in groups)
        for groups in (report.clinic_types, report.departments, report.doctors, report.days)
    }
    assert cancelled == {2}  # as it was when the report began
