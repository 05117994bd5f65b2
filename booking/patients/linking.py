"""Adding a patient another account registered (就诊人绑定): a six-digit code goes by SMS to
the patient's registered phone, and the account that asked types it back
(booking.patients.sms_codes:
five minutes, five tries, limits per phone and per account, so that guessing is hopeless and
the phone is not flooded)."""

from __future__ import annotations

from booking.clock import Clock
from booking.errors import AccountFull, NotFound
from booking.patients import sms_codes
from booking.patients.model import Patient
from booking.patients.ports import PatientWork
from booking.patients.sms_codes import CodeToSend
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory


async def ask_to_link(
    uows: UnitOfWorkFactory[PatientWork],
    protector: Protector,
    clock: Clock,
    *,
    account: tuple[str, str],
    patient_id: int,
) -> CodeToSend:
    """A new code for this account to add this patient; any earlier one stops working."""
    now = clock.now()
    async with uows() as uow:
        patient = await uow.patients.get(patient_id)
        cipher = await uow.patients.phone_cipher(patient_id)
        if patient is None or not cipher:
            raise NotFound("no such patient", what="patient")
        acct = await uow.patients.account(*account, now)
        code, pending = await sms_codes.issue(
            uow, protector, now, account_id=acct.id, phone_hash=patient.phone_hash,
            patient_id=patient_id,
        )  # fmt: skip
        await uow.commit()
    return CodeToSend(
        code, protector.decrypt(cipher), patient.phone_masked, pending.expires_at, patient.name
    )


async def confirm_link(
    uows: UnitOfWorkFactory[PatientWork],
    protector: Protector,
    clock: Clock,
    *,
    account: tuple[str, str],
    code: str,
    max_patients_per_account: int = 5,
) -> Patient:
    """The patient now managed by this account, if `code` is the one sent."""
    now = clock.now()
    async with uows() as uow:
        acct = await uow.patients.find_account(*account)
        if acct is None:
            raise NotFound("no code is waiting for this account", what="code")
        pending = await sms_codes.typed_back(uow, protector, now, account_id=acct.id, code=code)
        assert pending.patient_id is not None  # a code to add a patient names them
        patient = await uow.patients.get(pending.patient_id)
        assert patient is not None  # patients are never deleted
        if not await uow.patients.is_linked(acct.id, patient.id):
            if len(await uow.patients.of_account(acct.id)) >= max_patients_per_account:
                raise AccountFull(
                    f"an account can hold at most {max_patients_per_account} patients",
                    limit=max_patients_per_account,
                )
            await uow.patients.link(acct.id, patient.id, now)
        await uow.commit()
    return patient
