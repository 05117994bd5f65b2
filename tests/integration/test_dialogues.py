"""Whole conversations, written as data in tests/dialogues/*.yml, through the real dialogue
engine, NLU and booking domain on SQLite and PostgreSQL.

A transcript's steps are `say: text`, `press: choice key`, `again: true` (the previous
message delivered a second time), `restart: true` (a new engine on the same database) and
`others_fill: true` (other patients take every place left in the session being booked).
Its `setup` may register `patients`, make `bookings`, put past ones in the `history` (booked
`days_ago`, then `became` fulfilled, noshow, cancelled or stopped) and ban patients (`banned`:
after no-shows with `until_days`, by the hospital without); `no_sms: true` runs the bot with no
way to send an SMS, `show_codes: true` as in development without a gateway. A step may also be
`wait: {minutes: n}` (or `days`): the clock moves on.
Each step may expect outcomes a patient would notice, not wording:

- `choices: [keys]` — these choices are offered (`choices_exactly` for all of them,
  `choices_like` for keys starting so, `not_choices` for keys that must not be offered);
- `mentions: [texts]` — the reply mentions these (`{booking_no}` is the setup booking's
  number, `{booking_no_2}` the second's);
- `not_mentions: [texts]`;
- `bookings_active: n` — the account's patients hold n active bookings;
- `same_replies: true` — the same replies as the step before;
- `capture: {name: regex}` — remember what the reply says, for later `{name}`;
- `quiet: true|false` — the account asked for no reminders (TD), or not;
- `texted_to: number` — the last one-time code went by SMS to this number (the code is then
  `{sms_code}`, the n-th code sent `{sms_code_n}`, and `{wrong_code}` is not the last code);
  `texted_count: n` — n SMS codes were sent in all so far;
- `lines_fit_sms: true` — every line of the reply fits one SMS (70 Chinese characters);
- `patients: n` — the account manages n patients.

The `channel` is `web` unless the transcript says (`sms`: the user is +8613812345678). A
setup patient with `elsewhere: true` was registered by another account. `{id_1}`…`{id_5}` are
valid ID numbers; setup patients have them in order. `{child_id_1}`…`{child_id_5}` are
children's (born 2020).

People are generated where who they are matters (Faker, seeded by the transcript's name so
that a failure replays): `{zh_name}`, `{zh_name_2}`, `{en_name}`, `{en_name_2}`, mobiles
`{mobile}`, `{mobile_2}` with `{mobile_masked}`, `{mobile_e164}` (and `_2`), and resident ID
numbers `{gen_id}`, `{gen_id_2}` with `{gen_id_masked}` (and `_2`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from booking.appointments.book import book
from booking.appointments.listing import my_bookings
from booking.appointments.model import AppointmentStatus
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import SlotFull
from booking.patients.accounts import is_quiet
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.patients.registration import patients_of_account, register_patient
from booking.protect import Protector
from booking.roster.duty import generate_sessions
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Inbound, Outbound
from channels.sms_text import fits_one_sms
from nlu.engine import BuiltinNlu
from tests.generated import people
from tests.support import demo_catalogue, id_number

TRANSCRIPTS = sorted((Path(__file__).parents[1] / "dialogues").glob("*.yml"))
TRANSCRIPT_DATA = {path: yaml.safe_load(path.read_text(encoding="utf-8")) for path in TRANSCRIPTS}
USERS = {"sms": "+8613812345678"}  # an SMS user is known by phone number
CHILD = date(2020, 3, 1)


@dataclass
class Run:
    db: Database
    clock: FixedClock
    protector: Protector
    nlu: BuiltinNlu
    channel: str
    texts: Texts = field(default_factory=Texts.load)
    engine: DialogueEngine | None = None
    values: dict[str, str] = field(default_factory=dict)
    counter: int = 0
    texted: list[tuple[str, str]] = field(default_factory=list)  # SMS codes: (phone, text)

    user_id: str | None = None  # a transcript's own `user`
    no_sms: bool = False  # no way to send an SMS
    show_codes: bool = False  # as development without an SMS gateway

    @property
    def user(self) -> str:
        return self.user_id or USERS.get(self.channel, "patient-1")

    async def text(self, phone: str, message: str) -> None:
        self.texted.append((phone, message))
        code = re.search(r"\d{6}", message)
        if code:
            self.values["sms_code"] = code.group(0)
            self.values[f"sms_code_{len(self.texted)}"] = code.group(0)
            self.values["wrong_code"] = f"{(int(code.group(0)) + 1) % 1_000_000:06d}"

    def start_engine(self) -> None:
        self.engine = DialogueEngine(
            nlu=self.nlu,
            conversations=Conversations(self.db, self.protector, self.clock),
            texts=self.texts,
            uows=self.db,
            clock=self.clock,
            protector=self.protector,
            triage=demo_catalogue().triage,
            texting=None if self.no_sms else self.text,
            show_codes=self.show_codes,
        )

    async def send(
        self, *, text: str | None, choice: str | None, message_id: str
    ) -> list[Outbound]:
        assert self.engine is not None
        inbound = Inbound(
            self.channel, self.user, self.clock.now(), text=text, choice=choice,
            message_id=message_id,
        )  # fmt: skip
        return await self.engine.handle(inbound)


def _generated(run: Run, seed: str) -> None:
    """People a real city brings, not friendly examples: names, mobiles and ID numbers."""
    zh, en = people(seed, 2), people(seed, 2, "en_US")
    for suffix, person, english in (("", zh[0], en[0]), ("_2", zh[1], en[1])):
        run.values[f"zh_name{suffix}"] = person.name
        run.values[f"en_name{suffix}"] = english.name
        run.values[f"mobile{suffix}"] = person.mobile
        run.values[f"mobile_e164{suffix}"] = person.e164
        run.values[f"mobile_masked{suffix}"] = person.mobile_masked
        run.values[f"gen_id{suffix}"] = person.id_number
        run.values[f"gen_id_masked{suffix}"] = person.id_masked


async def _setup(run: Run, setup: dict[str, Any]) -> None:
    patients = {}
    for n in range(1, 6):  # ID numbers a transcript may type: {id_1}…{id_5}
        run.values[f"id_{n}"] = id_number(100 + n)
        run.values[f"child_id_{n}"] = id_number(200 + n, born=CHILD)  # 6 years old
    for n, person in enumerate(setup.get("patients", []), start=1):
        elsewhere = person.get("elsewhere", False)  # registered by someone else's account
        patient = await register_patient(
            run.db,
            run.protector,
            run.clock,
            name=person["name"].format(**run.values),
            id_number=id_number(100 + n),
            phone=person.get("phone", "13812345678").format(**run.values),
            account=run.protector.account("web", "someone-else")
            if elsewhere
            else run.protector.account(run.channel, run.user),
        )
        patients[person["name"]] = patient
    for past in setup.get("history", []):
        await _in_history(run, patients[past["patient"]].id, past)
    for n, wanted in enumerate(setup.get("bookings", []), start=1):
        day = run.clock.now().date() + timedelta(days=int(wanted.get("in_days", 2)))
        offers = await search_sessions(
            run.db, run.clock, doctor=wanted["doctor"], date_from=day, date_to=day + timedelta(7)
        )
        offer = next(o for o in offers if o.bookable and o.free)
        receipt = await book(
            run.db, run.clock, patient_id=patients[wanted["patient"]].id,
            session_id=offer.session.id, channel=run.channel,
            account=run.protector.account(run.channel, run.user),
        )  # fmt: skip
        run.values["booking_no" if n == 1 else f"booking_no_{n}"] = receipt.appointment.booking_no
    today = run.clock.now().date()
    for ban in setup.get("banned", []):
        days = ban.get("until_days")
        entry = BlacklistEntry(
            patients[ban["name"]].id_hash,
            BlacklistSource.NOSHOW if days else BlacklistSource.HOSPITAL,
            "爽约" if days else "倒号",
            today - timedelta(days=1),
            today + timedelta(days=days) if days else None,
        )
        async with run.db() as uow:
            await uow.blacklist.add(entry, run.clock.now())
            await uow.commit()


async def _in_history(run: Run, patient_id: int, past: dict[str, Any]) -> None:
    """A booking made `days_ago` + 2 for then, which then `became` what it did."""
    then = FixedClock(run.clock.now() - timedelta(days=int(past["days_ago"]) + 2))
    await generate_sessions(run.db, then)
    day = then.now().date() + timedelta(days=2)
    offers = await search_sessions(
        run.db, then, doctor=past["doctor"], date_from=day, date_to=day + timedelta(3)
    )
    offer = next(o for o in offers if o.bookable and o.free)
    receipt = await book(
        run.db, then, patient_id=patient_id, session_id=offer.session.id, channel=run.channel,
        account=run.protector.account(run.channel, run.user),
    )  # fmt: skip
    became = past["became"]
    status = AppointmentStatus.CANCELLED if became == "stopped" else AppointmentStatus(became)
    reason = {"cancelled": "patient", "stopped": "hospital_stop"}.get(became)
    async with run.db() as uow:
        await uow.appointments.set_status(
            receipt.appointment.id, status, run.clock.now(), cancel_reason=reason
        )
        await uow.commit()


async def _others_fill(run: Run) -> None:
    """Strangers book every place left in the session this patient is about to book."""
    conversations = Conversations(run.db, run.protector, run.clock)
    state = (await conversations.load(run.channel, run.user)).state
    session_id = state["slots"]["session"]
    for n in itertools.count(500):
        stranger = await register_patient(
            run.db, run.protector, run.clock, name="路人", id_number=id_number(n),
            phone="13700000000", account=("web", f"stranger-{n}"),
        )  # fmt: skip
        try:
            await book(
                run.db, run.clock, patient_id=stranger.id, session_id=session_id,
                channel="web", account=("web", f"stranger-{n}"),
            )  # fmt: skip
        except SlotFull:
            return


def _check(
    run: Run, expect: dict[str, Any], replies: list[Outbound], before: list[Outbound]
) -> None:
    said = "\n".join(
        reply.text + "\n" + "\n".join(c.label for c in reply.choices) for reply in replies
    )
    keys = [choice.key for reply in replies for choice in reply.choices]
    for key in expect.get("choices", []):
        assert key.format(**run.values) in keys, f"{key} not offered in {keys}"
    for key in expect.get("not_choices", []):
        assert key.format(**run.values) not in keys, f"{key} offered in {keys}"
    for prefix in expect.get("choices_like", []):
        assert any(key.startswith(prefix) for key in keys), f"no {prefix}… in {keys}"
    if "choices_exactly" in expect:
        assert keys == [key.format(**run.values) for key in expect["choices_exactly"]]
    for text in expect.get("mentions", []):
        assert text.format(**run.values) in said, f"{text!r} not in {said!r}"
    for text in expect.get("not_mentions", []):
        assert text.format(**run.values) not in said, f"{text!r} in {said!r}"
    if expect.get("lines_fit_sms"):
        for line in said.splitlines():
            assert fits_one_sms(line), f"{line!r} is longer than one SMS"
    if expect.get("same_replies"):
        assert replies == before
    for name, pattern in (expect.get("capture") or {}).items():
        found = re.search(pattern, said)
        assert found, f"nothing like {pattern!r} in {said!r}"
        run.values[name] = found.group(0)
    assert replies, "the bot must always answer"


async def _active(run: Run) -> int:
    views = await my_bookings(run.db, *run.protector.account(run.channel, run.user))
    return sum(1 for view in views if view.status == AppointmentStatus.BOOKED)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[path.stem for path in TRANSCRIPTS])
async def test_transcript(
    path: Path, demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    transcript = TRANSCRIPT_DATA[path]
    run = Run(demo, clock, protector, nlu, transcript.get("channel", "web"))
    run.user_id = transcript.get("user")
    setup = transcript.get("setup") or {}
    run.no_sms, run.show_codes = setup.get("no_sms", False), setup.get("show_codes", False)
    _generated(run, path.stem)
    await _setup(run, setup)
    run.start_engine()
    replies: list[Outbound] = []
    last: tuple[str | None, str | None, str] | None = None
    for number, step in enumerate(transcript["steps"], start=1):
        before = replies
        if step.get("restart"):
            run.start_engine()
            continue
        if step.get("others_fill"):
            await _others_fill(run)
            continue
        if step.get("wait"):
            run.clock.advance(timedelta(**step["wait"]))
            continue
        if step.get("again"):
            assert last is not None
            replies = await run.send(text=last[0], choice=last[1], message_id=last[2])
        else:
            run.counter += 1
            said = step.get("say")
            said = said.format(**run.values) if isinstance(said, str) else said
            pressed = step.get("press")
            pressed = pressed.format(**run.values) if isinstance(pressed, str) else pressed
            last = (said, pressed, f"m{run.counter}")
            replies = await run.send(text=last[0], choice=last[1], message_id=last[2])
        expect = step.get("expect") or {}
        try:
            _check(run, expect, replies, before)
            if "bookings_active" in expect:
                assert await _active(run) == expect["bookings_active"]
            if "quiet" in expect:
                account = run.protector.account(run.channel, run.user)
                assert await is_quiet(run.db, account) == expect["quiet"]
            if "texted_to" in expect:
                texted_to = expect["texted_to"].format(**run.values)
                assert run.texted and run.texted[-1][0] == texted_to, run.texted
            if "texted_count" in expect:
                assert len(run.texted) == expect["texted_count"], run.texted
            if "patients" in expect:
                mine = await patients_of_account(
                    run.db, *run.protector.account(run.channel, run.user)
                )
                assert len(mine) == expect["patients"], [p.name for p in mine]
        except AssertionError as problem:
            raise AssertionError(f"{path.name}, step {number}: {problem}") from None


def test_every_transcript_is_valid_yaml_with_steps() -> None:
    assert len(TRANSCRIPTS) >= 5
    for path, transcript in TRANSCRIPT_DATA.items():
        assert transcript["steps"], path.name
