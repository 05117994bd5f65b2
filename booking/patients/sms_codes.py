"""One-time codes sent by SMS (短信验证码), for the two things a chat account must prove: that it
holds the mobile number it registers a patient with, and, to add a patient another account
registered, that it holds the phone registered for them.

A code is six random digits, kept only as a keyed hash bound to the account that asked; it
works for five minutes and five tries, and a new code of the same account voids the earlier
ones. Whatever the purpose, and whichever accounts ask:

- per phone number: one a minute while the last one still works (so "send again" waits a
  minute), 5 an hour, 10 a day, and 10 wrong guesses a day;
- per chat account: 10 an hour, 20 a day.

Why these numbers: per number they are the flow control Chinese SMS providers apply to
verification codes by default (1 a minute, 5 an hour, 10 a day), which a hospital's provider
would enforce anyway, and within them a family of five (an account holds at most 5 patients)
can register on one phone in an hour. Per account they allow each of five family members a
code and a second try, but stop one chat from spraying codes at strangers' phones. Ten wrong
guesses a day against a one-in-a-million code make guessing hopeless.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.errors import CodeExpired, CodeTooSoon, NotFound, TooManyCodes, WrongCode
from booking.patients.model import PendingCode
from booking.patients.ports import PatientWork
from booking.protect import Protector

VALID_FOR = timedelta(minutes=5)
TRIES = 5
GAP = timedelta(minutes=1)
PER_PHONE_HOUR = 5
PER_PHONE_DAY = 10
WRONG_PER_PHONE_DAY = 10
PER_ACCOUNT_HOUR = 10
PER_ACCOUNT_DAY = 20
KEPT = timedelta(days=2)  # the last day's codes count for the limits; older ones are forgotten


@dataclass(frozen=True)
class CodeToSend:
    code: str
    phone: str  # E.164, only to send the code there; never stored or logged in clear
    phone_masked: str
    expires_at: datetime
    patient_name: str = ""  # the patient to be added, when the code is for that


def check_limits(to_phone: list[PendingCode], of_account: list[PendingCode], now: datetime) -> None:
    """Whether one more code may go to this phone for this account, given the codes of the
    last day sent to the phone and asked for by the account (raises CodeTooSoon, TooManyCodes)."""
    day = [c for c in to_phone if c.sent_at is not None and c.sent_at > now - timedelta(days=1)]
    # One used already (a family registering a second child on the same phone) does not hold
    # the next one back; one still waiting to be typed does, for a minute.
    if any(c.sent_at > now - GAP and _works(c, now) for c in day if c.sent_at is not None):
        raise CodeTooSoon("a code that still works went to this phone less than a minute ago")
    hour = [c for c in day if c.sent_at is not None and c.sent_at > now - timedelta(hours=1)]
    mine = [c for c in of_account if c.sent_at is not None and c.sent_at > now - timedelta(days=1)]
    mine_hour = [c for c in mine if c.sent_at is not None and c.sent_at > now - timedelta(hours=1)]
    if (
        len(hour) >= PER_PHONE_HOUR
        or len(day) >= PER_PHONE_DAY
        or sum(c.tries for c in day) >= WRONG_PER_PHONE_DAY
        or len(mine_hour) >= PER_ACCOUNT_HOUR
        or len(mine) >= PER_ACCOUNT_DAY
    ):
        raise TooManyCodes("too many codes were asked for; try again later or at the desk")


async def issue(
    uow: PatientWork,
    protector: Protector,
    now: datetime,
    *,
    account_id: int,
    phone_hash: str,
    patient_id: int | None = None,
) -> tuple[str, PendingCode]:
    """A new code for the account (its earlier ones stop working), within the limits; the
    caller commits and sends it."""
    since = now - timedelta(days=1)
    check_limits(
        await uow.patients.codes_to_phone(phone_hash, since),
        await uow.patients.codes_of_account(account_id, since),
        now,
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    pending = PendingCode(
        account_id=account_id,
        phone_hash=phone_hash,
        code_hash=_hash(protector, account_id, code),
        expires_at=now + VALID_FOR,
        tries=0,
        patient_id=patient_id,
    )
    await uow.patients.put_code(pending, now, forget_before=now - KEPT)
    return code, pending


async def typed_back(
    uow: PatientWork,
    protector: Protector,
    now: datetime,
    *,
    account_id: int,
    code: str,
    phone_hash: str | None = None,
) -> PendingCode:
    """The account's waiting code, spent, if `code` is it: a code sent to `phone_hash` to
    prove it, or (None) one sent to add a patient. A wrong code counts a try, committed at once."""
    pending = await uow.patients.latest_code(account_id)
    wanted = (
        pending is not None
        and pending.id is not None
        and (
            pending.patient_id is not None
            if phone_hash is None
            else pending.patient_id is None and pending.phone_hash == phone_hash
        )
    )
    if pending is None or pending.id is None or not wanted:
        raise NotFound("no code is waiting for this account", what="code")
    if not _works(pending, now):
        raise CodeExpired("the code has expired or was mistyped too often; ask for a new one")
    if not secrets.compare_digest(pending.code_hash, _hash(protector, account_id, code.strip())):
        await uow.patients.count_code_try(pending.id)
        await uow.commit()
        raise WrongCode("that is not the code sent", tries_left=TRIES - pending.tries - 1)
    await uow.patients.spend_code(pending.id, now)
    return pending


def _works(code: PendingCode, now: datetime) -> bool:
    return now < code.expires_at and code.tries < TRIES


def _hash(protector: Protector, account_id: int, code: str) -> str:
    return protector.lookup_hash("sms-code", f"{account_id}\x00{code}")
