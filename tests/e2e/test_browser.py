"""A patient books in a real browser: Debian's Chromium driven by Playwright (no browser
download), clicking the web chat's buttons and typing the registration (and the code that
proves the phone, shown in the chat in development), then sees the booking under "my
bookings". A screenshot is kept in test-artifacts/ as evidence."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support import ROOT
from tests.webserver import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with serving(tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        tab.goto(base)
        try:
            yield tab
        finally:
            browser.close()


def press(page: Page, label: str) -> None:
    page.locator(".choices button:not([disabled])", has_text=label).first.click()


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def test_book_by_clicking_then_see_it_under_my_bookings(page: Page) -> None:
    log = page.locator("#log")
    expect(log).to_contain_text("预约挂号助手")
    press(page, "预约挂号")
    press(page, "心血管内科")
    press(page, "张伟")
    press(page, "2026-11-25")
    expect(log).to_contain_text("姓名")
    say(page, "张三")
    expect(log).to_contain_text("身份证号")
    say(page, "11010519491231002X")
    expect(log).to_contain_text("手机号")
    say(page, "13812345678")
    # No SMS gateway in development: the code proving the phone is shown in the chat.
    expect(log).to_contain_text("验证码是")
    code = re.search(r"验证码是 (\d{6})", log.inner_text())
    assert code is not None
    say(page, code.group(1))
    expect(log).to_contain_text("请确认")
    press(page, "确认预约")
    expect(log).to_contain_text("预约成功")
    booking_no = re.search(r"预约号 (\d{14})", log.inner_text())
    assert booking_no is not None
    page.click("#mine")
    expect(page.locator(".msg.bot").last).to_contain_text(booking_no.group(1))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-booking.png"), full_page=True)


def test_what_anyone_types_stays_text(page: Page) -> None:
    expect(page.locator("#log")).to_contain_text("预约挂号助手")
    say(page, "<img src=x onerror=\"document.title='hacked'\"><b>bold</b>")
    expect(page.locator(".msg.me").last).to_contain_text("<b>bold</b>")
    assert page.locator("#log img").count() == 0
    assert page.title() != "hacked"
