"""The back office in a real browser (Debian's Chromium driven by Playwright): staff log in,
find a caller's booking by phone and cancel it, stop a session, read a chart and export a
report as XLSX (opened with openpyxl); a role is shown 403 for what it may not do.
Screenshots are kept in test-artifacts/ as evidence."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from booking.appointments.book import book
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.staff.accounts import add_staff
from booking.staff.audit import COMMAND_LINE
from booking.staff.model import Role
from booking.store import Database
from tests.e2e.test_browser import ARTIFACTS, CHROMIUM
from tests.office import PASSWORD, PASSWORDS
from tests.support import SECRET, id_number
from tests.webserver import MONDAY_MORNING, serving

WED = date(2026, 11, 25)
PHONE = "13900002718"


@dataclass
class Office:
    page: Page
    base: str
    booking_no: str
    session_id: int


async def _prepare(folder: Path) -> tuple[str, int]:
    """Two members of staff, and one booking on 张伟's Wednesday afternoon made in the chat."""
    db = Database(f"sqlite+aiosqlite:///{folder / 'web.sqlite3'}")
    clock = FixedClock(datetime.fromisoformat(MONDAY_MORNING))
    protector = Protector(SECRET)
    try:
        for username, role in (("admin", Role.ADMIN), ("desk", Role.REGISTRATION)):
            await add_staff(
                db,
                clock,
                PASSWORDS,
                username=username,
                password=PASSWORD,
                role=role,
                department_code=None,
                actor=COMMAND_LINE,
            )
        account = protector.account("web", "browser-caller")
        patient = await register_patient(
            db,
            protector,
            clock,
            name="毛利兰",
            id_number=id_number(2718, born=date(1990, 2, 7)),
            phone=PHONE,
            account=account,
        )
        [offer] = await search_sessions(
            db, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
        )
        receipt = await book(
            db, clock, patient_id=patient.id, session_id=offer.session.id, channel="web",
            account=account,
        )  # fmt: skip
        return receipt.appointment.booking_no, offer.session.id
    finally:
        await db.dispose()


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with serving(tmp_path) as base:
        # In a thread of its own: this one's event loop belongs to Playwright.
        with ThreadPoolExecutor(1) as aside:
            booking_no, session_id = aside.submit(asyncio.run, _prepare(tmp_path)).result()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            tab = context.new_page()
            tab.set_default_timeout(20_000)
            try:
                yield Office(tab, base, booking_no, session_id)
            finally:
                browser.close()


def log_in(office: Office, username: str) -> None:
    page = office.page
    page.goto(f"{office.base}/admin/")
    expect(page).to_have_url(f"{office.base}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    expect(page.locator("header .who")).to_contain_text(username)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_desk_finds_a_callers_booking_by_phone_and_cancels_it(office: Office) -> None:
    page = office.page
    log_in(office, "desk")
    page.click("header a:has-text('查找预约')")
    page.fill("input[name=q]", "139 0000 2718")  # read out over the phone, with spaces
    page.click("button:has-text('查找')")
    row = page.locator("tr", has_text=office.booking_no)
    expect(row).to_contain_text("张伟")
    expect(row).to_contain_text("139****2718")
    expect(row).not_to_contain_text(PHONE)
    assert "2718" not in page.url and "/admin/bookings?s=" in page.url  # posted, not in history
    shot(page, "backoffice-find-by-phone")
    row.locator("button:has-text('退号')").click()  # the caller cannot come on Wednesday
    expect(page.locator(".done")).to_contain_text("已退号")
    expect(page.locator("tr", has_text=office.booking_no)).to_contain_text("已退号")


def test_registration_staff_are_shown_403_for_the_audit_log(office: Office) -> None:
    page = office.page
    log_in(office, "desk")
    answer = page.goto(f"{office.base}/admin/audit")
    assert answer is not None and answer.status == 403
    expect(page.locator("h1")).to_contain_text("403")


def test_an_administrator_stops_a_session_and_its_booking_is_cancelled(office: Office) -> None:
    page = office.page
    log_in(office, "admin")
    page.goto(f"{office.base}/admin/sessions/{office.session_id}")
    row = page.locator("tr", has_text=office.booking_no)
    expect(row).to_contain_text("已预约")
    page.fill("input[name=reason]", "医生临时出差")
    page.click("button:has-text('停诊 Stop')")
    expect(page.locator("tr", has_text=office.booking_no)).to_contain_text("已退号")
    expect(page.locator("main")).to_contain_text("医生临时出差")
    expect(page.locator("button:has-text('停诊 Stop')")).to_have_count(0)
    shot(page, "backoffice-session-stopped")


def test_an_administrator_reads_a_chart_and_exports_it_as_xlsx(
    office: Office, tmp_path: Path
) -> None:
    page = office.page
    log_in(office, "admin")
    page.click("header a:has-text('统计报表')")
    page.fill("input[name=from]", "2026-11-01")
    page.fill("input[name=to]", "2026-11-30")
    page.locator("form", has=page.locator("input[name=from]")).locator("button").click()
    departments = page.locator("section#department")
    expect(departments.locator("svg rect.bar")).to_have_count(1)
    expect(departments.locator("table")).to_contain_text("心血管内科")
    shot(page, "backoffice-report-chart")
    with page.expect_download() as downloading:
        departments.locator("a:has-text('XLSX')").click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    [cardiology] = [row for row in rows if any("心血管内科" in str(cell) for cell in row)]
    assert 1 in cardiology  # the one booking of the month
