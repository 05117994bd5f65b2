"""Real-name registration (实名制): a patient is one resident ID number, verified once, and may
be managed by several chat accounts (family members, 就诊人).

Who vouches for the mobile number decides the way in. Staff who saw the ID card (`in_person`),
the HIS, the call-centre desk and an SMS sent from that number (`phone_proven`) call
`register_patient`. A chat account (web chat, Telegram, SMS from another number) calls
`register_from_chat`, which stores nothing while the number is unproven (NeedsPhoneCode), then
`send_phone_code` and `register_with_code` with the code typed back.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.catalogue.schedule import local_now
from booking.clock import DEFAULT_TZ, Clock
from booking.errors import (
    AccountFull,
    InvalidName,
    NeedsCode,
    NeedsPhoneCode,
    NotFound,
    RegisteredPhoneDiffers,
)
from booking.patients import sms_codes
from booking.patients.identity import (
    ResidentId,
    clean_name,
    mask_phone,
    parse_id_number,
    parse_mobile,
)
from booking.patients.model import Patient
from booking.patients.ports import NewPatient, PatientWork
from booking.patients.sms_codes import CodeToSend
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory

MAX_PATIENTS_PER_ACCOUNT = 5


@dataclass(frozen=True)
class _Person:
    """Name, ID number and mobile as registration reads them, with their keyed hashes."""

    name: str
    resident: ResidentId
    mobile: str
    id_hash: str
    phone_hash: str


async def register_patient(
    uows: UnitOfWorkFactory[PatientWork],
    protector: Protector,
    clock: Clock,
    *,
    name: str,
    id_number: str,
    phone: str,
    account: tuple[str, str] | None = None,
    max_patients_per_account: int = MAX_PATIENTS_PER_ACCOUNT,
    in_person: bool = False,
    phone_proven: bool = False,
) -> Patient:
    """Register the patient with this ID number, or find them again, and link to the account.
    The caller vouches for the phone of a new ID number (see the module's docstring).

    An ID number already registered needs the same name, and it is not enough to add the
    patient to another account: whoever knows someone's ID number would then see their
    bookings. That takes the registered phone, shown either by writing from it
    (`phone_proven`: an SMS whose sender is `phone`) or by typing back a code sent to it
    (NeedsCode, then `confirm_link`), or staff who saw the ID card (`in_person`), who may
    also change the phone.
    """
    person = _read(protector, clock, name, id_number, phone)
    async with uows() as uow:
        patient = await _register(
            uow, protector, clock, person, account, max_patients_per_account,
            in_person=in_person, phone_proven=phone_proven, chat=False,
        )  # fmt: skip
        await uow.commit()
    return patient


async def register_from_chat(
    uows: UnitOfWorkFactory[PatientWork],
    protector: Protector,
    clock: Clock,
    *,
    name: str,
    id_number: str,
    phone: str,
    account: tuple[str, str],
    phone_proven: bool = False,
    max_patients_per_account: int = MAX_PATIENTS_PER_ACCOUNT,
) -> Patient:
    """A chat account registers (or adds) a patient. Unless the account holds the patient
    already, the phone must be proven first, by writing from it (`phone_proven`) or else
    NeedsPhoneCode, and nothing is stored, whether the ID number is registered or not. A
    proven phone then adds a new ID number, or one registered with that very phone (another
    channel of the patient, a parent registering on the phone the child was registered with);
    an ID number registered with another phone raises RegisteredPhoneDiffers, and the
    registered number must be proven in its turn. A full account is refused before any code
    goes."""
    person = _read(protector, clock, name, id_number, phone)
    async with uows() as uow:
        patient = await _register(
            uow, protector, clock, person, account, max_patients_per_account,
            in_person=False, phone_proven=phone_proven, chat=True,
        )  # fmt: skip
        await uow.commit()
    return patient


async def send_phone_code(
    uows: UnitOfWorkFactory[PatientWork],
    protector: Protector,
    clock: Clock,
    *,
    account: tuple[str, str],
    phone: str,
) -> CodeToSend:
    """A code to the mobile number being registered (after NeedsPhoneCode), within the limits
    of booking.patients.sms_codes; the caller sends it."""
    now = clock.now()
    mobile = parse_mobile(phone)
    async with uows() as uow:
        acct = await uow.patients.account(*account, now)
        code, pending = await sms_codes.issue(
            uow, protector, now, account_id=acct.id,
            phone_hash=protector.lookup_hash("phone", mobile),
        )  # fmt: skip
        await uow.commit()
    return CodeToSend(code, mobile, mask_phone(mobile), pending.expires_at)


async def register_with_code(
    uows: UnitOfWorkFactory[PatientWork],
    protector: Protector,
    clock: Clock,
    *,
    name: str,
    id_number: str,
    phone: str,
    account: tuple[str, str],
    code: str,
    max_patients_per_account: int = MAX_PATIENTS_PER_ACCOUNT,
) -> Patient:
    """`register_from_chat` with the phone proven by the code sent to it: the code is spent
    and the patient stored in one transaction. Raises WrongCode (a try counted), CodeExpired,
    or RegisteredPhoneDiffers when the ID number is registered with another phone."""
    person = _read(protector, clock, name, id_number, phone)
    now = clock.now()
    async with uows() as uow:
        acct = await uow.patients.find_account(*account)
        if acct is None:
            raise NotFound("no code is waiting for this account", what="code")
        await sms_codes.typed_back(
            uow, protector, now, account_id=acct.id, code=code, phone_hash=person.phone_hash
        )
        patient = await _register(
            uow, protector, clock, person, account, max_patients_per_account,
            in_person=False, phone_proven=True, chat=True,
        )  # fmt: skip
        await uow.commit()
    return patient


def _read(protector: Protector, clock: Clock, name: str, id_number: str, phone: str) -> _Person:
    resident = parse_id_number(id_number, today=local_now(clock.now(), DEFAULT_TZ).date())
    mobile = parse_mobile(phone)
    return _Person(
        clean_name(name),
        resident,
        mobile,
        protector.lookup_hash("id", resident.number),
        protector.lookup_hash("phone", mobile),
    )


async def _register(
    uow: PatientWork,
    protector: Protector,
    clock: Clock,
    person: _Person,
    account: tuple[str, str] | None,
    limit: int,
    *,
    in_person: bool,
    phone_proven: bool,
    chat: bool,
) -> Patient:
    """`chat`: the phone must be proven for a new patient or a new phone (else NeedsPhoneCode).

    A chat account that does not hold the patient yet gets the same answer for a registered
    and an unregistered ID number until it has proven a phone: NeedsPhoneCode for the number
    it typed. Only then is the record compared, phone first, so that a wrong name is told
    only to whoever proved the registered phone."""
    now = clock.now()
    patient = await uow.patients.by_id_hash(person.id_hash)
    needs_proof = chat and not (phone_proven or in_person)
    linked = account is not None and await _is_linked(uow, account, patient)
    if needs_proof and not linked:
        await _room_for_one_more(uow, account, None, limit)
        asked = NeedsPhoneCode(
            "the mobile number is proven by a code sent to it",
            phone_masked=mask_phone(person.mobile),
        )
        asked.to_registered_phone = patient is not None and patient.phone_hash == person.phone_hash
        raise asked
    if patient is None:
        patient = await uow.patients.add(
            NewPatient(
                name=person.name,
                id_hash=person.id_hash,
                id_cipher=protector.encrypt(person.resident.number),
                id_masked=person.resident.masked,
                birth_date=person.resident.birth_date,
                sex=person.resident.sex.value,
                phone_hash=person.phone_hash,
                phone_cipher=protector.encrypt(person.mobile),
                phone_masked=mask_phone(person.mobile),
            ),
            now,
        )
    else:
        holds_phone = phone_proven and patient.phone_hash == person.phone_hash
        if not (in_person or linked or holds_phone):
            if chat:
                raise RegisteredPhoneDiffers("this ID number is registered with another phone")
            await _room_for_one_more(uow, account, patient, limit)
            raise NeedsCode(
                "a code sent to the registered phone is needed to add this patient",
                patient_id=patient.id,
                phone_masked=patient.phone_masked,
            )
        if patient.name != person.name:
            raise InvalidName("the name does not match the one registered for this ID number")
        if (in_person or linked) and patient.phone_hash != person.phone_hash:
            if needs_proof:  # a patient's new phone is proven as a first one is
                raise NeedsPhoneCode(
                    "the new mobile number is proven by a code sent to it",
                    phone_masked=mask_phone(person.mobile),
                )
            await uow.patients.update_phone(
                patient.id,
                person.phone_hash,
                protector.encrypt(person.mobile),
                mask_phone(person.mobile),
            )
            patient = await uow.patients.get(patient.id) or patient
    if account is not None:
        await _link(uow, account, patient, limit, clock)
    return patient


async def _is_linked(uow: PatientWork, account: tuple[str, str], patient: Patient | None) -> bool:
    found = await uow.patients.find_account(*account)
    if found is None:
        return False
    # Asked for an unregistered ID number too (no patient has id 0), so that a registered one
    # costs no extra read a stranger could time.
    linked = await uow.patients.is_linked(found.id, patient.id if patient is not None else 0)
    return linked and patient is not None


async def _room_for_one_more(
    uow: PatientWork, account: tuple[str, str] | None, patient: Patient | None, limit: int
) -> None:
    """A full account is told so before a code is sent for a patient it could not hold."""
    found = await uow.patients.find_account(*account) if account is not None else None
    if found is None or (
        patient is not None and await uow.patients.is_linked(found.id, patient.id)
    ):
        return
    if len(await uow.patients.of_account(found.id)) >= limit:
        raise AccountFull(f"an account can hold at most {limit} patients", limit=limit)


async def _link(
    uow: PatientWork, account: tuple[str, str], patient: Patient, limit: int, clock: Clock
) -> None:
    acct = await uow.patients.account(account[0], account[1], clock.now())
    if await uow.patients.is_linked(acct.id, patient.id):
        return
    if len(await uow.patients.of_account(acct.id)) >= limit:
        raise AccountFull(f"an account can hold at most {limit} patients", limit=limit)
    await uow.patients.link(acct.id, patient.id, clock.now())


async def patient_by_id_number(
    uows: UnitOfWorkFactory[PatientWork], protector: Protector, id_number: str
) -> Patient:
    resident = parse_id_number(id_number)
    async with uows(readonly=True) as uow:
        patient = await uow.patients.by_id_hash(protector.lookup_hash("id", resident.number))
    if patient is None:
        raise NotFound("no patient is registered with this ID number", what="patient")
    return patient


async def patients_of_account(
    uows: UnitOfWorkFactory[PatientWork], channel: str, user_id: str
) -> list[Patient]:
    async with uows(readonly=True) as uow:
        account = await uow.patients.find_account(channel, user_id)
        return [] if account is None else await uow.patients.of_account(account.id)
