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
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support import ROOT
from tests.webserver import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Browser]]:
    """The served application and a Chromium to visit it with."""
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with serving(tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield base, browser
        finally:
            browser.close()


def phone(browser: Browser, base: str, before_load: str = "") -> Page:
    """A tab of a phone's size on the chat; `before_load`: a script run before the page's."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    if before_load:
        context.add_init_script(before_load)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    refused = []
    tab.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    tab.goto(base)
    tab.refused = refused  # type: ignore[attr-defined]
    return tab


@pytest.fixture
def page(site: tuple[str, Browser]) -> Page:
    return phone(site[1], site[0])


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
    assert page.refused == []  # type: ignore[attr-defined]  # nothing the page needs is blocked


def test_what_anyone_types_stays_text(page: Page) -> None:
    expect(page.locator("#log")).to_contain_text("预约挂号助手")
    say(page, "<img src=x onerror=\"document.title='hacked'\"><b>bold</b>")
    expect(page.locator(".msg.me").last).to_contain_text("<b>bold</b>")
    assert page.locator("#log img").count() == 0
    assert page.title() != "hacked"


# Math.random and the time are guessable: a page that used them for its id would fail here.
NO_GUESSING = "Math.random = () => { throw new Error('guessable'); };"
SESSION = "localStorage.getItem('guahao-session')"


def test_the_chat_id_comes_from_the_browsers_cryptographic_randomness(
    site: tuple[str, Browser],
) -> None:
    base, browser = site
    # An old page's guessable id (digits and the time) is replaced; randomUUID is not needed.
    old = "localStorage.setItem('guahao-session', '4711081512345671700000000000');"
    tab = phone(browser, base, NO_GUESSING + old + "delete Crypto.prototype.randomUUID;")
    expect(tab.locator("#log")).to_contain_text("预约挂号助手")
    session = tab.evaluate(SESSION)
    assert re.fullmatch(r"[0-9a-f]{32}", session), session
    say(tab, "你好")
    expect(tab.locator(".msg.bot")).not_to_have_count(1)


def test_without_cryptographic_randomness_the_page_says_it_cannot_run(
    site: tuple[str, Browser],
) -> None:
    base, browser = site
    none = "delete Crypto.prototype.randomUUID; delete Crypto.prototype.getRandomValues;"
    posted: list[str] = []
    context = browser.new_context()
    context.add_init_script(NO_GUESSING + none)
    tab = context.new_page()
    tab.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    tab.goto(base)
    expect(tab.locator("#log")).to_contain_text("cannot run the chat safely")
    expect(tab.locator("#text")).to_be_disabled()
    assert tab.evaluate(SESSION) is None and posted == []


def test_another_site_cannot_frame_the_chat(site: tuple[str, Browser]) -> None:
    base, browser = site
    tab = browser.new_page()
    with tab.expect_response(base + "/"):
        tab.set_content(f'<iframe id="chat" src="{base}/"></iframe>')
    tab.wait_for_timeout(500)  # a framed page that loads runs its script at once
    framed = [frame for frame in tab.frames if frame != tab.main_frame]
    assert framed and all(frame.locator("#log").count() == 0 for frame in framed)
