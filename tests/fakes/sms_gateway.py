"""A local SMS gateway that speaks Twilio's protocol, both ways, for tests.

Outbound: `FakeSmsGateway` serves Twilio's REST API for sending (`POST
/2010-04-01/Accounts/{sid}/Messages.json`, form fields From/To/Body, HTTP basic auth) with
uvicorn on 127.0.0.1, records what was sent, and answers errors on demand (`fail_next`).
Inbound: `GatewayWebhooks` posts an SMS to our webhook as Twilio does: a form, signed with the
account's auth token in X-Twilio-Signature (or unsigned, or forged).
"""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-gateway-auth-token-0123456789"
GATEWAY_NUMBER = "+8610690000"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
LONGEST_BODY = 1600  # Twilio refuses longer bodies (error 21617)


@dataclass(frozen=True)
class SentSms:
    sid: str
    to: str
    sender: str
    body: str


@dataclass(frozen=True)
class Attempt:
    at: float  # time.monotonic() when the request came
    status: int  # what the gateway answered


def _error(status: int, code: int, message: str) -> JSONResponse:
    body = {"code": code, "message": message, "more_info": "", "status": status}
    return JSONResponse(body, status_code=status)


class FakeSmsGateway:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.url = ""
        self._lock = threading.Lock()
        self._sent: list[SentSms] = []
        self._attempts: list[Attempt] = []
        self._failures: deque[tuple[int, str | None]] = deque()
        self.app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._messages, methods=["POST"])
            ]
        )

    def fail_next(self, times: int, status: int, retry_after: str | None = None) -> None:
        """Answer the next `times` messages with `status` (and Retry-After) instead of taking
        them."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def sent(self, to: str | None = None) -> list[str]:
        """The bodies of the SMS taken, in order; only those to `to` when given."""
        with self._lock:
            return [sms.body for sms in self._sent if to is None or sms.to == to]

    def messages(self) -> list[SentSms]:
        with self._lock:
            return list(self._sent)

    def attempts(self) -> list[Attempt]:
        with self._lock:
            return list(self._attempts)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._attempts.clear()
            self._failures.clear()

    async def _messages(self, request: Request) -> JSONResponse:
        answer = self._answer(request.path_params["sid"], request, await request.body())
        with self._lock:
            self._attempts.append(Attempt(time.monotonic(), answer.status_code))
        return answer

    def _answer(self, sid: str, request: Request, body: bytes) -> JSONResponse:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if sid != self.account_sid or request.headers.get("Authorization") != f"Basic {expected}":
            return _error(401, 20003, "Authenticate")
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            status, retry_after = failure
            response = _error(status, 20429 if status == 429 else 20500, "Try again later")
            if retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        to, sender, text = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to or not sender or not text:
            return _error(400, 21604, "A 'To' phone number, 'From' and 'Body' are required.")
        if not _E164.fullmatch(to):
            # Twilio's own message quotes the number: callers must not pass it on to logs.
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if len(text) > LONGEST_BODY:
            return _error(400, 21617, "The concatenated message body exceeds 1600 characters.")
        sms = SentSms(f"SM{uuid.uuid4().hex}", to, sender, text)
        with self._lock:
            self._sent.append(sms)
        return JSONResponse(
            {
                "sid": sms.sid,
                "account_sid": self.account_sid,
                "from": sender,
                "to": to,
                "body": text,
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sms.sid}.json",
            },
            status_code=201,
        )


@contextmanager
def running(gateway: FakeSmsGateway) -> Iterator[FakeSmsGateway]:
    """The gateway served on 127.0.0.1 (its `url` set) until the block ends."""
    with serving_in_thread(gateway.app) as url:
        gateway.url = url
        yield gateway


@contextmanager
def serving_in_thread(app: Starlette) -> Iterator[str]:
    """An ASGI app served by uvicorn in a thread of its own; its base URL."""
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections it knows are TCP, and an answer written in two parts would wait 40 ms.
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake SMS gateway did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()


Signature = Literal["good", "missing", "wrong token", "tampered"]


class GatewayWebhooks:
    """The gateway's side of inbound SMS: posts to our webhook, signed as Twilio signs."""

    def __init__(
        self, webhook_url: str, auth_token: str = AUTH_TOKEN, *, post_to: str | None = None
    ) -> None:
        """`webhook_url`: the address configured at the gateway, which it signs; `post_to`:
        where the post really goes when a proxy stands between (by default the same)."""
        self.webhook_url = webhook_url
        self.post_to = post_to or webhook_url
        self.auth_token = auth_token

    def form(self, sender: str, body: str, sid: str | None = None) -> dict[str, str]:
        """The fields Twilio posts for an incoming SMS."""
        sid = sid or f"SM{uuid.uuid4().hex}"
        return {
            "ToCountry": "CN",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "CN",
            "To": GATEWAY_NUMBER,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }

    def signature(self, form: dict[str, str], token: str | None = None) -> str:
        validator = RequestValidator(token or self.auth_token)
        return str(validator.compute_signature(self.webhook_url, form))

    async def post(self, form: dict[str, str], signature: Signature = "good") -> httpx.Response:
        headers = {"User-Agent": "TwilioProxy/1.1"}
        if signature == "good":
            headers["X-Twilio-Signature"] = self.signature(form)
        elif signature == "wrong token":
            headers["X-Twilio-Signature"] = self.signature(form, token="not-the-auth-token")
        elif signature == "tampered":
            # Signed as the gateway sent it, then changed on the way.
            headers["X-Twilio-Signature"] = self.signature(form)
            form = {**form, "Body": form.get("Body", "") + " 改"}
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(self.post_to, data=form, headers=headers)

    async def deliver(
        self, sender: str, body: str, sid: str | None = None, signature: Signature = "good"
    ) -> httpx.Response:
        """One SMS from `sender`, as the gateway posts it."""
        return await self.post(self.form(sender, body, sid), signature)
