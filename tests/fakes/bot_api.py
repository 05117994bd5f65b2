"""A local Telegram Bot API server: python-telegram-bot talks to it over real HTTP (give it
`api.base_url`), tests play the patients and staff and read what the bot sent.

    with running_bot_api() as api:
        api.user_says(42, "/start")
        sent = await api.wait_sent(42, 1)

Updates wait for getUpdates (long polling, offsets confirm them), or, once the bot has set a
webhook, are posted to it with the secret token, as Telegram does.

Telegram's flood limits are enforced only when asked (`running_bot_api(limits=FloodLimits())`):
a message beyond them is answered 429 "retry after n" and counted in `api.too_many`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token-for-the-fake-bot-api"
BOT = {"id": 123456, "is_bot": True, "first_name": "挂号助手", "username": "guahao_test_bot"}
_JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "link_preview_options"}
_NUMBER_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout"}


@dataclass
class Sent:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    at: float  # time.monotonic() when the bot sent it

    @property
    def keys(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button["callback_data"] for row in rows for button in row]


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's published limits: about 30 messages a second for a bot, one a second in a
    private chat. Telegram does not time them to the millisecond: a message arriving up to
    `slack` seconds early (the jitter between a sender's clock and the server's: the network,
    an event loop busy elsewhere) is let through."""

    per_bot: int = 30  # new messages a second, over all chats
    per_private_chat: int = 1  # new messages a second to one person
    slack: float = 0.1

    def __post_init__(self) -> None:
        assert 0 <= self.slack < 1 and self.per_bot > 0 and self.per_private_chat > 0


class BotApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class FakeBotApi:
    def __init__(self, token: str = TOKEN, limits: FloodLimits | None = None) -> None:
        self.token = token
        self.limits = limits
        self.too_many = 0  # messages refused for going over `limits`
        self.url = ""
        self.commands: dict[str, list[dict[str, str]]] = {}  # by language code, "" = default
        self.answers: list[dict[str, Any]] = []  # answerCallbackQuery calls
        self.webhook: tuple[str, str] | None = None  # url, secret token
        self.webhook_answers: list[int] = []  # our app's HTTP status for each update posted
        self._messages: list[Sent] = []
        self._pending: list[tuple[dict[str, Any], bool]] = []  # update, delivered
        self._updates: dict[int, dict[str, Any]] = {}
        self._failures: dict[str, list[int]] = {}
        self._recent: deque[float] = deque()  # when the last messages were taken, all chats
        self._recent_in_chat: dict[int, deque[float]] = {}
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pushing: asyncio.Lock | None = None
        self._arrived: asyncio.Event | None = None
        self._closing = False
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagereplymarkup": self._edit_reply_markup,
            "editmessagetext": self._edit_text,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._close,
            "logout": self._close,
        }

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    # -- what patients and staff do ---------------------------------------------------------

    def user_says(
        self, chat_id: int, text: str, language_code: str | None = "zh-hans", user_id: int = 0
    ) -> int:
        return self._deliver(self.message_update(chat_id, text, language_code, user_id))

    def user_presses(
        self, chat_id: int, data: str, message_id: int, user_id: int = 0, name: str = "王护士"
    ) -> int:
        message = next((m for m in self.sent(chat_id) if m.message_id == message_id), None)
        person = {"id": user_id or chat_id, "is_bot": False, "first_name": name}
        query = {
            "id": f"press-{next(self._update_ids)}",
            "from": person | {"language_code": "zh-hans"},
            "chat_instance": f"instance-{chat_id}",
            "data": data,
            "message": self._message(chat_id, message_id, BOT, message.text if message else "?"),
        }
        return self._deliver({"update_id": next(self._update_ids), "callback_query": query})

    def deliver_again(self, update_id: int) -> None:
        self._deliver(self._updates[update_id])

    def message_update(
        self, chat_id: int, text: str, language_code: str | None = "zh-hans", user_id: int = 0
    ) -> dict[str, Any]:
        """A new update in which someone writes to the bot (not delivered)."""
        person = {"id": user_id or chat_id, "is_bot": False, "first_name": "张三"}
        if language_code is not None:
            person["language_code"] = language_code
        message = self._message(chat_id, next(self._message_ids), person, text)
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return {"update_id": next(self._update_ids), "message": message}

    async def post_to_webhook(self, body: bytes | dict[str, Any], secret: str | None) -> int:
        """Post to the bot's webhook as a forger would: any body, any (or no) secret."""
        assert self.webhook is not None, "the bot has set no webhook"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient() as client:
            answer = await client.post(self.webhook[0], content=content, headers=headers)
        return answer.status_code

    # -- what the bot did -------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return [m for m in self._messages if m.chat_id == chat_id]

    def all_sent(self) -> list[Sent]:
        with self._lock:
            return list(self._messages)

    async def wait_sent(self, chat_id: int, count: int, within: float = 15) -> list[Sent]:
        """The chat's messages once there are at least `count` of them."""
        deadline = time.monotonic() + within
        while len(found := self.sent(chat_id)) < count:
            assert time.monotonic() < deadline, [m.text for m in found]
            await asyncio.sleep(0.02)
        return found

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the method's next calls 429 Too Many Requests."""
        with self._lock:
            self._failures.setdefault(method.lower(), []).extend([retry_after] * times)

    # -- the server -------------------------------------------------------------------------

    def _deliver(self, update: dict[str, Any]) -> int:
        with self._lock:
            self._updates[update["update_id"]] = update
            webhook = self.webhook
            if webhook is None:
                self._pending.append((update, False))
        assert self._loop is not None and self._arrived is not None
        if webhook is not None:
            asyncio.run_coroutine_threadsafe(self._push(update, *webhook), self._loop)
        else:
            self._loop.call_soon_threadsafe(self._arrived.set)
        return int(update["update_id"])

    async def _push(self, update: dict[str, Any], url: str, secret: str) -> None:
        # One post after another, in order, as over one connection (setWebhook's
        # max_connections=1); the lock is created here, on the server's loop.
        self._pushing = self._pushing or asyncio.Lock()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with self._pushing, httpx.AsyncClient() as client:
            answer = await client.post(url, json=update, headers=headers, timeout=10)
        self.webhook_answers.append(answer.status_code)

    def _message(
        self, chat_id: int, message_id: int, sender: dict[str, Any], text: str
    ) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "张三"}
        if chat_id < 0:
            chat = {"id": chat_id, "type": "supergroup", "title": "心内科投诉处理"}
        return {"message_id": message_id, "date": int(time.time()), "chat": chat,
                "from": sender, "text": text}  # fmt: skip

    async def _call(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        method = request.path_params["method"].lower()
        params = await _params(request)
        try:
            with self._lock:
                failures = self._failures.get(method)
                if failures:
                    raise BotApiError(429, "Too Many Requests", retry_after=failures.pop(0))
            if method == "getupdates":
                return _ok(await self._get_updates(params))
            handler = self._methods.get(method)
            if handler is None:
                raise BotApiError(404, "Not Found")
            with self._lock:
                return _ok(handler(params))
        except BotApiError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.code}
            body["description"] = error.description
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return JSONResponse(body, error.code)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._arrived is not None
        if self.webhook is not None:
            raise BotApiError(409, "Conflict: can't use getUpdates while webhook is active")
        offset, limit = params.get("offset", 0), params.get("limit", 100)
        deadline = time.monotonic() + float(params.get("timeout", 0))
        while True:
            self._arrived.clear()
            with self._lock:  # an offset confirms the updates before it that were delivered
                self._pending = [
                    (u, sent) for u, sent in self._pending if u["update_id"] >= offset or not sent
                ]
                ready = [u for u, _ in self._pending[:limit]]
                self._pending[:limit] = [(u, True) for u in ready]
            if ready or self._closing or time.monotonic() >= deadline:
                return ready
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())

    def _get_me(self, _: dict[str, Any]) -> dict[str, Any]:
        return BOT

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise BotApiError(400, "Bad Request: message is too long")
        chat_id, markup = int(params["chat_id"]), params.get("reply_markup")
        now = time.monotonic()
        self._within_limits(chat_id, now)
        sent = Sent(chat_id, next(self._message_ids), text, markup, now)
        self._messages.append(sent)
        return self._message(chat_id, sent.message_id, BOT, text) | (
            {"reply_markup": markup} if markup else {}
        )

    def _within_limits(self, chat_id: int, now: float) -> None:
        """Raises 429 for a message beyond the limits; counts one that is not."""
        if self.limits is None:
            return
        window = 1.0 - self.limits.slack
        checks = [(self._recent, self.limits.per_bot)]
        if chat_id > 0:  # private chats have positive ids
            in_chat = self._recent_in_chat.setdefault(chat_id, deque())
            checks.append((in_chat, self.limits.per_private_chat))
        for times, most in checks:
            while times and now - times[0] >= window:
                times.popleft()
            if len(times) >= most:
                self.too_many += 1
                wait = max(1, math.ceil(times[0] + window - now))
                raise BotApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        for times, _ in checks:
            times.append(now)
        if len(self._recent_in_chat) > 10_000:  # forget the chats that are quiet
            self._recent_in_chat = {
                chat: times
                for chat, times in self._recent_in_chat.items()
                if times and now - times[-1] < window
            }

    def _find(self, params: dict[str, Any]) -> Sent:
        for sent in self._messages:
            if (sent.chat_id, sent.message_id) == (params["chat_id"], params["message_id"]):
                return sent
        raise BotApiError(400, "Bad Request: message to edit not found")

    def _edit_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        sent = self._find(params)
        sent.reply_markup = params.get("reply_markup")
        return self._message(sent.chat_id, sent.message_id, BOT, sent.text)

    def _edit_text(self, params: dict[str, Any]) -> dict[str, Any]:
        sent = self._find(params)
        sent.text, sent.reply_markup = str(params["text"]), params.get("reply_markup")
        return self._message(sent.chat_id, sent.message_id, BOT, sent.text)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        self.answers.append(params)
        return True

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands[params.get("language_code", "")] = params["commands"]
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = (params["url"], params.get("secret_token", ""))
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if str(params.get("drop_pending_updates")).lower() == "true":
            self._pending.clear()
        return True

    def _get_webhook_info(self, _: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook[0] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    def _close(self, _: dict[str, Any]) -> bool:
        return True

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self._loop, self._arrived = asyncio.get_running_loop(), asyncio.Event()
        yield

    def app(self) -> Starlette:
        route = Route("/bot{token}/{method}", self._call, methods=["GET", "POST"])
        return Starlette(routes=[route], lifespan=self._lifespan)


async def _params(request: Request) -> dict[str, Any]:
    """The call's parameters, sent as JSON or as a form whose complex values are JSON."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    params: dict[str, Any] = dict(parse_qsl(body.decode()))
    params |= dict(request.query_params)
    for name in _JSON_FIELDS & params.keys():
        params[name] = json.loads(params[name])
    for name in _NUMBER_FIELDS & params.keys():
        value = str(params[name])
        params[name] = int(float(value)) if value.lstrip("-").replace(".", "").isdigit() else value
    return params


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_bot_api(token: str = TOKEN, limits: FloodLimits | None = None) -> Iterator[FakeBotApi]:
    """A fresh fake Bot API on a free port of 127.0.0.1, in a thread; stopped on exit.
    `limits`: Telegram's flood limits, enforced (none by default)."""
    api = FakeBotApi(token, limits)
    port = free_port()
    config = uvicorn.Config(api.app(), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake Bot API did not start")
        time.sleep(0.02)
    api.url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        api._closing = True  # a long poll the bot gave up on need not hold the server up
        assert api._loop is not None and api._arrived is not None
        api._loop.call_soon_threadsafe(api._arrived.set)
        server.should_exit = True
        thread.join(10)
