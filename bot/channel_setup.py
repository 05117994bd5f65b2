"""The channels the application serves, as its settings configure them: Telegram (long
polling or the webhook, with the staff group chats), SMS through a Twilio-style gateway and
complaints by e-mail. Each registers how to reach a patient outside a conversation."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.staff import StaffRooms
from channels.email import MailDesk
from channels.flood import FloodGate, Refusals
from channels.messages import Outbound
from channels.sms import SmsChannel, SmsGateway
from channels.telegram import Pacing, TelegramChannel

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


async def start_telegram(channel: TelegramChannel, bot: Bot) -> None:
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

    bot.in_background(again())


def telegram_for(settings: Settings, bot: Bot) -> TelegramChannel | None:
    """The Telegram bot, when a token is configured: long polling, or the webhook. With a
    staff group, complaints go there too (bot.staff)."""
    if settings.telegram_bot_token is None:
        return None
    gate = FloodGate(settings.webchat_per_chat, "100000/minute", settings.rate_limit_storage)
    # Telegram's limits are the bot's: every process with this token counts in one storage.
    bot_id = settings.telegram_bot_token.split(":", 1)[0]
    channel = TelegramChannel(
        settings.telegram_bot_token,
        partial(bot.handle_gated, gate),
        now=bot.now,
        base_url=settings.telegram_api_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        on_staff=bot.staff_press,
        on_staff_command=bot.staff_command,
        pacing=Pacing(storage=settings.rate_limit_storage, bot=bot_id),
    )
    bot.senders["telegram"] = channel.send
    if settings.telegram_staff_chat_id is not None:
        bot.rooms = StaffRooms(
            default_chat=settings.telegram_staff_chat_id,
            department_chats=settings.department_chats(),
            office_chat=settings.telegram_staff_chat_id,
            management_chat=settings.telegram_ops_chat_id,
            staff_ids=settings.staff_user_ids(),
            deadline=timedelta(hours=settings.complaint_hours),
        )
    return channel


def sms_for(settings: Settings, bot: Bot) -> tuple[SmsChannel | None, SmsGateway | None]:
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
        bot.handle,
        gateway,
        auth_token=settings.sms_auth_token,
        now=bot.now,
        public_url=settings.sms_webhook_url,
        gate=gate,
        refusals=Refusals(settings.sms_bad_signatures_per_address, settings.rate_limit_storage),
    )
    bot.senders["sms"] = channel.send
    return channel, gateway


def mail_for(settings: Settings, bot: Bot) -> MailDesk | None:
    """Complaints and suggestions by e-mail (seed §4.2), when a port to listen on is set."""
    if settings.mail_listen_port is None:
        return None
    assert settings.mail_from and settings.smtp_host  # checked with the settings
    desk = MailDesk(
        bot.handle_mail,
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
        now=bot.now,
    )

    async def by_mail(address: str, messages: list[Outbound]) -> None:
        subject = bot.texts.say("zh", "mail.subject")
        await desk.send(address, subject, "\n\n".join(m.text for m in messages))

    bot.senders["email"] = by_mail
    return desk
