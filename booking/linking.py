"""Adding a patient another account registered (就诊人绑定): a six-digit code goes by SMS to
the patient's registered phone, and the account that asked types it back within five minutes,
in at most five tries. Per patient, whichever accounts ask, at most 3 codes an hour, 6 a day
and 10 wrong guesses a day: guessing a code is hopeless, and the phone is not flooded."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.clock import Clock
from booking.errors import AccountFull, CodeExpired, NotFound, TooManyCodes, WrongCode
from booking.patients import Patient, PendingLink
from booking.ports import UnitOfWorkFactory
from booking.protect import Protector

VALID_FOR = timedelta(minutes=5)
TRIES = 5
CODES_PER_HOUR = 3
CODES_PER_DAY = 6
WRONG_PER_DAY = 10


@dataclass(frozen=True)
class CodeToSend:
    code: str
    phone: str  # the registered phone, decrypted only to send the code there
    patient_name: str
    expires_at: datetime


async def ask_to_link(
    uows: UnitOfWorkFactory,
    protector: Protector,
    clock: Clock,
    *,
    account: tuple[str, str],
    patient_id: int,
) -> CodeToSend:
    """A new code for this account to add this patient; any earlier one stops working."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = clock.now()
    async with uows() as uow:
        patient = await uow.patients.get(patient_id)
        cipher = await uow.patients.phone_cipher(patient_id)
        if patient is None or cipher is None:
            raise NotFound("no such patient", what="patient")
        acct = await uow.patients.account(*account, now)
        _within_limits(
            await uow.patients.link_codes_since(patient_id, now - timedelta(days=1)), now
        )
        pending = PendingLink(
            acct.id, patient_id, _hash(protector, acct.id, code), now + VALID_FOR, 0
        )
        await uow.patients.put_link_code(pending, now)
        await uow.commit()
    return CodeToSend(code, protector.decrypt(cipher), patient.name, pending.expires_at)


async def confirm_link(
    uows: UnitOfWorkFactory,
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
        pending = await uow.patients.link_code(acct.id) if acct is not None else None
        if acct is None or pending is None or pending.id is None:
            raise NotFound("no code is waiting for this account", what="code")
        if now >= pending.expires_at or pending.tries >= TRIES:
            raise CodeExpired("the code has expired or was mistyped too often; ask for a new one")
        if not secrets.compare_digest(pending.code_hash, _hash(protector, acct.id, code.strip())):
            await uow.patients.count_link_try(pending.id)
            await uow.commit()
            raise WrongCode("that is not the code sent", tries_left=TRIES - pending.tries - 1)
        patient = await uow.patients.get(pending.patient_id)
        assert patient is not None  # patients are never deleted while a code waits
        await uow.patients.spend_link_code(pending.id, now)
        if not await uow.patients.is_linked(acct.id, patient.id):
            if len(await uow.patients.of_account(acct.id)) >= max_patients_per_account:
                raise AccountFull(
                    f"an account can hold at most {max_patients_per_account} patients",
                    limit=max_patients_per_account,
                )
            await uow.patients.link(acct.id, patient.id, now)
        await uow.commit()
    return patient


def _within_limits(sent: list[PendingLink], now: datetime) -> None:
    last_hour = [c for c in sent if c.sent_at and c.sent_at > now - timedelta(hours=1)]
    wrong = sum(c.tries for c in sent)
    if len(last_hour) >= CODES_PER_HOUR or len(sent) >= CODES_PER_DAY or wrong >= WRONG_PER_DAY:
        raise TooManyCodes(
            "too many codes were asked for this patient; try again later or at the hospital desk"
        )


def _hash(protector: Protector, account_id: int, code: str) -> str:
    return protector.lookup_hash("link-code", f"{account_id}\x00{code}")
