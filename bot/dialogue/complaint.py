"""投诉建议 in conversation: what it is about, what happened, then a tracking number; and the
status of a complaint by its number."""

from __future__ import annotations

import logging

from booking.complaints.filing import complaint_status, file_complaint
from booking.complaints.model import ComplaintCategory
from booking.errors import BookingError
from bot.dialogue import choice_keys
from bot.dialogue.context import Context, Turn
from bot.dialogue.tasks import ComplaintStatusTask, ComplaintTask
from channels.messages import Choice, Outbound

log = logging.getLogger(__name__)


def start_complaint(ctx: Context, turn: Turn) -> list[Outbound]:
    ctx.state.start(ComplaintTask(department=turn.value("department") or None))
    choices = tuple(
        Choice(choice_keys.category(c.value), ctx.say(f"complaint.category.{c.value}"))
        for c in ComplaintCategory
    )
    return [ctx.reply(ctx.say("complaint.ask_category"), choices)]


async def continue_complaint(ctx: Context, turn: Turn) -> list[Outbound] | None:
    task = ctx.state.complaint
    pressed = choice_keys.read(turn.choice or "")
    if pressed.kind == "category":
        task.category = pressed.value
        return [ctx.reply(ctx.say("complaint.ask_text"))]
    if task.category is None:
        if turn.choice is None and turn.text:  # told straight away: "other", and the text
            task.category = ComplaintCategory.OTHER.value
        else:
            return None
    if turn.choice is not None or not turn.text:
        return None
    department = turn.value("department") or task.department
    ctx.state.finish()
    try:
        complaint = await file_complaint(
            ctx.uows,
            ctx.protector,
            ctx.clock,
            channel=ctx.channel,
            user_id=ctx.user_id,
            category=ComplaintCategory(task.category),
            text=turn.text,
            department_code=department,
            language=ctx.language,  # replies and the result are told in it
            accept_within=ctx.complaint_within,
            caps=ctx.complaint_caps,
            network_address=ctx.network_address,
        )
    except BookingError as error:
        return [ctx.refusal(error)]
    if ctx.complaint_filed is not None:
        try:
            await ctx.complaint_filed(complaint.complaint_no)
        except Exception:  # kept: staff get it on the next round; the patient has the number
            log.exception("could not pass complaint %s to staff now", complaint.complaint_no)
    return [ctx.reply(ctx.say("complaint.filed", complaint_no=complaint.complaint_no))]


async def status(ctx: Context, turn: Turn) -> list[Outbound]:
    number = turn.value("complaint_no")
    if number is None:
        ctx.state.start(ComplaintStatusTask())
        return [ctx.reply(ctx.say("complaint.ask_number"))]
    ctx.state.finish()
    try:
        complaint = await complaint_status(ctx.uows, number)
    except BookingError as error:
        return [ctx.refusal(error)]
    created = ctx.local(complaint.created_at).strftime("%Y-%m-%d %H:%M")
    text = ctx.say(
        "complaint.status",
        complaint_no=complaint.complaint_no,
        status=ctx.say(f"complaint.state.{complaint.status.value}"),
        created=created,
    )
    return [ctx.reply(text)]
