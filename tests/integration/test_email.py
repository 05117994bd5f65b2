"""Complaints by e-mail over real SMTP both ways: mails are sent with aiosmtplib to our MailDesk
on 127.0.0.1, handled by bot.complaints.mail with the booking domain (on SQLite, and on PostgreSQL
when its test server is there), and the replies are caught by a local aiosmtpd server standing in
for the hospital's mail server.
"""

from __future__ import annotations

import asyncio
import base64
import email
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage
from functools import partial
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import text

from booking.clock import FixedClock
from booking.complaints.filing import complaint_status
from booking.complaints.model import ComplaintCategory
from booking.protect import Protector
from booking.store import Database
from bot.complaints.mail import OnFiled, handle_mail
from bot.texts import Texts
from channels.email import Mail, MailDesk, MailNotSent, MailReply, OnMail
from channels.email_text import html_to_text, without_quotation
from channels.flood import FloodGate

TEXTS = Texts.load()
HOSPITAL = "complaints@hospital.example"
PATIENT = "zhang.san@patient.example"
TRACKING_NO = re.compile(r"TS\d{10}")
SUBJECT = "投诉：心内科候诊太久"
# 喆 is in GBK but not in GB2312, which the mail says it is written in (as mail programs do).
COMPLAINT = "3月2日上午在心内科候诊三个多小时，叫号的护士态度很差。王喆医生看诊很耐心，谢谢他。"


@dataclass
class Outbox:
    """The hospital's mail server: keeps what it is given; answers the first `refuse` with 451."""

    mails: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    refuse: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Busy"
        assert envelope.original_content is not None
        parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append((envelope, parsed))
        self.arrived.set()
        return "250 OK"

    async def next(self) -> tuple[Envelope, EmailMessage]:
        while not self.mails:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 5)
        return self.mails.pop(0)


@dataclass
class Hospital:
    desk: MailDesk
    outbox: Outbox
    db: Database
    protector: Protector
    posted: list[str]  # the complaint numbers handed to on_filed

    async def deliver(self, message: EmailMessage | bytes, sender: str = PATIENT) -> None:
        """Send as the patient's mail server does; `sender` "": a null reverse-path (<>)."""
        raw = message.as_bytes() if isinstance(message, EmailMessage) else message
        async with self.client() as client:
            await client.sendmail(sender, [HOSPITAL], raw)

    def client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname="127.0.0.1", port=self.desk.port, start_tls=False,
            local_hostname="patient.example",
        )  # fmt: skip

    async def answer(self) -> tuple[Envelope, EmailMessage]:
        return await self.outbox.next()

    async def quiet(self) -> None:
        """Every mail taken in is handled, and nothing was sent."""
        assert await self.desk.drain(5)
        assert self.outbox.mails == []

    async def complaints(self) -> list[tuple[str, str, str]]:
        """(number, category, what was written) of every complaint kept."""
        query = text("SELECT complaint_no, category, text FROM complaints")
        async with self.db.new_transaction(readonly=True) as tx:
            rows = (await tx.execute(query)).all()
        return [(no, category, self.protector.decrypt(sealed)) for no, category, sealed in rows]


@asynccontextmanager
async def open_hospital(
    db: Database,
    protector: Protector,
    clock: FixedClock,
    wrap: Callable[[OnMail], OnMail] | None = None,
    **options: Any,
) -> AsyncIterator[Hospital]:
    """`wrap`: put around the bot's handle_mail, to make it fail."""
    loop = asyncio.get_running_loop()
    outbox = Outbox()
    mail_server = await loop.create_server(
        lambda: SMTP(outbox, hostname="smtp.hospital.example", loop=loop), "127.0.0.1", 0
    )
    posted: list[str] = []

    async def on_filed(complaint_no: str) -> None:
        posted.append(complaint_no)

    filed: OnFiled = on_filed
    on_mail: OnMail = partial(
        handle_mail, uows=db, protector=protector, clock=clock, texts=TEXTS, on_filed=filed
    )
    desk = MailDesk(
        wrap(on_mail) if wrap else on_mail, host="127.0.0.1", port=0, smtp_host="127.0.0.1",
        smtp_port=mail_server.sockets[0].getsockname()[1], from_address=HOSPITAL,
        now=clock.now, **options,
    )  # fmt: skip
    await desk.start()
    try:
        yield Hospital(desk, outbox, db, protector, posted)
    finally:
        await desk.stop()
        mail_server.close()
        await mail_server.wait_closed()


