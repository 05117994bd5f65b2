"""Patients in the back office (B3): find them, see their bookings, correct their name or
phone, remove them.

Removing a patient anonymises the record rather than deleting it: the bookings stay, for the
statistics and the refunds list the hospital must keep, but nothing in them says who the patient
was any more (name, ID number, phone and birth day are forgotten; the birth year and sex stay
for the age and sex breakdowns). Chat accounts no longer manage the patient. The blacklist is
keyed by the ID number's hash, which stays in the blacklist: removing a record lifts no ban,
and the same person may register again later as a new patient.
"""

from __future__ import annotations

from datetime import datetime

from booking.appointments.book import where_held
from booking.appointments.model import IN_LINE, AppointmentStatus, BookingView, WaitStatus
from booking.appointments.ports import AppointmentWork, BookingFilter
from booking.appointments.waitlist_offers import pass_on_place
from booking.catalogue.schedule import local_now
from booking.clock import Clock
from booking.errors import BookingError, NotFound, WrongStatus
from booking.patients.identity import clean_name, mask_phone, parse_id_number, parse_mobile
from booking.patients.model import Patient
from booking.patients.ports import Anonymised, PatientRecord
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

ZONE = "Asia/Shanghai"  # patients belong to no one hospital: the demo hospitals' zone
REMOVED_NAME = "已删除患者"
REMOVED_ID = "已删除"


class HasFutureBookings(BookingError):
    """A patient with bookings still to come cannot be removed: cancel those first (the
    patient is told of each), so that nobody turns up for a booking that no longer says
    whose it is."""

    reason = "has_future_bookings"


async def find_patients(
    uows: UnitOfWorkFactory[AppointmentWork],
    protector: Protector,
    *,
    id_number: str | None = None,
    phone: str | None = None,
    name: str | None = None,
) -> list[Patient]:
    """By the full ID number, the phone or the exact name (raises InvalidIdNumber,
    InvalidPhone for numbers that cannot be)."""
    id_hash = protector.lookup_hash("id", parse_id_number(id_number).number) if id_number else None
    phone_hash = protector.lookup_hash("phone", parse_mobile(phone)) if phone else None
    async with uows(readonly=True) as uow:
        return await uow.patient_records.find(
            id_hash=id_hash, phone_hash=phone_hash, name=name.strip() if name else None
        )


async def patient_record(
    uows: UnitOfWorkFactory[AppointmentWork], patient_id: int
) -> tuple[PatientRecord, list[BookingView]]:
    async with uows(readonly=True) as uow:
        record = await uow.patient_records.record(patient_id)
        if record is None:
            raise NotFound("no such patient", what="patient")
        views = await uow.appointments.views(BookingFilter(patient_id_hash=record.patient.id_hash))
    return record, views


async def _current(uow: AppointmentWork, patient_id: int) -> PatientRecord:
    patient = await uow.patients.get(patient_id, lock=True)  # queue with their bookings
    record = await uow.patient_records.record(patient_id)
    if patient is None or record is None:
        raise NotFound("no such patient", what="patient")
    if record.removed_at is not None:
        raise WrongStatus("this patient was removed", status="removed")
    return record


async def edit_patient(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    protector: Protector,
    patient_id: int,
    *,
    name: str,
    phone: str | None,
    by: Actor,
) -> list[str]:
    """Correct the name (as on the ID card) and the phone (None: kept); the fields that
    changed, which is all the audit log says (not the values)."""
    now = clock.now()
    clean = clean_name(name)
    mobile = parse_mobile(phone) if phone else None
    phone_hash = protector.lookup_hash("phone", mobile) if mobile else None
    async with uows() as uow:
        patient = (await _current(uow, patient_id)).patient
        changed = []
        if clean != patient.name:
            await uow.patient_records.rename(patient_id, clean)
            changed.append("name")
        if mobile and phone_hash and phone_hash != patient.phone_hash:
            await uow.patients.update_phone(
                patient_id, phone_hash, protector.encrypt(mobile), mask_phone(mobile)
            )
            changed.append("phone")
        if changed:
            target = f"patient:{patient_id}"
            await uow.audit.add(by.did(now, audit.PATIENT_EDIT, target, after={"changed": changed}))
            await uow.commit()
    return changed


def future_bookings(views: list[BookingView], now: datetime) -> list[BookingView]:
    """Bookings still to be attended: booked, for today or later."""
    today = local_now(now, ZONE).date()
    return [v for v in views if v.status is AppointmentStatus.BOOKED and v.visit_date >= today]


async def remove_patient(
    uows: UnitOfWorkFactory[AppointmentWork], clock: Clock, patient_id: int, by: Actor
) -> int:
    """Anonymise the patient (see the module's docstring); the number of chat accounts that
    no longer manage them. Refused (HasFutureBookings) while bookings are still to come."""
    now = clock.now()
    async with uows() as uow:
        record = await _current(uow, patient_id)
        patient = record.patient
        views = await uow.appointments.views(BookingFilter(patient_id_hash=patient.id_hash))
        coming = future_bookings(views, now)
        if coming:
            raise HasFutureBookings(
                "cancel the patient's future bookings first", bookings=len(coming)
            )
        anonymised = Anonymised(
            name=REMOVED_NAME,
            id_hash=f"removed:{patient_id}",  # unique, and no ID number's hash
            id_masked=REMOVED_ID,
            birth_year=patient.birth_date.year,
        )
        left = await _leave_lines(uow, patient_id, now)
        unlinked = await uow.patient_records.anonymise(patient_id, anonymised, now)
        after = {
            "removed": True,
            "accounts_unlinked": unlinked,
            "bookings_kept": len(views),
            "waitlists_left": left,
        }
        await uow.audit.add(by.did(now, audit.PATIENT_REMOVE, f"patient:{patient_id}", after=after))
        await uow.commit()
    return unlinked


async def _leave_lines(uow: AppointmentWork, patient_id: int, now: datetime) -> int:
    """The patient leaves every waitlist: nobody can take an offer for a removed patient (no
    account manages them), so a place held for them would sit idle until the offer lapsed,
    and their account would still be told of it. A place held for them passes on."""
    left = 0
    for entry_id in await uow.patient_records.in_line(patient_id):
        entry = await uow.waitlist.get(entry_id, lock=True)
        if entry is None or not await uow.waitlist.finish(entry.id, WaitStatus.LEFT, now, IN_LINE):
            continue  # booked, lapsed or closed meanwhile
        left += 1
        if entry.status is WaitStatus.OFFERED and entry.queue_no is not None:
            session = await uow.sessions.get(entry.session_id)
            assert session is not None  # an entry always belongs to a session
            hospital, _ = await where_held(uow, session)
            await pass_on_place(uow, session, hospital, entry.queue_no, now, held=True)
    return left


def is_id_number_of(protector: Protector, patient: Patient, typed: str) -> bool:
    """Whether what the desk typed is this patient's full ID number: only then may the page
    show it in full (staff see what they already know, nothing is decrypted for them)."""
    try:
        number = parse_id_number(typed).number
    except BookingError:
        return False
    return protector.lookup_hash("id", number) == patient.id_hash
