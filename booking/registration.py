"""Real-name registration (实名制): a patient is one resident ID number, verified once, and may
be managed by several chat accounts (family members, 就诊人)."""

from __future__ import annotations

from booking.clock import Clock
from booking.errors import AccountFull, InvalidName, NeedsCode, NotFound
from booking.identity import clean_name, mask_phone, parse_id_number, parse_mobile
from booking.patients import Patient
from booking.ports import NewPatient, UnitOfWork, UnitOfWorkFactory
from booking.protect import Protector
from booking.schedule import local_now

DEFAULT_TZ = "Asia/Shanghai"


async def register_patient(
    uows: UnitOfWorkFactory,
    protector: Protector,
    clock: Clock,
    *,
    name: str,
    id_number: str,
    phone: str,
    account: tuple[str, str] | None = None,
    max_patients_per_account: int = 5,
    in_person: bool = False,
    phone_proven: bool = False,
) -> Patient:
    """Register the patient with this ID number, or find them again, and link to the account.

    An ID number already registered needs the same name, and it is not enough to add the
    patient to another account: whoever knows someone's ID number would then see their
    bookings. That takes the registered phone, shown either by writing from it
    (`phone_proven`: an SMS whose sender is `phone`) or by typing back a code sent to it
    (NeedsCode, then `confirm_link`), or staff who saw the ID card (`in_person`), who may
    also change the phone.
    """
    now = clock.now()
    clean = clean_name(name)
    resident = parse_id_number(id_number, today=local_now(now, DEFAULT_TZ).date())
    mobile = parse_mobile(phone)
    id_hash = protector.lookup_hash("id", resident.number)
    phone_hash = protector.lookup_hash("phone", mobile)
    async with uows() as uow:
        patient = await uow.patients.by_id_hash(id_hash)
        if patient is None:
            patient = await uow.patients.add(
                NewPatient(
                    name=clean,
                    id_hash=id_hash,
                    id_cipher=protector.encrypt(resident.number),
                    id_masked=resident.masked,
                    birth_date=resident.birth_date,
                    sex=resident.sex.value,
                    phone_hash=phone_hash,
                    phone_cipher=protector.encrypt(mobile),
                    phone_masked=mask_phone(mobile),
                ),
                now,
            )
        elif patient.name != clean:
            raise InvalidName("the name does not match the one registered for this ID number")
        else:
            linked = account is not None and await _is_linked(uow, account, patient)
            holds_phone = phone_proven and patient.phone_hash == phone_hash
            if not (in_person or linked or holds_phone):
                raise NeedsCode(
                    "a code sent to the registered phone is needed to add this patient",
                    patient_id=patient.id,
                    phone_masked=patient.phone_masked,
                )
            if in_person or linked:
                await uow.patients.update_phone(
                    patient.id, phone_hash, protector.encrypt(mobile), mask_phone(mobile)
                )
                patient = await uow.patients.get(patient.id) or patient
        if account is not None:
            await _link(uow, account, patient, max_patients_per_account, clock)
        await uow.commit()
    return patient


async def _is_linked(uow: UnitOfWork, account: tuple[str, str], patient: Patient) -> bool:
    found = await uow.patients.find_account(*account)
    return found is not None and await uow.patients.is_linked(found.id, patient.id)


async def _link(
    uow: UnitOfWork, account: tuple[str, str], patient: Patient, limit: int, clock: Clock
) -> None:
    acct = await uow.patients.account(account[0], account[1], clock.now())
    if await uow.patients.is_linked(acct.id, patient.id):
        return
    if len(await uow.patients.of_account(acct.id)) >= limit:
        raise AccountFull(f"an account can hold at most {limit} patients", limit=limit)
    await uow.patients.link(acct.id, patient.id, clock.now())


async def patient_by_id_number(
    uows: UnitOfWorkFactory, protector: Protector, id_number: str
) -> Patient:
    resident = parse_id_number(id_number)
    async with uows(readonly=True) as uow:
        patient = await uow.patients.by_id_hash(protector.lookup_hash("id", resident.number))
    if patient is None:
        raise NotFound("no patient is registered with this ID number", what="patient")
    return patient


async def patients_of_account(uows: UnitOfWorkFactory, channel: str, user_id: str) -> list[Patient]:
    async with uows(readonly=True) as uow:
        account = await uow.patients.find_account(channel, user_id)
        return [] if account is None else await uow.patients.of_account(account.id)
