"""投诉建议 by e-mail (seed §4.2): each mail with readable text is filed as one complaint or
suggestion (channel "email", filed by the sender's address) and answered with its tracking
number; a mail with nothing readable is answered with how to write one. Which language the
patient reads is unknown, so every answer is in Chinese, then in English.

Wiring (see channels.email): `MailDesk(partial(handle_mail, uows=…, protector=…, clock=…,
texts=…, on_filed=…), …)`. A mail delivered twice is filed once by the desk, not here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from booking.clock import Clock
from booking.complaints.filing import ACCEPT_WITHIN, MAX_TEXT, file_complaint
from booking.complaints.model import ComplaintCaps, ComplaintCategory
from booking.errors import BookingError, TryAgain
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.texts import LANGUAGES, Texts
from channels.email import Mail, MailReply
from nlu.text import has_han

log = logging.getLogger(__name__)

OnFiled = Callable[[str], Awaitable[None]]
# A mail is a suggestion when it says so and does not also call itself a complaint; the
# department that handles it can still change what it is about.
_SUGGESTION = re.compile(r"建议|意见箱|suggest", re.IGNORECASE)
_COMPLAINT = re.compile(r"投诉|举报|complain", re.IGNORECASE)


async def handle_mail(
    mail: Mail,
    *,
    uows: UnitOfWorkFactory[HospitalWork],
    protector: Protector,
    clock: Clock,
    texts: Texts,
    on_filed: OnFiled | None = None,
    accept_within: timedelta = ACCEPT_WITHIN,
    caps: ComplaintCaps | None = None,
) -> MailReply:
    """Raises (and so the sender's server sends the mail again later) only when nothing was
    kept. `on_filed(complaint_no)`: told of each complaint filed, e.g. to post it to the
    staff group; its failure is logged, the patient is answered all the same."""
    subject = None if mail.subject else f"Re: {bilingual(texts, 'mail.subject', ' / ')}"
    if not mail.body.strip():
        return MailReply(bilingual(texts, "mail.unreadable"), subject)
    text = f"{mail.subject}\n{mail.body}"[:MAX_TEXT]
    try:
        complaint = await file_complaint(
            uows,
            protector,
            clock,
            channel="email",
            user_id=mail.sender,
            category=category_of(text),
            text=text,
            # The language staff's answer will be sent in: Chinese unless none was written.
            language="zh" if has_han(text) else "en",
            accept_within=accept_within,
            caps=caps,  # the sender's address is the account
        )
    except TryAgain:
        raise
    except BookingError as error:
        return MailReply(bilingual(texts, f"refusal.{error.reason}"), subject)
    if on_filed is not None:
        try:
            await on_filed(complaint.complaint_no)
        except Exception as error:  # staff can still find it; the patient has a number
            log.error("complaint %s not posted: %s", complaint.complaint_no, type(error).__name__)
    return MailReply(bilingual(texts, "mail.filed", complaint_no=complaint.complaint_no), subject)


def category_of(text: str) -> ComplaintCategory:
    if _SUGGESTION.search(text) and not _COMPLAINT.search(text):
        return ComplaintCategory.SUGGESTION
    return ComplaintCategory.OTHER


def bilingual(texts: Texts, key: str, between: str = "\n\n", **values: Any) -> str:
    """The text in every language, Chinese first."""
    return between.join(texts.say(language, key, **values) for language in LANGUAGES)
