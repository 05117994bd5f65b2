"""Complaints and suggestions by e-mail (seed §4.2): an SMTP endpoint that takes mail in, and
answers by SMTP through the hospital's mail server.

The hospital's own mail server (which does TLS, spam filtering and the MX record) forwards the
complaints address to this endpoint. Each mail becomes a neutral `Mail` (sender, subject, the
words written, Message-ID) handed to `on_mail`; the `MailReply` it returns goes back to the
sender as "Re: …", threaded with In-Reply-To and References, after the SMTP transaction is
answered. What the SMTP client is told:

- 250 when the mail was handled, or dropped for good: no address to answer (logged), sent by a
  machine (bounces, auto-replies, lists: answering them could loop), or delivered again (the
  same sender and Message-ID, or the same bytes when it has none, is handled once by this
  process: the last 10,000 are remembered in memory, which does not survive a restart);
- 552 when it is larger than `size_limit` (aiosmtpd refuses it; the connection goes on);
- 451 when `on_mail` failed, the same mail is being handled on another connection, the
  sender is sending too fast, or the desk is stopping: nothing was kept, and the sending
  server tries again later.

`on_mail` must raise only when it kept nothing. Logs never hold an address, subject or text.

    desk = MailDesk(on_mail, host="0.0.0.0", port=2525, smtp_host="smtp.hospital.example",
                    smtp_port=587, from_address="complaints@hospital.example", starttls=True)
    await desk.start()
    ...
    await desk.stop()
"""

from __future__ import annotations

import asyncio
import email
import hashlib
import logging
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from weakref import WeakSet

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email_headers import (
    address,
    automatic,
    message_id_of,
    references_of,
    reply_subject,
    sender_of,
    subject_of,
)
from channels.email_send import MailNotSent, SmtpRelay
from channels.email_text import readable_text
from channels.flood import FloodGate

__all__ = ["Mail", "MailDesk", "MailNotSent", "MailReply", "OnMail"]

log = logging.getLogger(__name__)

ACCEPTED = "250 2.0.0 OK"
TRY_LATER = "451 4.3.0 Not taken now, please try again later"
TOO_FAST = "451 4.7.1 Too many messages from this sender, please try again later"
SIZE_LIMIT = 1024 * 1024
REMEMBERED_MAILS = 10_000
LONGEST_BODY = 20_000


@dataclass(frozen=True, slots=True)
class Mail:
    sender: str  # the address to answer, in lower case
    subject: str
    body: str  # what was written, quoted earlier mail cut off; "" when nothing could be read
    message_id: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class MailReply:
    text: str
    subject: str | None = None  # None: "Re: " and the subject of the mail answered


OnMail = Callable[[Mail], Awaitable[MailReply | None]]


