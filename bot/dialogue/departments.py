"""Departments as patients are offered them: bookable ones, of the hospital they named, each
saying its hospital when a list spans several (心血管内科（市一院）). Booking, who is on duty
and where to go all list them so."""

from __future__ import annotations

from collections.abc import Iterable

from booking.catalogue.model import Catalogue, Department, Hospital
from bot.dialogue import choice_keys
from bot.dialogue.context import Context
from channels.messages import Choice


def department_choices(
    ctx: Context,
    catalogue: Catalogue,
    departments: Iterable[Department] | None = None,
    *,
    hospital: str | None = None,
    stop: bool = False,
) -> tuple[Choice, ...]:
    """`departments` (all bookable ones by default) of `hospital` if one was named; `stop`
    adds 不挂了, inside a booking."""
    listed = [
        d
        for d in (catalogue.departments if departments is None else departments)
        if d.bookable and hospital in (None, d.hospital_code)
    ]
    several = len({d.hospital_code for d in listed}) > 1
    choices = tuple(
        Choice(choice_keys.department(d.code), department_label(ctx, catalogue, d, several))
        for d in listed
    )
    return (*choices, Choice(choice_keys.NAV_STOP, ctx.say("nav.stop"))) if stop else choices


def department_label(
    ctx: Context, catalogue: Catalogue, department: Department, with_hospital: bool
) -> str:
    name = department_name(ctx, department)
    if not with_hospital:
        return name
    at = hospital_short(ctx, hospital_of(catalogue, department))
    return ctx.say("department_at", department=name, hospital=at)


def department_name(ctx: Context, department: Department) -> str:
    return department.name_en if ctx.language == "en" else department.name_zh


def hospital_short(ctx: Context, hospital: Hospital) -> str:
    """The shortest name patients use for a hospital (市一院, TCM Hospital), for labels."""
    english = ctx.language == "en"
    names = [
        n
        for n in hospital.aliases
        if n.isascii() == english and (english or len(n) >= 3)  # 一院 alone says little
    ]
    full = hospital.name_en if english else hospital.name_zh
    return min(names, key=len) if names else full


def hospital_of(catalogue: Catalogue, department: Department) -> Hospital:
    return next(h for h in catalogue.hospitals if h.code == department.hospital_code)
