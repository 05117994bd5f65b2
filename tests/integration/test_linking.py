"""Adding a patient another account registered takes the code sent to their registered phone
(SQLite and PostgreSQL), and turning reminders off is remembered per account."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.appointments.listing import my_bookings
from booking.clock import FixedClock
from booking.errors import (
    AccountFull,
    CodeExpired,
    CodeTooSoon,
    NeedsCode,
    TooManyCodes,
    WrongCode,
)
from booking.patients.accounts import is_quiet, set_quiet
from booking.patients.linking import ask_to_link, confirm_link
from booking.patients.registration import patients_of_account, register_patient
from booking.patients.sms_codes import GAP, PER_PHONE_HOUR, TRIES
from booking.protect import Protector
from booking.store import Database
from tests.support import id_number

SMS = ("sms", "hash-of-+8613812345678")
TELEGRAM = ("telegram", "hash-of-4242")


async def registered_by_sms(db: Database, protector: Protector, clock: FixedClock) -> int:
    patient = await register_patient(
        db, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
        account=SMS,
    )  # fmt: skip
    return patient.id


async def test_the_code_sent_to_the_registered_phone_links_the_patient(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    patient_id = await registered_by_sms(demo, protector, clock)
    with pytest.raises(NeedsCode):  # knowing the ID number is not enough
        await register_patient(
            demo, protector, clock, name="张三", id_number=id_number(1), phone="13999999999",
            account=TELEGRAM,
        )  # fmt: skip
    assert await patients_of_account(demo, *TELEGRAM) == []
    sent = await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    assert sent.phone == "+8613812345678" and len(sent.code) == 6 and sent.code.isdigit()
    wrong = "000000" if sent.code != "000000" else "111111"
    with pytest.raises(WrongCode) as refused:
        await confirm_link(demo, protector, clock, account=TELEGRAM, code=wrong)
    assert refused.value.details["tries_left"] == TRIES - 1
    linked = await confirm_link(demo, protector, clock, account=TELEGRAM, code=sent.code)
    assert linked.id == patient_id
    assert [p.name for p in await patients_of_account(demo, *TELEGRAM)] == ["张三"]
    with pytest.raises(CodeExpired):  # a code works once
        await confirm_link(demo, protector, clock, account=TELEGRAM, code=sent.code)
    assert await my_bookings(demo, *TELEGRAM) == []


async def test_a_code_expires_after_five_minutes_and_after_five_wrong_tries(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    patient_id = await registered_by_sms(demo, protector, clock)
    sent = await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    clock.advance(timedelta(minutes=5, seconds=1))
    with pytest.raises(CodeExpired):
        await confirm_link(demo, protector, clock, account=TELEGRAM, code=sent.code)

    sent = await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    wrong = "000000" if sent.code != "000000" else "111111"
    for _ in range(TRIES):
        with pytest.raises(WrongCode):
            await confirm_link(demo, protector, clock, account=TELEGRAM, code=wrong)
    with pytest.raises(CodeExpired):  # the right code, too late: guessing is not a way in
        await confirm_link(demo, protector, clock, account=TELEGRAM, code=sent.code)
    assert await patients_of_account(demo, *TELEGRAM) == []


async def test_a_new_code_replaces_the_old_one(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    patient_id = await registered_by_sms(demo, protector, clock)
    first = await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    with pytest.raises(CodeTooSoon):  # "send again" waits a minute while the first works
        await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    clock.advance(GAP)
    second = await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    if first.code != second.code:
        with pytest.raises(WrongCode):
            await confirm_link(demo, protector, clock, account=TELEGRAM, code=first.code)
    await confirm_link(demo, protector, clock, account=TELEGRAM, code=second.code)


async def test_writing_from_the_registered_phone_is_proof_enough(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await registered_by_sms(demo, protector, clock)
    other_sms = ("sms", "hash-of-the-same-phone-on-another-gateway")
    patient = await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
        account=other_sms, phone_proven=True,
    )  # fmt: skip
    assert [p.id for p in await patients_of_account(demo, *other_sms)] == [patient.id]


async def test_a_full_account_cannot_link_one_more(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    patient_id = await registered_by_sms(demo, protector, clock)
    for n in range(5):
        await register_patient(
            demo, protector, clock, name="家人" + "甲乙丙丁戊"[n], id_number=id_number(10 + n),
            phone="13900000000", account=TELEGRAM,
        )  # fmt: skip
    sent = await ask_to_link(demo, protector, clock, account=TELEGRAM, patient_id=patient_id)
    with pytest.raises(AccountFull):
        await confirm_link(demo, protector, clock, account=TELEGRAM, code=sent.code)


async def test_reminders_can_be_turned_off_and_on_again(demo: Database, clock: FixedClock) -> None:
    assert not await is_quiet(demo, SMS)
    await set_quiet(demo, clock, SMS, True)
    assert await is_quiet(demo, SMS)
    assert not await is_quiet(demo, TELEGRAM)
    await set_quiet(demo, clock, SMS, False)
    assert not await is_quiet(demo, SMS)


async def test_codes_for_one_patient_are_limited_whichever_accounts_ask(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    patient_id = await registered_by_sms(demo, protector, clock)
    askers = [("web", f"hash-of-session-{n}") for n in range(10)]
    for asker in askers[:PER_PHONE_HOUR]:
        await ask_to_link(demo, protector, clock, account=asker, patient_id=patient_id)
        clock.advance(GAP)
    with pytest.raises(TooManyCodes):  # a fresh account changes nothing
        await ask_to_link(demo, protector, clock, account=askers[5], patient_id=patient_id)
    clock.advance(timedelta(hours=1, minutes=1))
    sent = await ask_to_link(demo, protector, clock, account=askers[6], patient_id=patient_id)
    wrong = "000000" if sent.code != "000000" else "111111"
    for _ in range(TRIES):
        with pytest.raises(WrongCode):
            await confirm_link(demo, protector, clock, account=askers[6], code=wrong)
    clock.advance(timedelta(hours=1, minutes=1))
    sent = await ask_to_link(demo, protector, clock, account=askers[7], patient_id=patient_id)
    for _ in range(TRIES):  # 10 wrong guesses in a day: no more codes today
        with pytest.raises(WrongCode):
            await confirm_link(demo, protector, clock, account=askers[7], code=wrong)
    clock.advance(timedelta(hours=1, minutes=1))
    with pytest.raises(TooManyCodes):
        await ask_to_link(demo, protector, clock, account=askers[8], patient_id=patient_id)
    clock.advance(timedelta(days=1))
    await ask_to_link(demo, protector, clock, account=askers[9], patient_id=patient_id)
