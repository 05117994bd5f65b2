"""How a session, a doctor and a booking are said to a patient: labels, the confirmation's
details, and the receipt with the GHDH line that books the same doctor again."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.appointments.book import BookingReceipt
from booking.catalogue.model import Catalogue, Doctor, yuan
from booking.catalogue.schedule import local_now
from booking.catalogue.search import SessionOffer
from booking.patients.registration import patients_of_account
from bot.dialogue import choice_keys
from bot.dialogue.context import Context
from bot.dialogue.departments import department_name
from bot.texts import doctor_named
from channels.messages import Choice
from nlu.quick_command import write_quick_command


def describe_offer(ctx: Context, offer: SessionOffer) -> dict[str, object]:
    english = ctx.language == "en"
    session = offer.session
    return {
        "hospital": offer.hospital.name_en if english else offer.hospital.name_zh,
        "department": offer.department.name_en if english else offer.department.name_zh,
        "doctor": doctor_name(ctx, offer.doctor),
        "date": session.visit_date.isoformat(),
        "weekday": ctx.say(f"weekday.{session.visit_date.weekday()}"),
        "part": ctx.say(f"part.{session.part.value}"),
        "fee": yuan(session.registration_fee_fen + session.consultation_fee_fen),
    }


def session_key(offer: SessionOffer) -> str:
    return choice_keys.session(offer.session.id, offer.doctor.work_no)


def session_label(ctx: Context, offer: SessionOffer) -> str:
    described = describe_offer(ctx, offer)
    return ctx.say(
        "book.session",
        date=described["date"],
        weekday=described["weekday"],
        part=described["part"],
        free=offer.free,
        fee=described["fee"],
    )


def find_doctor(catalogue: Catalogue, work_no: str) -> Doctor:
    return next(d for d in catalogue.doctors if d.work_no == work_no)


def doctor_name(ctx: Context, doctor: Doctor) -> str:
    """张伟（工号00868）: wherever a doctor is named, with the number GHDH takes."""
    return doctor_named(ctx.texts, ctx.language, doctor.name, doctor.name_en, doctor.work_no)


def doctor_choices(ctx: Context, catalogue: Catalogue, doctors: list[Doctor]) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            choice_keys.doctor(d.work_no),
            ctx.say(
                "doctor_label",
                name=doctor_name(ctx, d),
                title=d.title,
                department=department_name(
                    ctx, next(x for x in catalogue.departments if x.code == d.department_code)
                ),
            ),
        )
        for d in doctors
    )


async def receipt_text(ctx: Context, receipt: BookingReceipt) -> str:
    """Booked: the number, when to come, the fees and what to bring; and the GHDH line that
    books the same doctor a week later, which is how patients learn the quick command."""
    appointment, place = receipt.appointment, receipt.place
    department = receipt.department.name_en if ctx.language == "en" else receipt.department.name_zh
    catalogue = await ctx.catalogue()
    done = ctx.say(
        "book.done",
        booking_no=appointment.booking_no,
        date=appointment.visit_date.isoformat(),
        part=ctx.say(f"part.{receipt.session.part.value}"),
        department=department,
        doctor=doctor_name(ctx, find_doctor(catalogue, receipt.session.doctor_work_no)),
        queue_no=place.queue_no,
        start=local_now(place.starts_at, receipt.hospital.timezone).strftime("%H:%M"),
        end=local_now(place.ends_at, receipt.hospital.timezone).strftime("%H:%M"),
        fee=yuan(appointment.registration_fee_fen + appointment.consultation_fee_fen),
    )
    command = await _same_time_next_week(ctx, receipt)
    # On a line of its own: an SMS is cut at line breaks, so the command arrives whole.
    return done if command is None else done + "\n" + ctx.say("book.again", command=command)


async def _same_time_next_week(ctx: Context, receipt: BookingReceipt) -> str | None:
    """GHDH<work no.>,<MMDDhhmm>,<patient>: from the start of this session a week later."""
    patients = await patients_of_account(ctx.uows, *ctx.account)
    patient = next((p for p in patients if p.id == receipt.appointment.patient_id), None)
    if patient is None:
        return None
    starts = local_now(receipt.session.starts_at, receipt.hospital.timezone)
    later = datetime.combine(receipt.session.visit_date + timedelta(days=7), starts.time())
    return write_quick_command(receipt.session.doctor_work_no, later, patient.name)
