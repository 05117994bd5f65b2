"""The Telegram bot (python-telegram-bot): patients chat in private, staff press buttons in
their group chats.

A patient's message or button press becomes an `Inbound` for the dialogue, whose replies come
back as messages with inline keyboards. Updates arrive by long polling, or, when a webhook URL
is given, at `POST /webhooks/telegram` of our own ASGI app (`router()`), checked by Telegram's
secret token header. One chat's updates are handled in order, different chats at the same
time; every Bot API call is paced (`channels.telegram_pacing`). An update Telegram delivers
twice is handled once and answered once: within the process by its update id, and after a
restart by the dialogue's record of answered messages (keyed on the Inbound's
"update:<update_id>"), whose replies come back marked `repeat` and are not sent again.

Run by the application (bot/app.py); on its own, against the real Telegram:

    channel = TelegramChannel(token, handle, now=clock.now)
    await channel.start()   # long polling until `await channel.stop()`

Nothing patients type, nor their names or phone numbers, is logged: only update and chat ids.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from telegram import BotCommand, CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackContext, ExtBot, TypeHandler

from channels.messages import Choice, Inbound, Outbound, answered_before
from channels.telegram_format import CallbackKeys, language_of, pieces
from channels.telegram_order import ChatLanes, RecentUpdates
from channels.telegram_pacing import Pacing, Rate

__all__ = [
    "COMMANDS",
    "NotDelivered",
    "Pacing",
    "Rate",
    "StaffCommand",
    "StaffPress",
    "TelegramChannel",
]

log = logging.getLogger(__name__)

Handler = Callable[[Inbound], Awaitable[list[Outbound]]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
# Buttons under staff group messages carry data starting so (made by bot.complaints.staff_keys).
STAFF = "staff:"
APOLOGY = "系统有点忙，请稍后再试。 Something went wrong, please try again."
# The command menu, by Telegram language code ("" for everyone else).
COMMANDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "start": "开始 / 主菜单",
        "book": "预约挂号",
        "my": "我的预约",
        "cancel": "退号",
        "help": "帮助",
        "lang": "中文 / English",
    },
    "": {
        "start": "Start / main menu",
        "book": "Book an appointment",
        "my": "My bookings",
        "cancel": "Cancel a booking",
        "help": "Help",
        "lang": "English / 中文",
    },
}
_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
# An update holds one message (4,096 characters) and what it answers: far less than this.
LARGEST_UPDATE = 1024 * 1024
_MAX_ANSWER = 200  # characters Telegram shows in a button's answer


@dataclass(frozen=True)
class StaffPress:
    """A staff member pressed a "staff:…" button in a group chat."""

    chat_id: str
    user_id: str
    user_name: str
    data: str
    message_id: int


StaffHandler = Callable[[StaffPress], Awaitable[str | None]]


@dataclass(frozen=True)
class StaffCommand:
    """A staff member typed a command ("/reply TS… …") in a group chat."""

    chat_id: str
    user_id: str
    user_name: str
    text: str


StaffCommandHandler = Callable[[StaffCommand], Awaitable[list[Outbound] | None]]


class NotDelivered(Exception):
    """Telegram did not take a message. `permanent`: trying again will not help (the patient
    blocked the bot, the chat is gone)."""

    def __init__(self, chat_id: str, reason: str, *, permanent: bool) -> None:
        super().__init__(f"not delivered to chat {chat_id}: {reason}")
        self.chat_id = chat_id
        self.permanent = permanent


class TelegramChannel:
    def __init__(
        self,
        token: str,
        handle: Handler,
        *,
        now: Callable[[], datetime],
        base_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        on_staff: StaffHandler | None = None,
        on_staff_command: StaffCommandHandler | None = None,
        pacing: Pacing | None = None,
        poll_timeout: int = 10,
        commands: Mapping[str, Mapping[str, str]] = COMMANDS,
    ) -> None:
        """`base_url`: the Bot API's, to which the token is appended (Telegram's by default).
        `webhook_url` (with `webhook_secret`, 16–256 of A-Z a-z 0-9 _ -): Telegram posts
        updates there, to be routed to `router()`; without it the channel polls.
        `on_staff`: answers "staff:" button presses; its text is shown to the staff member.
        `on_staff_command`: answers commands typed in group chats (its messages go to the
        group); other group messages are not read."""
        if webhook_url is not None and not _SECRET.match(webhook_secret or ""):
            raise ValueError("a webhook needs a secret token of 16-256 A-Z, a-z, 0-9, _ or -")
        self._handle = handle
        self._now = now
        self._webhook_url = webhook_url
        self._webhook_secret = (webhook_secret or "").encode()
        self._on_staff = on_staff
        self._on_staff_command = on_staff_command
        self._poll_timeout = poll_timeout
        self._commands = commands
        self._keys = CallbackKeys()
        self._recent = RecentUpdates()
        self._lanes = ChatLanes()
        builder = Application.builder().token(token).rate_limiter(pacing or Pacing())
        if base_url is not None:
            builder = builder.base_url(base_url)
        if webhook_url is not None:
            builder = builder.updater(None)
        self._app = builder.build()
        self._app.add_handler(TypeHandler(Update, self._route))

    @property
    def _bot(self) -> ExtBot[int]:
        return self._app.bot

    async def start(self, *, receive: bool = True) -> None:
        """Start taking updates (polling, or the webhook set); `receive=False`: only send,
        as a worker process that delivers notices does."""
        await self._app.initialize()
        if not receive:
            await self._app.start()
            return
        for language, described in self._commands.items():
            menu = [BotCommand(name, text) for name, text in described.items()]
            await self._bot.set_my_commands(menu, language_code=language or None)
        if self._webhook_url is not None:
            await self._bot.set_webhook(
                self._webhook_url,
                secret_token=self._webhook_secret.decode(),
                allowed_updates=_UPDATES,
            )
        await self._app.start()
        if self._app.updater is not None:
            await self._app.updater.start_polling(
                timeout=self._poll_timeout, allowed_updates=_UPDATES
            )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking updates, give the replies under way `grace` seconds, and close.
        The webhook stays set: Telegram keeps the updates until the next start."""
        if self._app.updater is not None and self._app.updater.running:
            await self._app.updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._lanes.finish(grace)
        await self._app.shutdown()

    def router(self) -> APIRouter:
        """`POST /webhooks/telegram`: 403 without the right secret token, 400 for what is not
        an update, 200 at once for an update, which is handled afterwards."""
        router = APIRouter()

        @router.post("/webhooks/telegram", include_in_schema=False, max_body_size=LARGEST_UPDATE)
        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not self._webhook_secret or not hmac.compare_digest(given, self._webhook_secret):
                return Response(status_code=403)
            update = self._update_from(await request.body())
            if update is None:
                return Response(status_code=400)
            if not self._app.running:
                return Response(status_code=503)  # Telegram delivers it again later
            await self._app.update_queue.put(update)
            return Response(status_code=200)

        return router

    async def send(self, chat_id: str, messages: list[Outbound]) -> None:
        """Send messages to a chat (a patient's, or a staff group's), paced like every reply.
        Raises NotDelivered when Telegram does not take one; those before it were sent."""
        for message in messages:
            texts = pieces(message.text) or (["…"] if message.choices else [])
            keyboard = self._keys.keyboard(message.choices)
            for number, text in enumerate(texts, start=1):
                markup = keyboard if number == len(texts) else None
                try:
                    await self._bot.send_message(chat_id, text, reply_markup=markup)
                except TelegramError as error:
                    raise _not_delivered(chat_id, error) from error

    async def edit_keyboard(self, chat_id: str, message_id: int, choices: Sequence[Choice]) -> None:
        """Replace the buttons under a message sent before (no choices: remove them)."""
        try:
            await self._bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=self._keys.keyboard(choices)
            )
        except TelegramError as error:
            raise _not_delivered(chat_id, error) from error

    def _update_from(self, body: bytes) -> Update | None:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested beyond reading
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self._bot)
        except Exception:  # any shape python-telegram-bot cannot read is a bad request
            log.debug("webhook body %s is not an update", data["update_id"])
            return None

    async def _route(self, update: Update, _: CallbackContext[Any, Any, Any, Any]) -> None:
        """Called by python-telegram-bot for every update, one after another: sort it into
        its chat's lane and return at once."""
        if not self._recent.first_time(update.update_id):
            log.debug("update %s came again: already handled", update.update_id)
            return
        chat = update.effective_chat
        if chat is None:
            return
        chat_id = str(chat.id)
        query = update.callback_query
        choice = self._keys.key_for(query.data) if query and query.data else None
        if query is not None and choice is not None and choice.startswith(STAFF):
            self._lanes.add(chat_id, partial(self._serve_staff, query, choice, chat_id))
        elif chat.type == ChatType.PRIVATE and (update.message is not None or choice):
            patient = partial(self._serve_patient, update, chat_id, choice, self._now())
            self._lanes.add(chat_id, patient)
        elif self._on_staff_command is not None and _group_command(update):
            self._lanes.add(chat_id, partial(self._serve_staff_command, update, chat_id))

    async def _serve_patient(
        self, update: Update, chat_id: str, choice: str | None, received_at: datetime
    ) -> None:
        log.debug("update %s of chat %s", update.update_id, chat_id)
        if update.callback_query is not None:
            await self._settle(update.callback_query)
        user = update.effective_user
        inbound = Inbound(
            channel="telegram",
            user_id=chat_id,
            received_at=received_at,
            text=None if choice is not None else _text_of(update),
            choice=choice,
            message_id=f"update:{update.update_id}",
            language_hint=language_of(user.language_code if user else None),
        )
        try:
            replies = await self._handle(inbound)
        except Exception as error:
            _log_failure("update %s of chat %s", update.update_id, chat_id, error=error)
            replies = [Outbound(APOLOGY)]
        if answered_before(replies):  # delivered again after a restart
            log.debug("update %s came again: answered before", update.update_id)
            return
        try:
            await self.send(chat_id, replies)
        except NotDelivered as failure:
            log.warning("%s", failure)

    async def _settle(self, query: CallbackQuery) -> None:
        """Stop the button's spinner and take the keyboard away: it cannot be pressed twice."""
        try:
            await self._bot.answer_callback_query(query.id)
        except TelegramError as error:  # e.g. a press answered too late: handle it all the same
            log.debug("could not answer a button press: %s", error)
        if query.message is None:
            return
        try:
            await self._bot.edit_message_reply_markup(
                chat_id=query.message.chat.id, message_id=query.message.message_id
            )
        except TelegramError as error:  # e.g. a message too old to edit
            log.debug("could not remove a pressed keyboard: %s", error)

    async def _serve_staff_command(self, update: Update, chat_id: str) -> None:
        message = update.message
        assert message is not None and message.from_user is not None and self._on_staff_command
        command = StaffCommand(
            chat_id=chat_id,
            user_id=str(message.from_user.id),
            user_name=message.from_user.full_name,
            text=message.text or "",
        )
        try:
            replies = await self._on_staff_command(command)
        except Exception as error:
            _log_failure("a staff command in chat %s", chat_id, error=error)
            replies = [Outbound(APOLOGY)]
        if replies:
            try:
                await self.send(chat_id, replies)
            except NotDelivered as failure:
                log.warning("%s", failure)

    async def _serve_staff(self, query: CallbackQuery, data: str, chat_id: str) -> None:
        answer = None
        if self._on_staff is not None:
            press = StaffPress(
                chat_id=chat_id,
                user_id=str(query.from_user.id),
                user_name=query.from_user.full_name,
                data=data,
                message_id=query.message.message_id if query.message else 0,
            )
            try:
                answer = await self._on_staff(press)
            except Exception as error:
                _log_failure("a staff press in chat %s", chat_id, error=error)
                answer = APOLOGY
        try:
            await self._bot.answer_callback_query(
                query.id, text=answer[:_MAX_ANSWER] if answer else None
            )
        except TelegramError as error:
            log.debug("could not answer a staff press in chat %s: %s", chat_id, error)


def _group_command(update: Update) -> bool:
    chat, message = update.effective_chat, update.message
    return (
        chat is not None
        and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        and message is not None
        and message.from_user is not None
        and (message.text or "").startswith("/")
    )


def _text_of(update: Update) -> str:
    """What the patient wrote; a shared contact is its phone number; a sticker or a photo
    without caption is an empty message, which the dialogue answers with its menu."""
    message = update.message
    if message is None:
        return ""
    if message.contact is not None:
        return message.contact.phone_number
    return message.text or message.caption or ""


def _log_failure(what: str, *args: object, error: Exception) -> None:
    """The failure with its stack, but not its message, which may quote the patient."""
    stack = "".join(traceback.format_tb(error.__traceback__))
    log.error("could not handle " + what + ": %s\n%s", *args, type(error).__name__, stack)


def _not_delivered(chat_id: str, error: TelegramError) -> NotDelivered:
    return NotDelivered(chat_id, error.message, permanent=isinstance(error, Forbidden | BadRequest))