def fails_once(error: Exception) -> Callable[[OnMail], OnMail]:
    failures = [error]

    def wrap(on_mail: OnMail) -> OnMail:
        async def handle(mail: Mail) -> MailReply | None:
            if failures:
                raise failures.pop()
            return await on_mail(mail)

        return handle

    return wrap


@pytest.fixture
async def hospital(
    db: Database, protector: Protector, clock: FixedClock
) -> AsyncIterator[Hospital]:
    async with open_hospital(db, protector, clock) as opened:
        yield opened


def gbk_complaint(message_id: str = "<c1@patient.example>") -> bytes:
    """As an older Chinese mail program writes it: GBK labelled gb2312, base64, encoded words."""
    name = Header("张三", "gb2312").encode()
    subject = Header(SUBJECT, "gb2312").encode()
    body = base64.encodebytes(COMPLAINT.encode("gbk")).decode()
    return (
        f"From: {name} <Zhang.San@Patient.Example>\r\nTo: {HOSPITAL}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n'
        f"\r\n{body}"
    ).encode("ascii")


def written(subject: str, body: str, sender: str = PATIENT, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = HOSPITAL
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def test_a_chinese_complaint_in_gbk_is_filed_and_answered_with_its_number(
    hospital: Hospital,
) -> None:
    await hospital.deliver(gbk_complaint())
    envelope, reply = await hospital.answer()
    assert envelope.mail_from == HOSPITAL and envelope.rcpt_tos == [PATIENT]
    assert reply["From"] == HOSPITAL and reply["To"] == PATIENT
    assert reply["Subject"] == f"Re: {SUBJECT}"
    assert reply["In-Reply-To"] == "<c1@patient.example>"
    assert reply["References"] == "<c1@patient.example>"
    assert reply["Auto-Submitted"] == "auto-replied"  # no auto-responder answers it
    body = reply.get_content()
    number = TRACKING_NO.search(body)
    assert number is not None
    assert body.index(number.group()) < body.index("tracking number")  # Chinese first
    assert "受理流水号" in body and number.group() in body.split("tracking number")[1]
    complaint = await complaint_status(hospital.db, number.group())
    assert complaint.category == ComplaintCategory.OTHER and complaint.channel == "email"
    [(_, _, kept)] = await hospital.complaints()
    assert kept == f"{SUBJECT} {COMPLAINT}"
    assert hospital.posted == [number.group()]


async def test_raw_gbk_bytes_without_a_charset_are_read_too(hospital: Hospital) -> None:
    raw = (
        f"From: 张三 <{PATIENT}>\r\nSubject: {SUBJECT}\r\nMessage-ID: <c3@patient.example>\r\n"
        f"\r\n{COMPLAINT}\r\n"
    ).encode("gbk")  # as the oldest mail programs still send it: no MIME at all
    await hospital.deliver(raw)
    _, reply = await hospital.answer()
    assert reply["Subject"] == f"Re: {SUBJECT}"
    [(number, _, kept)] = await hospital.complaints()
    assert number in reply.get_content() and kept == f"{SUBJECT} {COMPLAINT}"


async def test_a_suggestion_in_english_without_the_quoted_earlier_mail(
    hospital: Hospital,
) -> None:
    body = (
        "Hello,\n\nIt would help to have more seats in the waiting hall on the 2nd floor.\n\n"
        "Best regards,\nAlice\n\nOn Mon, 23 Nov 2026 at 09:00, Hospital <x@y.example> wrote:\n"
        "> Your earlier question\n"
    )
    await hospital.deliver(written("A suggestion for the waiting hall", body))
    _, reply = await hospital.answer()
    assert reply["Subject"] == "Re: A suggestion for the waiting hall"
    [(number, category, kept)] = await hospital.complaints()
    assert number in reply.get_content() and category == ComplaintCategory.SUGGESTION
    assert "more seats in the waiting hall" in kept and "earlier question" not in kept


async def test_an_html_only_mail_with_an_attachment_is_read_as_text(hospital: Hospital) -> None:
    message = written("收费问题", "")
    message.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>收费处多收了我&nbsp;20&nbsp;元。"
        "</p><div>挂号单号&nbsp;B123</div><blockquote>上次的邮件</blockquote>"
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    message.add_attachment(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", filename="a.png")
    await hospital.deliver(message)
    _, reply = await hospital.answer()
    [(number, _, kept)] = await hospital.complaints()
    assert number in reply.get_content()
    assert kept == "收费问题 收费处多收了我 20 元。 挂号单号 B123"


def _empty() -> EmailMessage:
    return written("投诉", " \n\n")


def _attachment_only() -> EmailMessage:
    message = written("投诉", "")
    message.clear_content()
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="x.pdf")
    return message


def _undecodable() -> bytes:
    return (
        f"From: {PATIENT}\r\nSubject: complaint\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + b"\xff\xfe\xfa\xff\xff\r\n"


@pytest.mark.parametrize("mail", [_empty, _attachment_only, _undecodable])
async def test_a_mail_without_readable_text_gets_a_polite_answer_and_nothing_is_filed(
    hospital: Hospital, mail: Any
) -> None:
    await hospital.deliver(mail())
    envelope, reply = await hospital.answer()
    assert envelope.rcpt_tos == [PATIENT] and reply["Subject"].startswith("Re: ")
    body = reply.get_content()
    assert TEXTS.say("zh", "mail.unreadable") in body and TEXTS.say("en", "mail.unreadable") in body
    assert await hospital.complaints() == [] and hospital.posted == []


def _no_sender() -> tuple[bytes, str]:
    return f"To: {HOSPITAL}\r\nSubject: 投诉\r\n\r\nhello\r\n".encode(), ""


def _auto_reply() -> tuple[EmailMessage, str]:
    return written("Out of office", "I am away", Auto_Submitted="auto-replied"), PATIENT


def _bounce() -> tuple[EmailMessage, str]:
    return written("Undelivered Mail", "failed", sender="MAILER-DAEMON@patient.example"), ""


def _newsletter() -> tuple[EmailMessage, str]:
    return written("News", "Our offers", List_Id="<news.shop.example>"), PATIENT


@pytest.mark.parametrize("mail", [_no_sender, _auto_reply, _bounce, _newsletter])
async def test_mail_with_nobody_to_answer_or_from_a_machine_is_dropped(
    hospital: Hospital, mail: Any
) -> None:
    message, sender = mail()
    await hospital.deliver(message, sender=sender)
    await hospital.quiet()
    assert await hospital.complaints() == []


async def test_without_from_the_envelope_sender_is_answered(hospital: Hospital) -> None:
    raw = f"To: {HOSPITAL}\r\nSubject: 投诉\r\n\r\n药房排队太久\r\n".encode()
    await hospital.deliver(raw, sender="Li.Si@Patient.example")
    envelope, reply = await hospital.answer()
    assert envelope.rcpt_tos == ["li.si@patient.example"]
    assert reply["In-Reply-To"] is None and TRACKING_NO.search(reply.get_content())


async def test_a_mail_over_the_size_limit_is_refused_and_the_desk_goes_on(
    hospital: Hospital,
) -> None:
    big = b"From: " + PATIENT.encode() + b"\r\nSubject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 2100
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as declared:  # SIZE said at MAIL FROM
        await hospital.deliver(big)
    assert declared.value.code == 552
    async with hospital.client() as client:
        await client.mail(PATIENT)  # no SIZE: refused once it is all in
        await client.rcpt(HOSPITAL)
        with pytest.raises(aiosmtplib.SMTPDataError) as sent:
            await client.data(big)
        assert sent.value.code == 552
        await client.sendmail(PATIENT, [HOSPITAL], gbk_complaint())  # same connection
    _, reply = await hospital.answer()
    assert len(await hospital.complaints()) == 1 and TRACKING_NO.search(reply.get_content())


async def test_the_same_mail_delivered_twice_is_filed_and_answered_once(
    hospital: Hospital,
) -> None:
    await hospital.deliver(gbk_complaint())
    await hospital.deliver(gbk_complaint())
    outcomes = await asyncio.gather(
        hospital.deliver(gbk_complaint("<c2@patient.example>")),
        hospital.deliver(gbk_complaint("<c2@patient.example>")),
        return_exceptions=True,
    )
    for outcome in outcomes:  # the second at the same time is put off, or seen as the same
        assert outcome is None or (
            isinstance(outcome, aiosmtplib.SMTPDataError) and outcome.code == 451
        )
    assert await hospital.desk.drain(5)
    assert len(await hospital.complaints()) == 2 and len(hospital.outbox.mails) == 2


async def test_a_failure_answers_451_so_the_mail_comes_again_and_is_filed_then(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    flaky = fails_once(RuntimeError("database down"))
    async with open_hospital(db, protector, clock, wrap=flaky) as hospital:
        with pytest.raises(aiosmtplib.SMTPDataError) as put_off:
            await hospital.deliver(gbk_complaint())
        assert put_off.value.code == 451 and await hospital.complaints() == []
        await hospital.deliver(gbk_complaint())
        _, reply = await hospital.answer()
        [(number, _, _)] = await hospital.complaints()
        assert number in reply.get_content()


async def test_a_reply_the_mail_server_puts_off_is_sent_again(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    async with open_hospital(db, protector, clock, retry_delays=(0.05,)) as hospital:
        hospital.outbox.refuse = 1
        await hospital.deliver(gbk_complaint())
        _, reply = await hospital.answer()
        assert TRACKING_NO.search(reply.get_content())


async def test_a_sender_sending_too_fast_is_put_off(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    gate = FloodGate(per_chat="1/minute")
    async with open_hospital(db, protector, clock, gate=gate) as hospital:
        await hospital.deliver(gbk_complaint())
        with pytest.raises(aiosmtplib.SMTPDataError) as put_off:
            await hospital.deliver(gbk_complaint("<c2@patient.example>"))
        assert put_off.value.code == 451
        assert await hospital.desk.drain(5) and len(await hospital.complaints()) == 1


async def test_nothing_personal_is_logged(
    db: Database, protector: Protector, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    flaky = fails_once(RuntimeError(f"no room for {COMPLAINT} from {PATIENT}"))
    async with open_hospital(db, protector, clock, wrap=flaky) as hospital:
        with pytest.raises(aiosmtplib.SMTPDataError):
            await hospital.deliver(gbk_complaint())
        await hospital.deliver(gbk_complaint())
        await hospital.deliver(gbk_complaint())
        await hospital.deliver(_empty())
        await hospital.deliver(*_no_sender())
        await hospital.deliver(*_auto_reply())
        assert await hospital.desk.drain(5) and len(hospital.outbox.mails) == 2
    logged = caplog.text.lower()
    assert "mail not handled" in logged and "delivered again" in logged  # it did log
    assert "no sender address" in logged and "sent by a machine" in logged
    for personal in ("zhang.san", "patient.example", "心内科", "候诊", "hello", "away"):
        assert personal not in logged


async def test_notices_are_sent_and_a_mail_server_that_is_down_is_reported(
    hospital: Hospital,
) -> None:
    await hospital.desk.send("Wang.Wu@Patient.example", "投诉处理结果", "已处理", "<c1@x.example>")
    envelope, notice = await hospital.answer()
    assert envelope.rcpt_tos == ["wang.wu@patient.example"]
    assert notice.get_content().strip() == "已处理"
    assert notice["In-Reply-To"] == "<c1@x.example>"
    assert notice["Auto-Submitted"] == "auto-generated"
    with pytest.raises(ValueError):
        await hospital.desk.send("not an address", "x", "y")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    nowhere = MailDesk(
        handle_nothing, host="127.0.0.1", port=0, smtp_host="127.0.0.1", smtp_port=closed_port,
        from_address=HOSPITAL,
    )  # fmt: skip
    with pytest.raises(MailNotSent):
        await nowhere.send(PATIENT, "x", "y")


async def handle_nothing(mail: Mail) -> None:
    return None


async def test_a_desk_stops_with_a_connection_open(hospital: Hospital) -> None:
    client = hospital.client()
    await client.connect()
    await client.ehlo()
    await hospital.desk.stop()
    with pytest.raises(aiosmtplib.SMTPException):
        await client.noop()
    client.close()


@pytest.mark.parametrize(
    ("written_text", "kept"),
    [
        ("好的\n\n------------------ 原始邮件 ------------------\n发件人: 医院", "好的"),
        ("补充一点\n\n在 2026年11月23日 09:00，医院 <x@y.cn> 写道：\n> 您好", "补充一点"),
        ("More\n\nFrom: Hospital\nSent: Monday\nSubject: Re", "More"),
        ("Thanks\n-- \nAlice, 138 0000 0000", "Thanks"),
        ("> only what was quoted", "> only what was quoted"),
    ],
)
def test_quoted_earlier_mail_is_cut_off(written_text: str, kept: str) -> None:
    assert without_quotation(written_text).strip() == kept


def test_html_is_made_plain() -> None:
    html = "<p>第一段<br>第二行</p><ul><li>a &amp; b</li></ul><style>x{}</style>"
    assert html_to_text(html).split() == ["第一段", "第二行", "a", "&", "b"]
