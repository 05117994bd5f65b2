"""Telegram and SMS as `guahao serve` runs them: the application built from settings, against
a local Bot API server and a local SMS gateway (tests/fakes). The channels' own tests are in
test_telegram.py and test_sms.py; here, what the wiring adds: one patient reached over both,
the one-time code sent by SMS to link a Telegram account, and the start-up settings."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest

from booking.appointments.book import book
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database, upgrade
from tests.fakes.bot_api import TOKEN, FakeBotApi, running_bot_api
from tests.fakes.sms_gateway import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    GATEWAY_NUMBER,
    FakeSmsGateway,
    GatewayWebhooks,
    running,
)
from tests.support import MONDAY_9AM, SECRET, chat_id, demo_catalogue, id_number
from tests.webserver import serving

GUAHAO = str(Path(sys.executable).with_name("guahao"))
PHONE = "+8613812345678"
WEBHOOK_SECRET = "hospital-webhook-secret-0123456789"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_bot_api() as fake:
        yield fake


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    with running(FakeSmsGateway()) as fake:
        yield fake


def channel_settings(api: FakeBotApi, gateway: FakeSmsGateway, **more: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_ACCOUNT_SID": ACCOUNT_SID,
        "SMS_AUTH_TOKEN": AUTH_TOKEN,
        "SMS_FROM": GATEWAY_NUMBER,
        **more,
    }


@asynccontextmanager
async def served(folder: Path, **settings: str) -> AsyncIterator[str]:
    """tests.webserver.serving, entered off the event loop (it runs its own set-up loop)."""
    server = serving(folder, **settings)
    base = await asyncio.to_thread(server.__enter__)
    try:
        yield base
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


async def sms_saying(gateway: FakeSmsGateway, to: str, words: str, after: int = 0) -> str:
    """The first SMS to `to`, from the `after`-th on, that says `words` (waiting for it)."""
    deadline = time.monotonic() + 15
    while True:
        found = [text for text in gateway.sent(to)[after:] if words in text]
        if found:
            return found[0]
        assert time.monotonic() < deadline, gateway.sent(to)
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_patient_registered_by_sms_adds_herself_on_telegram_with_the_code_sent_by_sms(
    tmp_path: Path, api: FakeBotApi, gateway: FakeSmsGateway, mode: str
) -> None:
    webhook = (
        {
            "TELEGRAM_WEBHOOK_URL": "{base}/webhooks/telegram",
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        if mode == "webhook"
        else {}
    )
    async with served(tmp_path, **channel_settings(api, gateway, **webhook)) as base:
        if mode == "webhook":
            assert api.webhook == (f"{base}/webhooks/telegram", WEBHOOK_SECRET)
        sms = GatewayWebhooks(f"{base}/webhooks/sms")
        # By SMS: an ID number on its own, then the name; the phone is the sender's.
        assert (await sms.deliver(PHONE, id_number(7))).status_code == 200
        await sms_saying(gateway, PHONE, "姓名")
        await sms.deliver(PHONE, "王芳")
        await sms_saying(gateway, PHONE, "王芳")

        # On Telegram, the same person: the ID number alone is not enough, the code texted to
        # the phone she registered by SMS proves her.
        chat = 777
        api.user_says(chat, "添加就诊人")
        await api.wait_sent(chat, 1)
        for text in ("王芳", id_number(7), "13812345678"):
            api.user_says(chat, text)
        asked = (await api.wait_sent(chat, 4))[-1]
        assert "138****5678" in asked.text and "code:again" in asked.keys
        code_sms = await sms_saying(gateway, PHONE, "验证码")
        code = "".join(ch for ch in code_sms if ch.isdigit())[:6]
        api.user_says(chat, code)
        assert "王芳" in (await api.wait_sent(chat, 5))[-1].text

        # Booked on Telegram, seen by SMS: one patient, two channels.
        api.user_says(chat, "帮我挂后天下午心内科张伟医生的号")
        confirm = (await api.wait_sent(chat, 6))[-1]
        api.user_presses(chat, "confirm:yes", confirm.message_id)
        assert "预约成功" in (await api.wait_sent(chat, 7))[-1].text
        sent_before = len(gateway.sent(PHONE))
        await sms.deliver(PHONE, "我的预约")
        await sms_saying(gateway, PHONE, "2026-11-25", after=sent_before)


async def test_forged_webhooks_are_refused_by_the_served_app(
    tmp_path: Path, api: FakeBotApi, gateway: FakeSmsGateway
) -> None:
    settings = channel_settings(
        api,
        gateway,
        TELEGRAM_WEBHOOK_URL="{base}/webhooks/telegram",
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    async with served(tmp_path, **settings) as base:
        sms = GatewayWebhooks(f"{base}/webhooks/sms")
        assert (await sms.deliver(PHONE, "你好", signature="wrong token")).status_code == 403
        assert (await sms.deliver(PHONE, "你好", signature="missing")).status_code == 403
        update = api.message_update(42, "/start")
        assert await api.post_to_webhook(update, "not-the-secret") == 403
        assert await api.post_to_webhook(update, None) == 403
    assert gateway.sent() == [] and api.sent(42) == []


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN"),
        (
            "TELEGRAM_WEBHOOK_URL",
            "https://hospital.example/webhooks/telegram",
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        ("SMS_GATEWAY_URL", "https://api.twilio.com", "SMS_ACCOUNT_SID"),
        ("TELEGRAM_STAFF_CHAT_ID", "the staff group", "TELEGRAM_STAFF_CHAT_ID"),
    ],
)
def test_a_missing_or_malformed_channel_setting_stops_start_up_naming_it(
    tmp_path: Path, setting: str, value: str, named: str
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMS_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        setting: value,
    }
    if setting == "TELEGRAM_BOT_TOKEN":
        env[setting] = value
    done = subprocess.run([GUAHAO, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: settings:") and named in line
    assert value not in line or setting != "TELEGRAM_BOT_TOKEN"  # a secret is not repeated


async def test_a_complaint_on_telegram_reaches_the_staff_group_and_the_answer_comes_back(
    tmp_path: Path, api: FakeBotApi, gateway: FakeSmsGateway
) -> None:
    staff_group, nurse, stranger, patient = -100200, 5001, 5002, 888
    settings = channel_settings(
        api,
        gateway,
        TELEGRAM_STAFF_CHAT_ID=str(staff_group),
        TELEGRAM_STAFF_USER_IDS=str(nurse),
    )
    async with served(tmp_path, **settings):
        api.user_says(patient, "我要投诉")
        await api.wait_sent(patient, 1)
        api.user_says(patient, "挂号处态度很差，排了一个小时")
        filed = (await api.wait_sent(patient, 2))[-1].text
        found = re.search(r"TS\d{10}", filed)
        assert found, filed
        number = found.group(0)
        posted = (await api.wait_sent(staff_group, 1))[0]
        assert number in posted.text and "排了一个小时" in posted.text
        assert f"staff:accept:{number}" in posted.keys

        api.user_presses(staff_group, f"staff:accept:{number}", posted.message_id, user_id=stranger)
        api.user_presses(staff_group, f"staff:accept:{number}", posted.message_id, user_id=nurse)
        await api.wait_sent(staff_group, 2)  # "王护士 已受理"
        deadline = time.monotonic() + 15
        while len(api.answers) < 2:  # each press answered, after the note to the group
            assert time.monotonic() < deadline, api.answers
            await asyncio.sleep(0.05)
        refused, accepted = api.answers[-2:]
        assert "只有投诉处理人员" in refused.get("text", "") and number in accepted.get("text", "")

        api.user_says(staff_group, f"/reply {number} 非常抱歉，已安排专人核实。", user_id=nurse)
        told = (await api.wait_sent(patient, 3))[-1].text
        assert number in told and "已安排专人核实" in told


async def test_the_web_chat_serves_while_telegram_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}/bot"
    settings = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": nowhere}
    async with served(tmp_path, **settings) as base, httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"{base}/api/webchat/messages",
            json={"session": chat_id("web-patient-1"), "text": "你好"},
        )
    assert answer.status_code == 200 and answer.json()["replies"]


def test_a_worker_process_sends_the_reminder_through_telegram(
    tmp_path: Path, api: FakeBotApi
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}"
    upgrade(url)
    clock = FixedClock(MONDAY_9AM)
    protector = Protector(SECRET)
    account = protector.account("telegram", "4242")

    async def a_booking() -> None:
        db = Database(url)
        await import_catalogue(db, demo_catalogue())
        await generate_sessions(db, clock)
        patient = await register_patient(
            db, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
            account=account,
        )  # fmt: skip
        [offer] = await search_sessions(
            db, clock, doctor="00868", date_from=date(2026, 11, 25), date_to=date(2026, 11, 25)
        )
        await book(
            db, clock, patient_id=patient.id, session_id=offer.session.id, channel="telegram",
            account=account, address=protector.encrypt("4242"),
        )  # fmt: skip
        await db.dispose()

    asyncio.run(a_booking())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMS_"))},
        "DATABASE_URL": url,
        "GUAHAO_SECRET_KEY": SECRET,
        "GUAHAO_NOW": "2026-11-24T20:00:00+08:00",  # the evening before
        "GUAHAO_NLU_MODELS": str(tmp_path / "models"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
    }
    worker = subprocess.Popen(
        [GUAHAO, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not api.sent(4242):
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "no reminder within a minute"
            time.sleep(0.2)
        [reminder] = api.sent(4242)
        assert "明天" in reminder.text and "notice:cancel:" in reminder.keys[1]
        assert api.commands == {}  # a worker takes no messages: no commands, no polling
    finally:
        worker.terminate()
        worker.wait(30)
