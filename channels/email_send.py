"""Mail out through the hospital's SMTP server, with aiosmtplib: asynchronous like the rest of
the application, so a slow mail server holds no thread and a stop cancels a send cleanly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

SEND_TIMEOUT = 30.0


class MailNotSent(Exception):
    """The SMTP server did not take the mail. `permanent`: it refused it for good (5xx, e.g.
    no such mailbox), so sending it again is no use."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmtpRelay:
    def __init__(
        self,
        host: str,
        port: int,
        from_address: str,
        user: str | None,
        password: str | None,
        starttls: bool,
        now: Callable[[], datetime],
    ) -> None:
        self._host, self._port = host, port
        self._user, self._password = user, password
        self._starttls = starttls
        self._now = now
        self.from_address = from_address.strip().lower()
        # The name this side gives in EHLO and in Message-IDs.
        self.hostname = self.from_address.rpartition("@")[2] or "localhost"

    def compose(
        self,
        to: str,
        subject: str,
        text: str,
        in_reply_to: str | None = None,
        references: tuple[str, ...] = (),
        *,
        auto_reply: bool = False,
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(self._now())
        message["Message-ID"] = make_msgid(domain=self.hostname)
        # RFC 3834: tells other auto-responders not to answer this mail.
        message["Auto-Submitted"] = "auto-replied" if auto_reply else "auto-generated"
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
        if references:
            message["References"] = " ".join(references)
        message.set_content(text)
        return message

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                sender=self.from_address,
                recipients=[str(message["To"])],
                hostname=self._host,
                port=self._port,
                username=self._user,
                password=self._password,
                start_tls=self._starttls,
                local_hostname=self.hostname,
                timeout=SEND_TIMEOUT,
            )
        except aiosmtplib.SMTPResponseException as refused:
            raise MailNotSent(f"SMTP {refused.code}", permanent=refused.code >= 500) from None
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = sorted({error.code for error in refused.recipients})
            raise MailNotSent(f"SMTP {codes}", permanent=min(codes) >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as error:  # no connection, timeout, TLS
            raise MailNotSent(type(error).__name__) from None
