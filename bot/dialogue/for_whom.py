"""Whom a booking is for (就诊人): the patient named, a relative said ("给我儿子挂…", asked
about even with one patient on the account), or someone registered on the way; and a
department that sees only some ages (儿科) says so before the booking is confirmed."""

from __future__ import annotations

from booking.catalogue.search import SessionOffer
from booking.patients.identity import age_on
from booking.patients.model import Patient
from booking.patients.registration import patients_of_account
from bot.dialogue import choice_keys
from bot.dialogue.context import Context
from bot.dialogue.register import start_registration
from channels.messages import Choice, Outbound


async def ask_patient(ctx: Context) -> list[Outbound] | None:
    """Whom the booking is for. Said by name, that patient; a name not on the account is
    registered; a relation said (给我儿子挂…) is asked about, even with one patient on the
    account, who is then most likely the writer. None: the patient is chosen (in the slot)."""
    task = ctx.state.book
    patients = await patients_of_account(ctx.uows, *ctx.account)
    named = task.for_name
    if named is not None:
        same = [p for p in patients if p.name.casefold() == named.casefold()]
        if len(same) == 1:
            task.patient = same[0].id
            return None
        if not same:
            task.registering = True
            missing = ctx.reply(ctx.say("book.not_on_account", name=named))
            return [missing, *start_registration(ctx, name=named)]
    if not patients:
        task.registering = True
        return start_registration(ctx)
    if len(patients) == 1 and not task.for_relation:
        task.patient = patients[0].id
        return None
    choices = (
        *patient_choices(patients),
        Choice(choice_keys.NEW_PATIENT, ctx.say("book.new_patient")),
    )
    relation = task.for_relation
    text = (
        ctx.say("book.ask_patient_for", relation=ctx.say(f"relation.{relation}"))
        if relation
        else ctx.say("book.ask_patient")
    )
    return [ctx.reply(text, choices + ctx.navigation())]


def wrong_age(
    ctx: Context, offer: SessionOffer, patient: Patient, patients: list[Patient]
) -> Outbound:
    """儿科 for a grown-up: said before confirming, with the account's patients who fit."""
    ctx.state.book.patient = None
    department, day = offer.department, offer.session.visit_date
    ages = {"min_age": department.min_age, "max_age": department.max_age}
    text = ctx.say("refusal.age_range_of", ages=ctx.ages(ages), age=age_on(patient.birth_date, day))
    fitting = [p for p in patients if department.admits(age_on(p.birth_date, day))]
    choices = (
        *patient_choices(fitting),
        Choice(choice_keys.NEW_PATIENT, ctx.say("book.new_patient")),
    )
    return ctx.reply(text, choices + ctx.navigation())


def patient_choices(patients: list[Patient]) -> tuple[Choice, ...]:
    """One choice a patient; a name two patients of the account share (a father and son both
    陈林) says whose ID number it is, masked."""
    names = [p.name.casefold() for p in patients]
    return tuple(
        Choice(
            choice_keys.patient(p.id),
            f"{p.name} {p.id_masked}" if names.count(p.name.casefold()) > 1 else p.name,
        )
        for p in patients
    )
