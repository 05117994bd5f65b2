"""候补 in conversation: a full session can be waited for; the place offered later is taken
or let go with one press under the offer; "my bookings" shows the lines a patient is in.

    full session ──候补──▶ patient? ──confirm──▶ waiting (number n in line)
    offer notice ──确认预约──▶ booked       offer notice ──不要了──▶ passed on
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from booking.appointments.book import BookingReceipt
from booking.appointments.model import WaitStatus
from booking.appointments.waitlist import (
    accept_offer,
    decline_offer,
    join_waitlist,
    leave_waitlist,
    waiting_of_account,
)
from booking.catalogue.model import Catalogue
from booking.catalogue.search import SessionOffer
from booking.errors import BookingError, NotFull
from bot.dialogue import choice_keys
from bot.dialogue.context import Context
from bot.texts import doctor_named
from channels.messages import Choice, Outbound

WAITLIST_CHOICES = 2  # full sessions offered to wait for, next to the free ones

Receipt = Callable[[Context, BookingReceipt], Awaitable[str]]


def open_lines(ctx: Context, offers: list[SessionOffer]) -> list[SessionOffer]:
    """Full sessions whose line still takes patients."""
    now = ctx.now()
    return [
        o
        for o in offers
        if o.waitable
        and now < o.hospital.policy.waitlist_closing(o.session.visit_date, o.hospital.timezone)
    ][:WAITLIST_CHOICES]


def choice(ctx: Context, offer: SessionOffer, described: dict[str, object]) -> Choice:
    return Choice(
        choice_keys.waitlist(offer.session.id, offer.doctor.work_no),
        ctx.say("waitlist.choice", **described),
    )


def confirm_text(
    ctx: Context, offer: SessionOffer, patient: str, described: dict[str, object]
) -> str:
    policy = offer.hospital.policy
    closes = policy.waitlist_closing(offer.session.visit_date, offer.hospital.timezone)
    return ctx.say(
        "waitlist.confirm",
        patient=patient,
        minutes=policy.waitlist_offer_minutes,
        closes=_when(ctx, closes),
        **described,
    )


async def join(ctx: Context, session_id: int, patient_id: int) -> list[Outbound] | None:
    """Joins the line; None when the session has places again (book it instead)."""
    try:
        waiting = await join_waitlist(
            ctx.uows, ctx.clock, patient_id=patient_id, session_id=session_id,
            channel=ctx.channel, account=ctx.account, address=ctx.address,
        )  # fmt: skip
    except NotFull:
        return None
    except BookingError as error:
        ctx.state.finish()
        return [ctx.refusal(error)]
    ctx.state.finish()
    text = ctx.say(
        "waitlist.joined",
        position=waiting.position,
        minutes=waiting.offer_minutes,
        closes=_when(ctx, waiting.closes_at),
    )
    return [ctx.reply(text)]


async def take(ctx: Context, entry: str, receipt_text: Receipt) -> list[Outbound]:
    """确认预约 under an offer: the held place is booked, or the reason it cannot be."""
    if not entry.isdigit():
        return [ctx.reply(ctx.say("choice_gone"))]
    try:
        receipt = await accept_offer(
            ctx.uows, ctx.clock, int(entry), account=ctx.account, address=ctx.address,
            request=ctx.request,
        )  # fmt: skip
    except BookingError as error:
        return [ctx.refusal(error)]
    return [ctx.reply(await receipt_text(ctx, receipt))]


async def let_go(ctx: Context, entry: str, *, leaving: bool) -> list[Outbound]:
    """不要了 under an offer, or 退出候补 from "my bookings": the place passes on."""
    if not entry.isdigit():
        return [ctx.reply(ctx.say("choice_gone"))]
    step = leave_waitlist if leaving else decline_offer
    try:
        await step(ctx.uows, ctx.clock, int(entry), account=ctx.account)
    except BookingError as error:
        return [ctx.refusal(error)]
    return [ctx.reply(ctx.say("waitlist.left" if leaving else "waitlist.passed"))]


async def lines(ctx: Context, catalogue: Catalogue) -> tuple[list[str], tuple[Choice, ...]]:
    """The lines this account's patients wait in, and a button to leave each."""
    found = await waiting_of_account(ctx.uows, *ctx.account)
    texts, choices = [], []
    for view in found:
        session = await _session_words(ctx, catalogue, view.session_id)
        if view.status is WaitStatus.OFFERED and view.offer_expires_at is not None:
            line = ctx.say(
                "waitlist.line_offered",
                patient=view.patient_name,
                session=session,
                until=ctx.local(view.offer_expires_at).strftime("%H:%M"),
            )
        else:
            line = ctx.say(
                "waitlist.line", patient=view.patient_name, session=session, position=view.position
            )
        texts.append(line)
        if view.status is WaitStatus.OFFERED:
            choices.append(
                Choice(
                    choice_keys.notice("take", view.entry_id),
                    ctx.say("waitlist.take", date=view.visit_date),
                )
            )
        choices.append(
            Choice(
                choice_keys.leave(view.entry_id), ctx.say("waitlist.leave", date=view.visit_date)
            )
        )
    return texts, tuple(choices)


async def _session_words(ctx: Context, catalogue: Catalogue, session_id: int) -> str:
    async with ctx.uows(readonly=True) as uow:
        session = await uow.sessions.get(session_id)
    if session is None:
        return ""
    doctor = next((d for d in catalogue.doctors if d.work_no == session.doctor_work_no), None)
    department = next((d for d in catalogue.departments if d.code == session.department_code), None)
    english = ctx.language == "en"
    return " ".join(
        filter(
            None,
            [
                session.visit_date.isoformat(),
                ctx.say(f"part.{session.part.value}"),
                (department.name_en if english else department.name_zh) if department else "",
                doctor_named(ctx.texts, ctx.language, doctor.name, doctor.name_en, doctor.work_no)
                if doctor
                else "",
            ],
        )
    )


def _when(ctx: Context, moment: datetime) -> str:
    return ctx.local(moment).strftime("%m-%d %H:%M")
