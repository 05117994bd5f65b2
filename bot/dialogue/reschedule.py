"""转号 / 改约: move a booking to another session of the same department, with a confirmation."""

from __future__ import annotations

from datetime import date

from booking.appointments.changes import transfer
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.errors import BookingError
from bot.dialogue import choice_keys
from bot.dialogue.bookings import describe, upcoming
from bot.dialogue.context import Context, Turn
from bot.dialogue.offers import describe_offer, doctor_name, session_label
from bot.dialogue.tasks import RescheduleTask
from channels.messages import Choice, Outbound

SHOWN = 6


async def start_reschedule(ctx: Context, turn: Turn) -> list[Outbound]:
    views = await upcoming(ctx)
    if not views:
        return [ctx.reply(ctx.say("bookings.none"))]
    ctx.state.start(RescheduleTask(date=turn.value("date"), part=turn.value("time_of_day")))
    named = turn.value("booking_no")
    chosen = next((v for v in views if v.booking_no == named), None)
    if chosen is None and len(views) > 1:
        choices = tuple(
            Choice(choice_keys.move(v.booking_no), ctx.say("bookings.line", **describe(ctx, v)))
            for v in views
        )
        return [ctx.reply(ctx.say("reschedule.which"), choices)]
    return await _sessions(ctx, (chosen or views[0]).booking_no)


async def move_from_notice(ctx: Context, booking_no: str) -> list[Outbound]:
    """改约 pressed under a reminder: the sessions it may move to (if it is this account's)."""
    ctx.state.start(RescheduleTask())
    if booking_no not in {v.booking_no for v in await upcoming(ctx)}:
        ctx.state.finish()
        return [ctx.reply(ctx.say("choice_gone"))]
    return await _sessions(ctx, booking_no)


async def _sessions(ctx: Context, booking_no: str | None) -> list[Outbound]:
    views = {v.booking_no: v for v in await upcoming(ctx)}
    view = views.get(booking_no) if booking_no is not None else None
    if view is None:
        ctx.state.finish()
        return [ctx.reply(ctx.say("refusal.not_found"))]
    task = ctx.state.reschedule
    task.booking_no = booking_no
    day = date.fromisoformat(task.date) if task.date else None
    found = await search_sessions(
        ctx.uows,
        ctx.clock,
        catalogue=await ctx.catalogue(),
        department=view.department_code,
        hospital=view.hospital_code,
        date_from=day or ctx.local(ctx.now()).date(),
        date_to=day,
        part=Part(task.part) if task.part else None,
    )
    offers = [o for o in found if o.bookable and o.free and o.session.id != view.session_id]
    if not offers:
        ctx.state.finish()
        return [ctx.reply(ctx.say("reschedule.none"))]
    choices = tuple(
        Choice(
            choice_keys.move_to(o.session.id, o.doctor.work_no),
            f"{doctor_name(ctx, o.doctor)} {session_label(ctx, o)}",
        )
        for o in offers[:SHOWN]
    )
    department = view.department_name_en if ctx.language == "en" else view.department_name_zh
    return [ctx.reply(ctx.say("reschedule.pick", department=department), choices)]


async def continue_reschedule(ctx: Context, turn: Turn) -> list[Outbound] | None:
    task = ctx.state.reschedule
    choice = turn.choice or ""
    pressed = choice_keys.read(choice)
    if pressed.kind == "move":
        return await _sessions(ctx, pressed.value)
    if pressed.kind == "to":
        session_id, work_no = pressed.value, pressed.extra
        offers = await search_sessions(
            ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=work_no
        )
        offer = next((o for o in offers if o.session.id == int(session_id)), None)
        if offer is None:
            return await _sessions(ctx, task.booking_no)
        task.to = offer.session.id
        described = describe_offer(ctx, offer)
        text = ctx.say(
            "reschedule.confirm",
            booking_no=task.booking_no,
            date=described["date"],
            weekday=described["weekday"],
            part=described["part"],
            doctor=described["doctor"],
        )
        choices = (
            Choice(choice_keys.CONFIRM_YES, ctx.say("reschedule.confirm_yes")),
            Choice(choice_keys.CONFIRM_NO, ctx.say("reschedule.confirm_no")),
        )
        return [ctx.reply(text, choices)]
    yes = choice == choice_keys.CONFIRM_YES or (not choice and turn.intent == "affirm")
    no = choice == choice_keys.CONFIRM_NO or (not choice and turn.intent == "deny")
    if yes and task.booking_no is not None and task.to is not None:
        ctx.state.finish()
        try:
            receipt = await transfer(
                ctx.uows, ctx.clock, task.booking_no, task.to, account=ctx.account,
                address=ctx.address,
            )  # fmt: skip
        except BookingError as error:
            return [ctx.refusal(error)]
        moved = receipt.to_session
        text = ctx.say(
            "reschedule.done",
            booking_no=receipt.appointment.booking_no,
            date=moved.visit_date.isoformat(),
            part=ctx.say(f"part.{moved.part.value}"),
            queue_no=receipt.place.queue_no,
            time=ctx.local(receipt.place.starts_at).strftime("%H:%M"),
        )
        return [ctx.reply(text)]
    if no:
        ctx.state.finish()
        return [ctx.reply(ctx.say("bookings.kept"))]
    return None
