"""The web chat: a page that works on a phone, and its JSON API.

`POST /api/webchat/messages` with `{"chat": str, "text": str}` or `{"chat": str,
"choice": str}` answers `{"replies": [{"text": str, "choices": [{"key": str, "label": str}]}]}`.
Other clients use this contract: keep it stable (the chat id's older name, `"session"`, and
`GET /api/webchat/notices?session=` are still accepted). An optional `"id"` names the message,
so a client that retries after a lost answer gets the same replies and nothing is done twice.

The chat id is the browser's own random id, 32 lowercase hex characters (128 random bits, as
the page makes it): an id of another form (older pages made guessable ones) is answered 400
`{"detail": …, "reason": "new_session"}` (the reason's name is part of the contract), and the
page starts a new chat with a new id.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Self

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AliasChoices, BaseModel, Field, model_validator

from channels.flood import FloodGate
from channels.messages import Inbound, Outbound

Handler = Callable[[Inbound], Awaitable[list[Outbound]]]
_HERE = Path(__file__).parent
PAGE = (_HERE / "webchat.html").read_text(encoding="utf-8")
SCRIPT = (_HERE / "webchat.js").read_text(encoding="utf-8")
STYLE = (_HERE / "webchat.css").read_text(encoding="utf-8")
# A message of 200,000 Chinese characters (600 KB as UTF-8) is still answered politely; a
# larger body is refused (413) before it is read.
MAX_BODY = 1024 * 1024
# The page runs only its own script and style, talks only to this server, and is shown in no
# other site's frame (where a patient's clicks would be that site's).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The page's ids (crypto.getRandomValues): anything else may have been guessed.
CHAT_ID = re.compile(r"[0-9a-f]{32}")
NEW_CHAT = {
    "detail": "this chat id is not one this server accepts; start a new chat with a new id",
    "reason": "new_session",
}


class MessageIn(BaseModel):
    chat: str = Field(
        max_length=64,
        validation_alias=AliasChoices("chat", "session"),
        description="The browser's own random id for this chat (kept in localStorage): "
        "32 lowercase hex characters; another form is answered 400 (reason new_session). "
        'Older clients send it as "session".',
    )
    text: str | None = Field(default=None, max_length=200_000)
    choice: str | None = Field(default=None, max_length=200, description="A choice's key.")
    id: str | None = Field(default=None, max_length=64, description="This message's id.")

    @model_validator(mode="after")
    def _text_or_choice(self) -> Self:
        if (self.text is None) == (self.choice is None):
            raise ValueError("send either text or choice")
        return self


class ChoiceOut(BaseModel):
    key: str
    label: str


class ReplyOut(BaseModel):
    text: str
    choices: list[ChoiceOut]


class RepliesOut(BaseModel):
    replies: list[ReplyOut]


class TooFast(BaseModel):
    detail: str


class NewChat(BaseModel):
    detail: str
    reason: str = Field(description='"new_session": make a new id and start again.')


Collect = Callable[[str], Awaitable[list[Outbound]]]


def webchat_router(
    handle: Handler,
    now: Callable[[], datetime],
    gate: FloodGate | None = None,
    collect: Collect | None = None,
    polls: FloodGate | None = None,
) -> APIRouter:
    """`gate`: how many messages a chat and an address may send (answered 429 beyond).
    `collect`: the notices left for a chat (reminders, news of its bookings), which the page
    asks for now and then, since nothing can be pushed to it; `polls`: how often a chat and an
    address may ask (429 beyond)."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> Response:
        return HTMLResponse(PAGE, headers=PAGE_HEADERS)

    @router.get("/webchat.js", include_in_schema=False)
    async def script() -> Response:
        return Response(SCRIPT, media_type="text/javascript", headers=PAGE_HEADERS)

    @router.get("/webchat.css", include_in_schema=False)
    async def style() -> Response:
        return Response(STYLE, media_type="text/css", headers=PAGE_HEADERS)

    @router.post(
        "/api/webchat/messages",
        response_model=RepliesOut,
        tags=["web chat"],
        responses={
            400: {"model": NewChat, "description": "Not a chat id of the page's form."},
            429: {"model": TooFast, "description": "Too many messages; see Retry-After."},
        },
        max_body_size=MAX_BODY,
    )
    async def message(incoming: MessageIn, request: Request) -> RepliesOut | JSONResponse:
        """One message from the web chat, and the bot's replies."""
        if not CHAT_ID.fullmatch(incoming.chat):
            return JSONResponse(NEW_CHAT, status_code=400)
        address = request.client.host if request.client else None
        refused = await too_fast(gate, incoming.chat, address)
        if refused is not None:
            return refused
        inbound = Inbound(
            channel="web",
            user_id=incoming.chat,
            received_at=now(),
            text=incoming.text,
            choice=incoming.choice,
            message_id=incoming.id,
            address=address,
        )
        return _replies(await handle(inbound))

    @router.get(
        "/api/webchat/notices",
        response_model=RepliesOut,
        tags=["web chat"],
        responses={
            400: {"model": NewChat, "description": "Not a chat id of the page's form."},
            429: {"model": TooFast, "description": "Asked too often; see Retry-After."},
        },
    )
    async def notices(
        request: Request,
        chat: str | None = Query(default=None, max_length=64),
        session: str | None = Query(
            default=None, max_length=64, deprecated=True, description="chat's older name"
        ),
    ) -> RepliesOut | JSONResponse:
        """Notices left for this chat since it last asked (each is given once), in the same
        shape as the replies to a message."""
        chat = chat if chat is not None else session
        if chat is None:
            missing = {"type": "missing", "loc": ("query", "chat"), "msg": "Field required"}
            raise RequestValidationError([missing])
        if not CHAT_ID.fullmatch(chat):
            return JSONResponse(NEW_CHAT, status_code=400)
        address = request.client.host if request.client else None
        refused = await too_fast(polls, chat, address, kind="web-notices")
        if refused is not None:
            return refused
        found = await collect(chat) if collect is not None else []
        return _replies(found)

    return router


async def too_fast(
    gate: FloodGate | None, chat: str, address: str | None, kind: str = "web"
) -> JSONResponse | None:
    refused = None if gate is None else await gate.admit(kind, chat, address)
    if refused is None:
        return None
    return JSONResponse(
        {"detail": "too many messages; please wait a moment"},
        status_code=429,
        headers={"Retry-After": str(refused.retry_after)},
    )


def _replies(replies: list[Outbound]) -> RepliesOut:
    return RepliesOut(
        replies=[
            ReplyOut(
                text=reply.text,
                choices=[ChoiceOut(key=c.key, label=c.label) for c in reply.choices],
            )
            for reply in replies
        ]
    )
