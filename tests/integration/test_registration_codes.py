"""Registering from a chat proves the mobile number by a code sent to it before anything is
stored, and codes are limited per phone and per account (issue 14, class 5), on SQLite and
PostgreSQL, with generated people."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from booking.clock import FixedClock
from booking.errors import (
    AccountFull,
    CodeExpired,
    NeedsPhoneCode,
    NotFound,
    RegisteredPhoneDiffers,
    TooManyCodes,
    WrongCode,
)
from booking.patients.linking import ask_to_link, confirm_link
from booking.patients.model import Patient
from booking.patients.registration import (
    patient_by_id_number,
    patients_of_account,
    register_from_chat,
    register_patient,
    register_with_code,
    send_phone_code,
)
from booking.patients.sms_codes import GAP, KEPT, PER_ACCOUNT_HOUR, PER_PHONE_HOUR, TRIES
from booking.protect import Protector
from booking.store import Database
from tests.generated import Person, people

WEB = ("web", "hash-of-a-browser")
TELEGRAM = ("telegram", "hash-of-4242")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def chat(
    db: Database,
    protector: Protector,
    clock: FixedClock,
    who: Person,
    *,
    account: tuple[str, str] = WEB,
    phone_proven: bool = False,
) -> Patient:
    return await register_from_chat(
        db, protector, clock, name=who.name, id_number=who.id_number, phone=who.mobile,
        account=account, phone_proven=phone_proven,
    )  # fmt: skip


async def test_a_new_patient_is_stored_only_once_the_code_sent_to_the_phone_is_typed(
    db: Database, protector: Protector, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    for ours in ("booking", "bot", "channels"):  # as GUAHAO_LOG_LEVEL=DEBUG would
        caplog.set_level(logging.DEBUG, logger=ours)
    said: list[str] = []
    for who in people("class-5-first", 3):
        with pytest.raises(NeedsPhoneCode) as needed:
            await chat(db, protector, clock, who)
        assert needed.value.details["phone_masked"] == who.mobile_masked
        with pytest.raises(NotFound):  # nothing stored: not the patient, not their phone
            await patient_by_id_number(db, protector, who.id_number)
        sent = await send_phone_code(db, protector, clock, account=WEB, phone=who.mobile)
        assert sent.phone == who.e164 and len(sent.code) == 6 and sent.code.isdigit()
        said += [who.name, who.mobile, who.id_number, sent.code]
        with pytest.raises(WrongCode) as refused:
            await register_with_code(
                db, protector, clock, name=who.name, id_number=who.id_number,
                phone=who.mobile, account=WEB, code=wrong(sent.code),
            )  # fmt: skip
        assert refused.value.details["tries_left"] == TRIES - 1
        with pytest.raises(NotFound):
            await patient_by_id_number(db, protector, who.id_number)
        patient = await register_with_code(
            db, protector, clock, name=who.name, id_number=who.id_number, phone=who.mobile,
            account=WEB, code=sent.code,
        )  # fmt: skip
        assert (patient.name, patient.phone_masked) == (who.name, who.mobile_masked)
        assert patient.phone_hash == protector.lookup_hash("phone", who.e164)
        with pytest.raises(CodeExpired):  # a code works once
            await register_with_code(
                db, protector, clock, name=who.name, id_number=who.id_number,
                phone=who.mobile, account=WEB, code=sent.code,
            )  # fmt: skip
        clock.advance(GAP)
    assert len(await patients_of_account(db, *WEB)) == 3
    assert not [secret for secret in said if secret in caplog.text]  # nothing personal logged


async def test_a_code_proves_only_the_number_it_went_to_and_only_for_what_it_was_sent(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    who, other, registered = people("class-5-proves", 3)
    sent = await send_phone_code(db, protector, clock, account=WEB, phone=who.mobile)
    with pytest.raises(NotFound):  # typed back for another number
        await register_with_code(
            db, protector, clock, name=who.name, id_number=who.id_number, phone=other.mobile,
            account=WEB, code=sent.code,
        )  # fmt: skip
    with pytest.raises(NotFound):  # a code to prove a phone does not add someone's patient
        await confirm_link(db, protector, clock, account=WEB, code=sent.code)
    patient = await register_patient(
        db, protector, clock, name=registered.name, id_number=registered.id_number,
        phone=registered.mobile, account=TELEGRAM,
    )  # fmt: skip
    link = await ask_to_link(db, protector, clock, account=WEB, patient_id=patient.id)
    with pytest.raises(NotFound):  # and a code to add a patient proves no phone
        await register_with_code(
            db, protector, clock, name=who.name, id_number=who.id_number, phone=who.mobile,
            account=WEB, code=link.code,
        )  # fmt: skip
    assert await patients_of_account(db, *WEB) == []


async def test_an_id_number_registered_already_takes_its_registered_phone_not_the_typed_one(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    who, stranger = people("class-5-registered", 2)
    await register_patient(
        db, protector, clock, name=who.name, id_number=who.id_number, phone=who.mobile,
        account=TELEGRAM,
    )  # fmt: skip
    impostor = Person(who.name, who.id_number, who.id_masked, stranger.mobile, stranger.e164,
                      stranger.mobile_masked)  # fmt: skip
    # Issue 15: before any phone is proven the answer is the one for a new ID number (the
    # code goes to the number typed); proven, that number is not the registered one.
    with pytest.raises(NeedsPhoneCode) as needed:
        await chat(db, protector, clock, impostor)
    assert needed.value.details["phone_masked"] == stranger.mobile_masked
    sent = await send_phone_code(db, protector, clock, account=WEB, phone=stranger.mobile)
    with pytest.raises(RegisteredPhoneDiffers) as differs:
        await register_with_code(
            db, protector, clock, name=who.name, id_number=who.id_number,
            phone=stranger.mobile, account=WEB, code=sent.code,
        )  # fmt: skip
    assert who.mobile_masked not in str(differs.value.details)
    clock.advance(timedelta(minutes=2))
    # Registered meanwhile, after a code went to the typed number: the code proves that number,
    # not the registered one, so the registered phone must be proven in its turn.
    late = people("class-5-late", 1)[0]
    sent = await send_phone_code(db, protector, clock, account=WEB, phone=late.mobile)
    await register_patient(
        db, protector, clock, name=late.name, id_number=late.id_number, phone=who.mobile,
        account=TELEGRAM,
    )  # fmt: skip
    with pytest.raises(RegisteredPhoneDiffers):
        await register_with_code(
            db, protector, clock, name=late.name, id_number=late.id_number, phone=late.mobile,
            account=WEB, code=sent.code,
        )  # fmt: skip
    assert await patients_of_account(db, *WEB) == []


async def test_by_sms_from_the_phone_at_the_desk_and_from_the_his_no_code_is_needed(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    by_sms, at_desk = people("class-5-trusted", 2)
    sms = ("sms", "hash-of-" + by_sms.e164)
    patient = await chat(db, protector, clock, by_sms, account=sms, phone_proven=True)
    assert [p.id for p in await patients_of_account(db, *sms)] == [patient.id]
    desk = await register_patient(
        db, protector, clock, name=at_desk.name, id_number=at_desk.id_number,
        phone=at_desk.mobile, in_person=True,
    )  # fmt: skip
    assert desk.phone_masked == at_desk.mobile_masked


async def test_a_new_phone_for_a_patient_on_the_account_is_proven_like_a_first_one(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    who, new = people("class-5-new-phone", 2)
    await register_patient(
        db, protector, clock, name=who.name, id_number=who.id_number, phone=who.mobile,
        account=WEB,
    )  # fmt: skip
    moved = Person(who.name, who.id_number, who.id_masked, new.mobile, new.e164,
                   new.mobile_masked)  # fmt: skip
    with pytest.raises(NeedsPhoneCode):
        await chat(db, protector, clock, moved)
    assert (await patient_by_id_number(db, protector, who.id_number)).phone_masked == (
        who.mobile_masked
    )
    sent = await send_phone_code(db, protector, clock, account=WEB, phone=new.mobile)
    patient = await register_with_code(
        db, protector, clock, name=who.name, id_number=who.id_number, phone=new.mobile,
        account=WEB, code=sent.code,
    )  # fmt: skip
    assert patient.phone_masked == new.mobile_masked
    assert (await chat(db, protector, clock, moved)).id == patient.id  # nothing more to prove


async def test_a_full_account_is_refused_before_any_code_is_sent(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    *family, newcomer, elsewhere = people("class-5-full", 7)
    for member in family:
        await register_patient(
            db, protector, clock, name=member.name, id_number=member.id_number,
            phone=member.mobile, account=WEB,
        )  # fmt: skip
    await register_patient(
        db, protector, clock, name=elsewhere.name, id_number=elsewhere.id_number,
        phone=elsewhere.mobile, account=TELEGRAM,
    )  # fmt: skip
    for who in (newcomer, elsewhere):
        with pytest.raises(AccountFull):
            await chat(db, protector, clock, who)
    # One of the family again is no new patient: found, nothing to prove.
    assert (await chat(db, protector, clock, family[0])).name == family[0].name


async def test_codes_to_one_phone_are_limited_whichever_accounts_ask_and_for_whatever(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    owner, *others = people("class-5-phone-limit", 2)
    patient = await register_patient(
        db, protector, clock, name=owner.name, id_number=owner.id_number, phone=owner.mobile,
        account=TELEGRAM,
    )  # fmt: skip
    # Strangers registering with the owner's number, and one adding the owner as a patient:
    # every code goes to the same phone, and they count together.
    for n in range(PER_PHONE_HOUR - 1):
        await send_phone_code(db, protector, clock, account=("web", f"s-{n}"), phone=owner.mobile)
        clock.advance(GAP)
    await ask_to_link(db, protector, clock, account=("web", "s-link"), patient_id=patient.id)
    clock.advance(GAP)
    with pytest.raises(TooManyCodes):
        await send_phone_code(db, protector, clock, account=("web", "fresh"), phone=owner.mobile)
    with pytest.raises(TooManyCodes):
        await ask_to_link(db, protector, clock, account=("web", "fresh"), patient_id=patient.id)
    await send_phone_code(db, protector, clock, account=("web", "fresh"), phone=others[0].mobile)
    clock.advance(timedelta(hours=1))
    await send_phone_code(db, protector, clock, account=("web", "later"), phone=owner.mobile)


async def test_codes_one_account_asks_for_are_limited_whatever_the_phones(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    phones = people("class-5-account-limit", PER_ACCOUNT_HOUR + 1)
    for who in phones[:PER_ACCOUNT_HOUR]:
        await send_phone_code(db, protector, clock, account=WEB, phone=who.mobile)
    with pytest.raises(TooManyCodes):
        await send_phone_code(db, protector, clock, account=WEB, phone=phones[-1].mobile)
    await send_phone_code(db, protector, clock, account=TELEGRAM, phone=phones[-1].mobile)


async def test_codes_are_forgotten_after_two_days(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    first, second = people("class-5-forgotten", 2)
    await send_phone_code(db, protector, clock, account=WEB, phone=first.mobile)
    clock.advance(KEPT + timedelta(minutes=1))
    await send_phone_code(db, protector, clock, account=WEB, phone=second.mobile)
    async with db(readonly=True) as uow:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        first_hash = protector.lookup_hash("phone", first.e164)
        assert await uow.patients.codes_to_phone(first_hash, since) == []
        account = await uow.patients.find_account(*WEB)
        assert account is not None
        assert len(await uow.patients.codes_of_account(account.id, since)) == 1