class MailDesk:
    def __init__(
        self,
        on_mail: OnMail,
        *,
        host: str,
        port: int,
        smtp_host: str,
        smtp_port: int,
        from_address: str,
        smtp_user: str | None = None,
        smtp_password: str | None = None,
        starttls: bool = False,
        size_limit: int = SIZE_LIMIT,
        gate: FloodGate | None = None,
        retry_delays: tuple[float, ...] = (10.0, 60.0, 600.0),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`host`, `port`: where to listen (port 0: any free one, see `port`). `smtp_*`: the
        server replies go out through. `gate`: how many mails one address may send.
        `retry_delays`: the waits before sending a reply again when the server did not take
        it."""
        self._on_mail = on_mail
        self._host, self._port = host, port
        self._relay = SmtpRelay(
            smtp_host, smtp_port, from_address, smtp_user, smtp_password, starttls, now
        )
        self._size_limit = size_limit
        self._gate = gate
        self._retry_delays = retry_delays
        self._now = now
        self._server: asyncio.Server | None = None
        self._connections: WeakSet[SMTP] = WeakSet()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._in_hand: set[str] = set()
        self._stopping = False

    @property
    def port(self) -> int:
        """The port listened on (the one chosen when 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        # aiosmtpd logs every command line, addresses included, at INFO and DEBUG.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._connection, self._host, self._port)

    async def stop(self, grace: float = 10.0) -> None:
        """Take no more mail; finish handling and answering within `grace` seconds."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        if not await self.drain(grace):
            log.warning("stopping with %d mails unhandled or unanswered", len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Connections idle or still talking end now; their sender's server will try again.
        handlers = []
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.close()
            handlers.append(getattr(connection, "_handler_coroutine", None))
        await asyncio.gather(*(h for h in handlers if h is not None), return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def drain(self, within: float = 10.0) -> bool:
        """Wait up to `within` seconds until every mail taken in is handled and answered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._tasks:
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.wait(list(self._tasks), timeout=left)
        return True

    async def send(self, to: str, subject: str, text: str, in_reply_to: str | None = None) -> None:
        """Send a notice (e.g. what became of a complaint). Raises ValueError when `to` is not
        an e-mail address, MailNotSent when the mail server did not take it."""
        recipient = address(to)
        if recipient is None:
            raise ValueError("the recipient is not an e-mail address")
        references = (in_reply_to,) if in_reply_to else ()
        notice = self._relay.compose(recipient, subject, text, in_reply_to, references)
        await self._relay.send(notice)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook for a mail received whole (within the size limit)."""
        try:
            return await self._take(envelope.mail_from or "", envelope.original_content or b"")
        except Exception as error:  # the SMTP client must still get an answer
            log.error("mail not taken: %s", _where(error))
            return TRY_LATER

    def _connection(self) -> SMTP:
        connection = SMTP(
            self,
            data_size_limit=self._size_limit,
            enable_SMTPUTF8=True,
            hostname=self._relay.hostname,  # without it, a DNS look-up for every connection
            ident="ESMTP",
            loop=asyncio.get_running_loop(),
        )
        self._connections.add(connection)
        return connection

    async def _take(self, envelope_sender: str, raw: bytes) -> str:
        if self._stopping:
            return TRY_LATER
        message = email.message_from_bytes(raw, policy=policy.default)
        if not isinstance(message, EmailMessage):
            raise TypeError("the parser did not give an EmailMessage")
        sender = sender_of(message, envelope_sender)
        if sender is None:
            log.warning("mail dropped: no sender address to answer")
            return ACCEPTED
        if sender == self._relay.from_address or automatic(message, envelope_sender, sender):
            log.info("mail dropped: sent by a machine")
            return ACCEPTED
        message_id = message_id_of(message)
        # Per sender: anyone can write any Message-ID, and must not silence someone else's mail.
        key = f"{sender}\x00{message_id or hashlib.sha256(raw).hexdigest()}"
        if key in self._handled:
            log.info("mail delivered again: handled once")
            return ACCEPTED
        if key in self._in_hand:
            return TRY_LATER
        self._in_hand.add(key)
        try:
            if self._gate is not None and await self._gate.admit("email", sender, None):
                log.warning("mail put off: its sender is sending too fast")
                return TOO_FAST
            body = readable_text(message)[:LONGEST_BODY]
            mail = Mail(sender, subject_of(message), body, message_id, self._now())
            # Shielded: a connection that drops now does not undo a complaint half kept.
            handling = self._spawn(self._handle(mail, key, references_of(message, message_id)))
            handled = await asyncio.shield(handling)
        finally:
            self._in_hand.discard(key)
        return ACCEPTED if handled else TRY_LATER

    async def _handle(self, mail: Mail, key: str, references: tuple[str, ...]) -> bool:
        try:
            reply = await self._on_mail(mail)
        except Exception as error:
            log.error("mail not handled, its server will try again: %s", _where(error))
            return False
        self._handled[key] = None
        if len(self._handled) > REMEMBERED_MAILS:
            self._handled.popitem(last=False)
        if reply is None:
            return True
        try:
            subject = reply.subject or reply_subject(mail.subject)
            answer = self._relay.compose(
                mail.sender, subject, reply.text, mail.message_id, references, auto_reply=True
            )
        except Exception as error:  # e.g. an address the headers cannot hold
            log.error("reply to a mail not written: %s", _where(error))
            return True
        self._spawn(self._deliver(answer))
        return True

    async def _deliver(self, answer: EmailMessage) -> None:
        for delay in (*self._retry_delays, None):
            try:
                await self._relay.send(answer)
                return
            except MailNotSent as problem:
                if problem.permanent or delay is None:
                    log.error("reply to a mail not sent: %s", problem)
                    return
                log.warning("reply to a mail not sent (%s); again in %gs", problem, delay)
                await asyncio.sleep(delay)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _where(error: BaseException) -> str:
    """The kind of error and where it was raised, without its message (which may quote what a
    patient wrote or a database row)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    return f"{type(error).__name__} at {Path(frames[-1].filename).name}:{frames[-1].lineno}"
