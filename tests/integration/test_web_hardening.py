"""Hostile requests to every public route of the served application (a real uvicorn server on
127.0.0.1, as `guahao serve` runs it, with Telegram's webhook and the SMS gateway configured):
an oversized body is refused (413, or another 4xx when the route answers before reading it)
without being read, a malformed one gets a short fixed 4xx, nothing a client sent comes back
in the answer or goes into the log, and a health probe is answered meanwhile."""

from __future__ import annotations

import json
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from bot.app import create_app
from bot.settings import Settings
from tests.fakes.bot_api import running_bot_api
from tests.fakes.sms_gateway import FakeSmsGateway, running
from tests.integration.test_channels_app import WEBHOOK_SECRET, channel_settings
from tests.support import SECRET, chat_id
from tests.webserver import serving

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
TWENTY_MB = 20 * 1024 * 1024
JSON = {"Content-Type": "application/json"}
TELEGRAM = {**JSON, "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# Every route that takes a body from anyone: (path, headers).
ROUTES = [
    ("/api/webchat/messages", JSON),
    ("/webhooks/sms", FORM),
    ("/webhooks/telegram", TELEGRAM),
    ("/fhir/Appointment", {"Content-Type": "application/fhir+json"}),
    ("/admin/login", FORM),
    ("/admin/api/complaints/ABCD1234/reply", JSON),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_bot_api() as api, running(FakeSmsGateway()) as gateway:
        webhook = {
            "TELEGRAM_WEBHOOK_URL": "{base}/webhooks/telegram",
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        settings = channel_settings(api, gateway, **webhook)
        with serving(tmp_path_factory.mktemp("hostile"), **settings) as base:
            yield base


class Probe:
    """Asks /healthz every 50 ms in a thread; the longest wait for an answer."""

    def __init__(self, base: str) -> None:
        self.base, self.longest, self.failed = base, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    ok = client.get(self.base + "/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.longest = max(self.longest, time.monotonic() - started)
                self.failed += not ok
                self._stop.wait(0.05)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)


def post_raw(
    base: str, path: str, headers: dict[str, str], size: int, *, chunked: bool
) -> tuple[int | None, bytes, int]:
    """Posts `size` bytes of a JSON array (declared by Content-Length, or chunked), stopping as
    soon as the server answers: (status or None when it only closed, answer, bytes sent)."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    piece = b"[" + b"0," * 32 * 1024  # 64 KB of an endless array
    sent = 0
    try:
        while sent < size:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # answered (or closed) already
                break
            data = piece[: size - sent]
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            sent += len(data)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except OSError:  # closed on us: what it said, if anything, can still be read
        pass
    answer = b""
    try:
        sock.settimeout(30)
        while chunk := sock.recv(65536):
            answer += chunk
    except OSError:
        pass
    finally:
        sock.close()
    if not answer.startswith(b"HTTP/1.1 "):
        return None, answer, sent
    return int(answer[9:12]), answer, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_body_is_refused_unread_and_the_server_answers_meanwhile(
    server: str, chunked: bool
) -> None:
    with Probe(server) as probe:
        for path, headers in ROUTES:
            started = time.monotonic()
            status, answer, sent = post_raw(server, path, headers, TWENTY_MB, chunked=chunked)
            took = time.monotonic() - started
            # 413; or, where the route asks who is sending before reading, 401 or 403.
            assert status in (401, 403, 413), (path, status, answer[:200])
            # Answered before the end (what was sent past the limit sits in socket buffers).
            assert sent < TWENTY_MB, (path, sent)
            assert took < 10, (path, took)
            assert len(answer) < 2000 and b"0,0,0" not in answer, path
    assert probe.longest < 3 and probe.failed == 0, probe.longest


def test_many_of_the_largest_bodies_allowed_do_not_hold_up_the_server(server: str) -> None:
    """What each route still reads: a body just under its limit, made to cost the most."""
    nested = b"[" * (1024 * 1024 - 1)
    zeros = [0] * ((1024 * 1024 - 100) // 2)
    wide = json.dumps({"session": "abcdefgh-01", "text": zeros}, separators=(",", ":"))
    bodies = [nested, wide.encode()]

    answers: list[tuple[int, int]] = []

    def hammer(body: bytes) -> None:
        with httpx.Client(timeout=60) as client:
            for _ in range(4):
                answer = client.post(server + "/api/webchat/messages", content=body, headers=JSON)
                answers.append((answer.status_code, len(answer.content)))

    with Probe(server) as probe:
        threads = [threading.Thread(target=hammer, args=(body,)) for body in bodies * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(answers) == 16
    assert all(400 <= status < 500 and size < 2000 for status, size in answers), answers
    assert probe.longest < 2, probe.longest


# Malformed bodies, each carrying an ID number and a phone number.
MALFORMED_JSON = [
    b'{"session": "abcdefgh-01", "text": NaN, "id": "%s", "p": "%s"}',
    b'{"session": "abcdefgh-01", "text": Infinity, "id": "%s", "p": "%s"}',
    b'[-Infinity, "%s", "%s"]',
    b'{"session": "abcdefgh-01\\ud800", "text": "%s %s"}',
    b'{"session": "abcdefgh-01", "text": "\xff\xfe%s", "x": "%s"}',
    b'{"session": "abcdefgh-01", "text": ["%s", "%s"]}',
    b'{"session": ["%s"], "choice": {"%s": 1}}',
    b'{"session": "abcdefgh-01", "text": "%s", "p": "%s"',
    b"[" * 5000 + b'"%s", "%s"',
]
MALFORMED = [body % (ID_NUMBER.encode(), PHONE.encode()) for body in MALFORMED_JSON]
MALFORMED_FORMS = [
    b"csrf=x&username=%s&password=%s\xff\xfe%%ud800%%" % (ID_NUMBER.encode(), PHONE.encode()),
    b"From=%s&Body=%s%%ED%%A0%%80&MessageSid=SM1" % (PHONE.encode(), ID_NUMBER.encode()),
]


class Everything(logging.Handler):
    """Every record any logger writes, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("httpx", "httpcore")):  # the test's own client
            self.text.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[Everything]:
    handler = Everything()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_malformed_bodies_get_a_short_fixed_4xx_quoting_nothing_and_logging_nothing(
    server: str, logged: Everything
) -> None:
    with httpx.Client(timeout=30) as client:
        tried = [(path, headers, body) for path, headers in ROUTES for body in MALFORMED]
        tried += [(path, FORM, body) for path in ("/webhooks/sms", "/admin/login")
                  for body in MALFORMED_FORMS]  # fmt: skip
        tried += [("/api/webchat/notices?session=" + PHONE + "%ED%A0%80", {}, b"")]
        for path, headers, body in tried:
            if body:
                answer = client.post(server + path, content=body, headers=headers)
            else:
                answer = client.get(server + path)
            where = (path, body[:60])
            assert 400 <= answer.status_code < 500, (*where, answer.status_code, answer.text)
            assert len(answer.content) < 2000, where
            for secret in (ID_NUMBER, PHONE, "NaN", "Infinity"):
                assert secret not in answer.text, (*where, answer.text)
    log = "\n".join(logged.text)
    assert ID_NUMBER not in log and PHONE not in log, log
    assert "Traceback" not in log, log


async def test_the_api_description_is_not_published_in_production() -> None:
    async def status(settings: Settings, path: str) -> int:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://guahao.test") as web:
            return (await web.get(path)).status_code

    key = "Ku5TOn6XcwiFHRO1GV9jc6Q3DkYQcgUideVQfXBy9gU"  # not SECRET: refused in production
    production = Settings(GUAHAO_ENV="production", GUAHAO_SECRET_KEY=key)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert await status(production, path) == 404, path
        asked = Settings(GUAHAO_ENV="production", GUAHAO_SECRET_KEY=key, GUAHAO_API_DOCS=True)
        assert await status(asked, path) == 200, path
        assert await status(Settings(GUAHAO_SECRET_KEY=SECRET), path) == 200, path  # development


def test_the_chat_page_may_not_be_framed_nor_run_other_code(server: str) -> None:
    for path in ("/", "/webchat.js", "/webchat.css"):
        answer = httpx.get(server + path, timeout=10)
        assert answer.status_code == 200, path
        policy = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    page = httpx.get(server + "/", timeout=10).text
    assert "<script>" not in page and "<style>" not in page
    assert not re.search(r"\son\w+\s*=", page)  # no inline handlers either


def chat(base: str, session: str, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    body = {"session": session, "text": "你好"}
    return httpx.post(
        f"{base}/api/webchat/messages", json=body, headers=headers, timeout=30
    ).status_code


def test_a_forged_forwarded_for_does_not_escape_the_per_address_limit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    limits = {"GUAHAO_WEBCHAT_PER_ADDRESS": "4/minute"}
    with serving(tmp_path_factory.mktemp("forged"), **limits) as base:
        answers = [chat(base, chat_id(f"chat-{n}"), f"203.0.113.{n}") for n in range(6)]
    assert answers == [200] * 4 + [429] * 2
    # Behind the hospital's own proxy (here: 127.0.0.1), its header names the patient.
    trusted = {**limits, "GUAHAO_TRUSTED_PROXIES": "127.0.0.1/32, ::1"}
    with serving(tmp_path_factory.mktemp("proxied"), **trusted) as base:
        patients = [
            chat(base, chat_id(f"chat-{n}"), f"198.51.100.7, 203.0.113.{n}") for n in range(6)
        ]
        lobby = [chat(base, chat_id(f"lobby-{n}"), "203.0.113.200") for n in range(5)]
    assert patients == [200] * 6
    assert lobby == [200] * 4 + [429]


def served(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """The application's routes with their paths, those of the routers it includes too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        inner = getattr(route, "original_router", None)  # FastAPI's included router
        if inner is not None:
            context = getattr(route, "include_context", None)  # the prefix it is included with
            yield from served(inner.routes, prefix + (context.prefix if context else ""))


def test_a_stranger_is_asked_to_sign_in_whatever_the_staff_route_address_holds(
    server: str,
) -> None:
    """Every staff route the application serves, called anonymously with a malformed path and
    query (an ID number where a number or code belongs, every query field far too long): the
    answer is "sign in" (401 for the JSON API, the login page for the rest), never a 422."""
    app = create_app(Settings(GUAHAO_SECRET_KEY=SECRET))  # the served one's routes
    bad = ID_NUMBER + "!"
    tried = 0
    with httpx.Client(base_url=server, timeout=30) as web:
        for route_path, route in served(app.routes):
            if not route_path.startswith("/admin"):
                continue
            if route_path == "/admin/login":
                continue
            path = re.sub(r"\{[^}]+\}", bad, route_path)
            query = {p.alias: ID_NUMBER * 20 for p in route.dependant.query_params}
            query.setdefault("status", bad)
            for method in route.methods:
                answer = web.request(method, path, params=query, json={"text": ID_NUMBER})
                tried += 1
                where = (method, route_path, answer.status_code)
                if route_path.startswith("/admin/api/"):
                    assert answer.status_code == 401, where
                    assert answer.json()["reason"] == "not_signed_in", where
                else:
                    assert answer.status_code == 303, where
                    assert answer.headers["location"] == "/admin/login", where
                assert ID_NUMBER not in answer.text, where
    assert tried > 40  # every area of the back office


def answered_unread(base: str, path: str, headers: dict[str, str], length: int) -> bytes:
    """What the server answers to headers announcing `length` bytes of body, none of them
    sent (b"" when it waits for the body instead)."""
    where = urlsplit(base)
    lines = [f"POST {path} HTTP/1.1", f"Host: {where.netloc}", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((where.hostname, where.port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        if not select.select([connection], [], [], 5)[0]:
            return b""
        return connection.recv(200)


def test_webhooks_refuse_a_missing_or_wrong_secret_before_reading_the_body(server: str) -> None:
    wrong = {**JSON, "X-Telegram-Bot-Api-Secret-Token": "not-the-secret-0123456789"}
    assert answered_unread(server, "/webhooks/telegram", wrong, 900_000).startswith(b"HTTP/1.1 403")
    unsigned = answered_unread(server, "/webhooks/sms", FORM, 1_900_000)
    assert unsigned.startswith((b"HTTP/1.1 403", b"HTTP/1.1 429")), unsigned  # 429: limited
