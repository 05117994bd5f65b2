"""The channels the application serves, as its settings configure them: Telegram (long
polling or the webhook, with the staff group chats), SMS through a Twilio-style gateway and
complaints by e-mail. Each brings how to reach a patient outside a conversation (its sender),
decided here, before the application is built."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from bot.complaints.staff_chats import StaffRooms
from bot.runtime.application import Application, Send
from bot.runtime.front import Front
from bot.settings import Settings
from bot.texts import Texts
from channels.email import MailDesk
from channels.flood import FloodGate, Refusals
from channels.messages import Outbound
from channels.sms import SmsChannel, SmsGateway
from channels.telegram import Pacing, TelegramChannel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channels:
    """The configured channels (None: not configured) and their senders, by channel."""

    telegram: TelegramChannel | None = None
    rooms: StaffRooms | None = None  # the staff group chats, with Telegram
    sms: SmsChannel | None = None
    gateway: SmsGateway | None = None
    mail: MailDesk | None = None
    senders: dict[str, Send] = field(default_factory=dict)


def channels_for(settings: Settings, front: Front, texts: Texts, *, mail: bool = True) -> Channels:
    """Every channel the settings configure, calling the application through `front`;
    `mail`: also e-mail (one-off rounds go without)."""
    senders: dict[str, Send] = {}
    telegram, rooms = telegram_for(settings, front)
    if telegram is not None:
        senders["telegram"] = telegram.send
    sms, gateway = sms_for(settings, front)
    if sms is not None:
        senders["sms"] = sms.send
    desk = mail_for(settings, front) if mail else None
    if desk is not None:
        senders["email"] = partial(_by_mail, desk, texts.say("zh", "mail.subject"))
    return Channels(telegram, rooms, sms, gateway, desk, senders)


async def start_telegram(channel: TelegramChannel, application: Application) -> None:
    """Telegram cannot be reached from every hospital network: when it fails at start, the
    web chat, SMS and e-mail serve all the same while it is tried again in the background."""
    try:
        await channel.start()
        return
    except Exception as error:
        log.warning("Telegram did not start (%s): trying again", type(error).__name__)

    async def again() -> None:
        delay = 5.0
        while True:
            await asyncio.sleep(delay)
            try:
                await channel.start()
            except Exception as error:
                delay = min(delay * 2, 300.0)
                log.warning("Telegram did not start (%s): next try in %.0f s",
                            type(error).__name__, delay)  # fmt: skip
            else:
                log.info("Telegram started")
                return

    application.in_background(again())


def telegram_for(
    settings: Settings, front: Front
) -> tuple[TelegramChannel | None, StaffRooms | None]:
    """The Telegram bot, when a token is configured: long polling, or the webhook. With a
    staff group, complaints go there too (bot.complaints.staff_chats)."""
    if settings.telegram_bot_token is None:
        return None, None
    gate = FloodGate(settings.webchat_per_chat, "100000/minute", settings.rate_limit_storage)
    # Telegram's limits are the bot's: every process with this token counts in one storage.
    bot_id = settings.telegram_bot_token.split(":", 1)[0]
    channel = TelegramChannel(
        settings.telegram_bot_token,
        partial(front.handle_gated, gate),
        now=front.now,
        base_url=settings.telegram_api_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        on_staff=front.staff_press,
        on_staff_command=front.staff_command,
        pacing=Pacing(storage=settings.rate_limit_storage, bot=bot_id),
    )
    if settings.telegram_staff_chat_id is None:
        return channel, None
    rooms = StaffRooms(
        default_chat=settings.telegram_staff_chat_id,
        department_chats=settings.department_chats(),
        office_chat=settings.telegram_staff_chat_id,
        management_chat=settings.telegram_ops_chat_id,
        staff_ids=settings.staff_user_ids(),
        deadline=timedelta(hours=settings.complaint_hours),
    )
    return channel, rooms


def sms_for(settings: Settings, front: Front) -> tuple[SmsChannel | None, SmsGateway | None]:
    """Text messages through a Twilio-style gateway, when one is configured."""
    if not settings.sms_enabled:
        return None, None
    assert settings.sms_gateway_url and settings.sms_account_sid  # all four, or none
    assert settings.sms_auth_token and settings.sms_from
    gateway = SmsGateway(
        settings.sms_gateway_url,
        settings.sms_account_sid,
        settings.sms_auth_token,
        settings.sms_from,
    )
    # Every message comes from the gateway's address: only the per-sender limit means much.
    gate = FloodGate(settings.webchat_per_chat, "100000/minute", settings.rate_limit_storage)
    channel = SmsChannel(
        front.handle,
        gateway,
        auth_token=settings.sms_auth_token,
        now=front.now,
        public_url=settings.sms_webhook_url,
        gate=gate,
        refusals=Refusals(settings.sms_bad_signatures_per_address, settings.rate_limit_storage),
    )
    return channel, gateway


def mail_for(settings: Settings, front: Front) -> MailDesk | None:
    """Complaints and suggestions by e-mail (seed §4.2), when a port to listen on is set."""
    if settings.mail_listen_port is None:
        return None
    assert settings.mail_from and settings.smtp_host  # checked with the settings
    return MailDesk(
        front.handle_mail,
        # Anyone can write From: someone-else: a sender's mails are few, or not answered.
        gate=FloodGate("10/hour", "1000/hour", settings.rate_limit_storage),
        host=settings.mail_listen_host,
        port=settings.mail_listen_port,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        from_address=settings.mail_from,
        smtp_user=settings.smtp_user,
        smtp_password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        now=front.now,
    )


async def _by_mail(desk: MailDesk, subject: str, address: str, messages: list[Outbound]) -> None:
    await desk.send(address, subject, "\n\n".join(m.text for m in messages))
