"""SMS (短信) through a gateway that speaks Twilio's protocol, for patients with any phone.

Inbound: the gateway posts each SMS to `POST /webhooks/sms` as a signed form (From, To, Body,
MessageSid, …). A forged or unsigned post is refused (403) before anything is done with it (an
unsigned one before its body is read); an address refused too often is answered 429 before
its body is read (`refusals`), and refusals are logged counted, not one line each. A
genuine one is answered at once with an empty TwiML response, and the message is handled
afterwards, one sender's messages in the order they came, different senders side by side. The
replies go out through the gateway's REST API (see channels.sms_gateway), rendered as plain text
with numbered choices, one segment per SMS (see channels.sms_text). An SMS the gateway posts
again (same MessageSid) is answered once: within the process by its id, and after a restart by
the dialogue's record of answered messages, whose replies come back marked `repeat`.

    gateway = SmsGateway(SMS_GATEWAY_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM)
    sms = SmsChannel(bot.handle, gateway, auth_token=SMS_AUTH_TOKEN, now=bot.now,
                     public_url="https://guahao.example.org/webhooks/sms")
    app.include_router(sms.router())
    ...
    await sms.stop(); await gateway.aclose()
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from channels.flood import FloodGate, Refusals, Refused
from channels.messages import Inbound, Outbound, answered_before
from channels.sms_gateway import GatewayError, SentSms, SmsGateway
from channels.sms_text import sms_texts

__all__ = ["Handler", "SmsChannel", "SmsGateway", "SmsSender", "phone_number"]

log = logging.getLogger(__name__)

Handler = Callable[[Inbound], Awaitable[list[Outbound]]]
WEBHOOK_PATH = "/webhooks/sms"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# An SMS is at most 1,600 characters; this leaves room for a gateway's extra fields and for
# concatenated Chinese text percent-encoded (9 bytes a character) without reading megabytes.
LARGEST_POST = 2 * 1024 * 1024
# From an address refused too often: the most a post of one SMS of 1,600 characters takes.
LARGEST_HELD_POST = 64 * 1024
# Message ids already taken in, so a gateway's second delivery does not send the replies twice.
REMEMBERED_IDS = 10_000
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"\+?[0-9]{3,15}")


class SmsSender(Protocol):
    async def send_sms(self, to: str, body: str) -> SentSms: ...


def phone_number(raw: str) -> str | None:
    """The number as the gateway gives it (E.164, "+8613812345678"), written one way whatever
    spaces or dashes it came with; None when it is not a phone number one can answer."""
    number = _PHONE_PUNCTUATION.sub("", raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if _PHONE.fullmatch(number) else None


class SmsChannel:
    def __init__(
        self,
        handle: Handler,
        gateway: SmsSender,
        *,
        auth_token: str,
        now: Callable[[], datetime],
        public_url: str | None = None,
        gate: FloodGate | None = None,
        refusals: Refusals | None = None,
    ) -> None:
        """`auth_token`: the secret the gateway signs its webhooks with. `public_url`: the
        webhook's address as configured at the gateway, which it signs (behind a proxy this
        server sees another); without it the request's own URL is used. `gate`: how many SMS
        one number may send; beyond it messages are dropped unanswered (an answer costs money
        and would feed a loop with an auto-responder). `refusals`: how many unsigned or
        wrongly signed posts one address may send (GUAHAO_SMS_BAD_SIGNATURES_PER_ADDRESS);
        without it, no limit, but the refusals are still logged counted."""
        self._handle = handle
        self._gateway = gateway
        self._validator = RequestValidator(auth_token)
        self._now = now
        self._public_url = public_url
        self._gate = gate
        self._refusals = refusals or Refusals("1000000/minute")
        self._waiting: dict[str, deque[Inbound]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._taken: OrderedDict[str, None] = OrderedDict()
        self._stopping = False

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post(
            WEBHOOK_PATH,
            tags=["sms"],
            response_class=Response,
            responses={
                200: {"content": {"text/xml": {}}, "description": "Taken; replies follow."},
                400: {"description": "Not an SMS: From, Body or MessageSid missing."},
                403: {"description": "Not signed by the gateway."},
                429: {"description": "Too many posts not signed from this address."},
                413: {"description": "Larger than any SMS."},
                503: {"description": "Shutting down; the gateway may post it again."},
            },
            max_body_size=LARGEST_POST,
        )
        async def inbound_sms(request: Request) -> Response:
            """An SMS from a patient, posted by the gateway (Twilio's webhook form)."""
            return await self._receive(request)

        return router

    async def send(self, to: str, messages: list[Outbound]) -> None:
        """Send replies or notices (reminders, change notices) to a phone number (E.164).
        Raises ValueError for a number that is not one, GatewayError when the gateway did
        not take an SMS (those before it are sent)."""
        number = phone_number(to)
        if number is None:
            raise ValueError("the recipient is not a phone number")
        for message in messages:
            for text in sms_texts(message):
                await self._gateway.send_sms(number, text)

    async def drain(self, within: float = 10.0) -> bool:
        """Wait up to `within` seconds until every message taken in is answered; False if some
        still are not."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._workers:
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.wait(list(self._workers.values()), timeout=left)
        return True

    async def stop(self, grace: float = 10.0) -> None:
        """Take no more messages, and finish those taken within `grace` seconds."""
        self._stopping = True
        if await self.drain(grace):
            return
        unanswered = sum(len(waiting) + 1 for waiting in self._waiting.values())
        log.warning("stopping with %d SMS unanswered", unanswered)
        for worker in list(self._workers.values()):
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _receive(self, request: Request) -> Response:
        if self._stopping:
            return PlainTextResponse("shutting down; try again", status_code=503)
        address = request.client.host if request.client else None
        held = await self._refusals.held("sms-signature", address)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:  # the body is never read
            return self._too_many(held) if held else await self._refuse(address, "no signature")
        # The gateway posts from addresses it shares with its other customers: a held address
        # is still heard when it signs, but only for a post of an SMS's usual size.
        body = await _read_body(request, LARGEST_POST if held is None else LARGEST_HELD_POST)
        if body is None:
            return self._too_many(held) if held else PlainTextResponse("too large", status_code=413)
        try:
            fields = parse_qsl(
                body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200
            )
        except ValueError:
            return PlainTextResponse("not a form", status_code=400)
        form = ImmutableMultiDict(fields)
        url = self._public_url or str(request.url)
        if not self._validator.validate(url, form, signature):
            return self._too_many(held) if held else await self._refuse(address, "bad signature")
        sender = phone_number(form.get("From", ""))
        text, message_id = form.get("Body"), form.get("MessageSid")
        if sender is None or text is None or not message_id:
            return PlainTextResponse("From, Body and MessageSid are required", status_code=400)
        inbound = Inbound("sms", sender, self._now(), text=text, message_id=message_id)
        await self._take(inbound, message_id)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def _refuse(self, address: str | None, why: str) -> Response:
        await self._refusals.refused("sms-signature", address)
        self._log_refused(why)
        return PlainTextResponse("forbidden", status_code=403)

    def _too_many(self, held: Refused) -> Response:
        self._log_refused("too many refused")
        headers = {"Retry-After": str(held.retry_after)}
        return PlainTextResponse("too many requests", status_code=429, headers=headers)

    def _log_refused(self, why: str) -> None:
        count = self._refusals.to_log(why)
        if count is not None:
            log.warning("SMS webhook: %d post(s) refused since last logged: %s", count, why)

    async def _take(self, inbound: Inbound, message_id: str) -> None:
        if message_id in self._taken:
            log.info("SMS %s delivered again; answered once", message_id)
            return
        self._taken[message_id] = None
        if len(self._taken) > REMEMBERED_IDS:
            self._taken.popitem(last=False)
        if self._gate is not None and await self._gate.admit("sms", inbound.user_id, None):
            log.warning("SMS %s dropped: its sender is sending too fast", message_id)
            return
        self._waiting.setdefault(inbound.user_id, deque()).append(inbound)
        if inbound.user_id not in self._workers:
            worker = asyncio.create_task(self._answer_in_turn(inbound.user_id))
            self._workers[inbound.user_id] = worker

    async def _answer_in_turn(self, sender: str) -> None:
        waiting = self._waiting[sender]
        try:
            while waiting:
                await self._answer(waiting.popleft())
        finally:
            del self._waiting[sender]
            del self._workers[sender]

    async def _answer(self, inbound: Inbound) -> None:
        try:
            replies = await self._handle(inbound)
            if answered_before(replies):  # delivered again after a restart
                log.info("SMS %s delivered again; answered once", inbound.message_id)
                return
            await self.send(inbound.user_id, replies)
        except GatewayError as problem:
            log.error("replies to SMS %s not sent: %s", inbound.message_id, problem)
        except Exception:  # the next message from this sender must still be answered
            log.exception("could not answer SMS %s", inbound.message_id)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is larger than `limit` bytes."""
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
