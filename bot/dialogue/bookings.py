"""My bookings and 退号 (cancel): list the account's bookings, pick one, confirm, cancel."""

from __future__ import annotations

from booking.appointments.attendance import confirm_coming
from booking.appointments.changes import cancel, transfer_stopped
from booking.appointments.listing import my_bookings
from booking.appointments.model import AppointmentStatus, BookingView
from booking.catalogue.model import yuan
from booking.errors import BookingError
from booking.patients.registration import patients_of_account
from bot.dialogue import account, choice_keys, waitlist
from bot.dialogue.context import Context, Turn
from bot.dialogue.tasks import CancelTask
from bot.texts import doctor_named
from channels.messages import Choice, Outbound


async def upcoming(ctx: Context) -> list[BookingView]:
    views = await my_bookings(ctx.uows, *ctx.account)
    today = ctx.local(ctx.now()).date()
    active = [v for v in views if v.status == AppointmentStatus.BOOKED and v.visit_date >= today]
    return sorted(active, key=lambda v: (v.visit_date, v.expected_time))


def describe(ctx: Context, view: BookingView) -> dict[str, object]:
    english = ctx.language == "en"
    return {
        "booking_no": view.booking_no,
        "patient": view.patient_name,
        "date": view.visit_date.isoformat(),
        "part": ctx.say(f"part.{view.part.value}"),
        "department": view.department_name_en if english else view.department_name_zh,
        "doctor": doctor_named(ctx.texts, ctx.language, view.doctor_name, "", view.doctor_work_no),
        "queue_no": view.queue_no,
        "time": ctx.local(view.expected_time).strftime("%H:%M"),
    }


async def show(ctx: Context) -> list[Outbound]:
    """The coming bookings with their fees, the waitlists; then the history and the
    account's patients are a press away."""
    views = await upcoming(ctx)
    waiting, leave = await waitlist.lines(ctx, await ctx.catalogue())
    more = account.account_choices(ctx, bool(await patients_of_account(ctx.uows, *ctx.account)))
    if not views and not waiting:
        return [ctx.reply(ctx.say("bookings.none"), more)]
    lines = [ctx.say("bookings.title")] if views else []
    for view in views:  # two short lines each: an SMS holds 70 Chinese characters
        lines += [
            ctx.say("bookings.upcoming_line", **describe(ctx, view)),
            ctx.say("bookings.upcoming_fees", **_with_fees(ctx, view)),
        ]
    if waiting:
        lines += [ctx.say("waitlist.title"), *waiting]
    return [ctx.reply("\n".join(lines), leave + more)]


def _with_fees(ctx: Context, view: BookingView) -> dict[str, object]:
    """R7: the fees of each booking, registration and consultation, in yuan."""
    return {
        **describe(ctx, view),
        "registration_fee": yuan(view.registration_fee_fen),
        "consultation_fee": yuan(view.consultation_fee_fen),
    }


async def start_cancel(ctx: Context, turn: Turn) -> list[Outbound]:
    views = await upcoming(ctx)
    if not views:
        return [ctx.reply(ctx.say("bookings.none"))]
    named = turn.value("booking_no")
    chosen = next((v for v in views if v.booking_no == named), None)
    if chosen is None and len(views) > 1:
        ctx.state.start(CancelTask())
        choices = tuple(
            Choice(choice_keys.cancel(v.booking_no), ctx.say("bookings.line", **describe(ctx, v)))
            for v in views
        )
        return [ctx.reply(ctx.say("bookings.which_to_cancel"), choices)]
    return _confirm(ctx, chosen or views[0])


def _confirm(ctx: Context, view: BookingView) -> list[Outbound]:
    ctx.state.start(CancelTask(booking_no=view.booking_no))
    choices = (
        Choice(choice_keys.CONFIRM_YES, ctx.say("bookings.confirm_yes")),
        Choice(choice_keys.CONFIRM_NO, ctx.say("bookings.confirm_no")),
    )
    return [ctx.reply(ctx.say("bookings.confirm_cancel", **describe(ctx, view)), choices)]


async def continue_cancel(ctx: Context, turn: Turn) -> list[Outbound] | None:
    """The next step of a cancellation, or None when the message is about something else."""
    booking_no = ctx.state.cancel.booking_no
    pressed = choice_keys.read(turn.choice or "")
    if pressed.kind == "cancel":
        views = {v.booking_no: v for v in await upcoming(ctx)}
        view = views.get(pressed.value)
        if view is None:
            ctx.state.finish()
            return [ctx.reply(ctx.say("refusal.not_found"))]
        return _confirm(ctx, view)
    yes = turn.choice == choice_keys.CONFIRM_YES or (
        turn.choice is None and turn.intent == "affirm"
    )
    no = turn.choice == choice_keys.CONFIRM_NO or (turn.choice is None and turn.intent == "deny")
    if booking_no and yes:
        ctx.state.finish()
        try:
            await cancel(ctx.uows, ctx.clock, booking_no, account=ctx.account)
        except BookingError as error:
            return [ctx.refusal(error)]
        return [ctx.reply(ctx.say("bookings.cancelled", booking_no=booking_no))]
    if no:
        ctx.state.finish()
        return [ctx.reply(ctx.say("bookings.kept"))]
    return None


async def rebook_from_notice(
    ctx: Context, booking_no: str, session_id: str, receipt_text: waitlist.Receipt
) -> list[Outbound]:
    """A session pressed under a stop notice (停诊): the stopped booking moves there."""
    if not session_id.isdigit():
        return [ctx.reply(ctx.say("choice_gone"))]
    try:
        receipt = await transfer_stopped(
            ctx.uows, ctx.clock, booking_no, int(session_id), account=ctx.account,
            address=ctx.address,
        )  # fmt: skip
    except BookingError as error:
        return [ctx.refusal(error)]
    return [ctx.reply(await receipt_text(ctx, receipt))]


async def confirm_from_notice(ctx: Context, booking_no: str) -> list[Outbound]:
    """我会按时到 pressed under a reminder."""
    view = next((v for v in await upcoming(ctx) if v.booking_no == booking_no), None)
    if view is None:
        return [ctx.reply(ctx.say("choice_gone"))]
    try:
        await confirm_coming(ctx.uows, ctx.clock, booking_no, account=ctx.account)
    except BookingError as error:
        return [ctx.refusal(error)]
    return [ctx.reply(ctx.say("bookings.coming", **describe(ctx, view)))]


async def cancel_from_notice(ctx: Context, booking_no: str) -> list[Outbound]:
    """退号 pressed under a reminder: the same confirmation, if the booking is still this
    account's and still ahead."""
    view = next((v for v in await upcoming(ctx) if v.booking_no == booking_no), None)
    if view is None:
        return [ctx.reply(ctx.say("choice_gone"))]
    return _confirm(ctx, view)
