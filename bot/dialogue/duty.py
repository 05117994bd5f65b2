"""Who is on duty (出诊查询) and who treats what. Every answer offers what it found as choices
that start a booking there. Which department for a complaint (导诊) is bot.dialogue.triage."""

from __future__ import annotations

from datetime import date, timedelta

from booking.catalogue.model import Catalogue, Doctor, Part
from booking.catalogue.search import SessionOffer, search_doctors, search_sessions
from bot.dialogue import choice_keys
from bot.dialogue.context import Context, Turn
from bot.dialogue.departments import department_choices
from bot.dialogue.offers import doctor_name, session_key, session_label
from channels.messages import Choice, Outbound

SHOWN = 6


async def duty(ctx: Context, turn: Turn) -> list[Outbound]:
    catalogue = await ctx.catalogue()
    doctor = turn.parse.first("doctor") if turn.parse else None
    if doctor is not None and not doctor.candidates:
        return await _doctor(ctx, catalogue, _find(catalogue, doctor.value))
    specialty = turn.value("specialty") or turn.value("symptom")
    if specialty is not None:
        return _specialty(ctx, catalogue, specialty)
    department = turn.value("department")
    if department is not None:
        return await _department(
            ctx, catalogue, department, turn.value("date"), turn.value("time_of_day")
        )
    departments = department_choices(ctx, catalogue, hospital=turn.value("hospital"))
    return [ctx.reply(ctx.say("duty.ask_department"), departments)]


async def _doctor(ctx: Context, catalogue: Catalogue, doctor: Doctor) -> list[Outbound]:
    offers = [
        o
        for o in await search_sessions(
            ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=doctor.work_no
        )
        if o.bookable and o.free
    ]
    department = next(d for d in catalogue.departments if d.code == doctor.department_code)
    values = {
        "doctor": doctor_name(ctx, doctor),
        "title": doctor.title,
        "department": department.name_en if ctx.language == "en" else department.name_zh,
        "specialties": "、".join(doctor.specialties) or "-",
    }
    if not offers:
        return [ctx.reply(ctx.say("duty.doctor_none", **values))]
    return [ctx.reply(ctx.say("duty.doctor", **values), _sessions(ctx, offers))]


def _specialty(ctx: Context, catalogue: Catalogue, specialty: str) -> list[Outbound]:
    doctors = search_doctors(catalogue, specialty=specialty)
    if not doctors:
        return [
            ctx.reply(
                ctx.say("duty.specialty_none", specialty=specialty),
                department_choices(ctx, catalogue),
            )
        ]
    choices = tuple(
        Choice(
            choice_keys.doctor(d.work_no),
            f"{doctor_name(ctx, d)} {d.title} · {'、'.join(d.specialties)}",
        )
        for d in doctors[:SHOWN]
    )
    return [ctx.reply(ctx.say("duty.specialty", specialty=specialty), choices)]


async def _department(
    ctx: Context, catalogue: Catalogue, code: str, day: str | None, part: str | None
) -> list[Outbound]:
    today = ctx.local(ctx.now()).date()
    when = date.fromisoformat(day) if day else today
    found = await search_sessions(
        ctx.uows,
        ctx.clock,
        catalogue=await ctx.catalogue(),
        department=code,
        date_from=when,
        date_to=when,
        part=Part(part) if part else None,
    )
    offers = [o for o in found if o.bookable and o.free]
    department = next(d for d in catalogue.departments if d.code == code)
    values = {
        "department": department.name_en if ctx.language == "en" else department.name_zh,
        "date": when.isoformat(),
    }
    if offers:
        return [
            ctx.reply(
                ctx.say("duty.department", **values), _sessions(ctx, offers, with_doctor=True)
            )
        ]
    later = await search_sessions(
        ctx.uows,
        ctx.clock,
        catalogue=await ctx.catalogue(),
        department=code,
        date_from=when + timedelta(1),
    )
    later = [o for o in later if o.bookable and o.free]
    return [
        ctx.reply(
            ctx.say("duty.department_none", **values), _sessions(ctx, later, with_doctor=True)
        )
    ]


def _sessions(
    ctx: Context, offers: list[SessionOffer], *, with_doctor: bool = False
) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            session_key(o),
            (f"{doctor_name(ctx, o.doctor)} " if with_doctor else "") + session_label(ctx, o),
        )
        for o in offers[:SHOWN]
    )


def _find(catalogue: Catalogue, work_no: str) -> Doctor:
    return next(d for d in catalogue.doctors if d.work_no == work_no)
