"""The NLU follows the catalogue while the bot runs, on SQLite and PostgreSQL: a doctor added in
the back office is understood by typed name and by the SMS quick command (GHDH) once the
catalogue is read again and the next round has run, with no restart, in every process; a
doctor removed is no longer understood nor offered.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; the cache's own clock (of
seconds, not dates) is driven by the tests, and the application's periods are shortened."""

from __future__ import annotations

import asyncio
from pathlib import Path

from booking.catalogue.model import DutyTemplate, Part
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.doctors import DoctorForm, add_doctor, remove_doctor, set_template
from booking.roster.duty import generate_sessions
from booking.staff.audit import COMMAND_LINE
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.context import CatalogueCache
from bot.dialogue.engine import DialogueEngine
from bot.runtime.application import Every
from bot.runtime.build import build
from bot.runtime.nlu import CatalogueFollower
from bot.settings import Settings
from bot.texts import Texts
from channels.messages import Inbound, Outbound
from nlu.engine import BuiltinNlu
from nlu.training_data import load_directory
from tests.support import NLU_DATA, SECRET, demo_catalogue, id_number

PHONE = "+8613812345678"  # the SMS patient, who has registered 张三
NEWCOMER = DoctorForm("CARD", "秦岚", "副主任医师", "expert", "早搏、心律失常", name_en="Qin Lan")


class Seconds:
    """A monotonic clock the test moves on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Chat:
    """One SMS patient talking to an engine whose NLU follows the catalogue."""

    def __init__(
        self, db: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
    ) -> None:
        self.clock = clock
        self.seconds = Seconds()
        cache = CatalogueCache(db, 30.0, self.seconds)
        own = BuiltinNlu(nlu.vocabulary, load_directory(NLU_DATA), nlu.model)  # not the shared
        self.follower = CatalogueFollower(own, cache, demo_catalogue())
        self.engine = DialogueEngine(
            nlu=own,
            conversations=Conversations(db, protector, clock),
            texts=Texts.load(),
            uows=db,
            clock=clock,
            protector=protector,
            triage=demo_catalogue().triage,
            catalogues=cache,
        )

    async def say(self, text: str) -> tuple[str, list[str]]:
        replies = await self.engine.handle(Inbound("sms", PHONE, self.clock.now(), text=text))
        return _said(replies), [c.key for reply in replies for c in reply.choices]


def _said(replies: list[Outbound]) -> str:
    return "\n".join(r.text + "\n" + "\n".join(c.label for c in r.choices) for r in replies)


async def _patient(db: Database, clock: FixedClock, protector: Protector) -> None:
    await register_patient(
        db, protector, clock, name="张三", id_number=id_number(101), phone="13812345678",
        account=protector.account("sms", PHONE),
    )  # fmt: skip


async def _add_newcomer(db: Database, clock: FixedClock) -> None:
    """秦岚 (03999), cardiology, Thursday afternoons: added, given a duty, rostered."""
    await add_doctor(db, clock, "H01", "03999", NEWCOMER, COMMAND_LINE)
    await set_template(db, clock, "H01", "03999", DutyTemplate(4, Part.PM, 5), COMMAND_LINE)
    await generate_sessions(db, clock)


async def test_a_doctor_added_is_understood_by_name_and_by_ghdh_once_the_catalogue_is_read_again(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    await _patient(demo, clock, protector)
    chat = Chat(demo, clock, protector, nlu)
    assert not await chat.follower.follow()  # the round as the application starts
    await _add_newcomer(demo, clock)

    said, keys = await chat.say("秦岚医生什么时候出诊")
    assert not any(key.endswith(":03999") for key in keys)
    said, _ = await chat.say("GHDH03999,11261330,张三")
    assert "医生工号不对" in said

    chat.seconds.now += 29  # the catalogue is not read again yet: nothing to follow
    assert not await chat.follower.follow()
    said, _ = await chat.say("GHDH03999,11261330,张三")
    assert "医生工号不对" in said

    chat.seconds.now += 2  # 31 s: read again, and the NLU takes the new names
    assert await chat.follower.follow()
    assert not await chat.follower.follow()  # nothing new: nothing built

    said, keys = await chat.say("秦岚医生什么时候出诊")
    assert "秦岚（工号03999）" in said and "早搏" in said
    assert any(key.startswith("session:") and key.endswith(":03999") for key in keys)
    said, _ = await chat.say("GHDH03999,11261330,张三")
    assert "预约成功" in said and "2026-11-26" in said and "秦岚（工号03999）" in said


async def test_a_doctor_removed_is_no_longer_understood_nor_offered(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    await _patient(demo, clock, protector)
    chat = Chat(demo, clock, protector, nlu)
    await chat.follower.follow()
    said, _ = await chat.say("马超医生什么时候出诊")  # 03220, dentistry
    assert "马超" in said
    await remove_doctor(demo, clock, "H01", "03220", COMMAND_LINE)

    chat.seconds.now += 31
    assert await chat.follower.follow()

    said, keys = await chat.say("马超医生什么时候出诊")
    assert "马超" not in said and not any(key.endswith("03220") for key in keys)
    said, _ = await chat.say("GHDH03220,11270800,张三")
    assert "医生工号不对" in said
    said, keys = await chat.say("挂口腔科")
    assert "doctor:03220" not in keys


async def test_every_process_follows_the_catalogue_within_its_period(
    demo: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """Two bots on one database, as `guahao serve` and `guahao worker` (or several of each)
    run: each has its own NLU and follows on its own."""
    settings = Settings(
        DATABASE_URL=demo.url,
        GUAHAO_DB_SCHEMA=demo.schema,
        GUAHAO_SECRET_KEY=SECRET,
        GUAHAO_NOW=clock.now().isoformat(),
        GUAHAO_NLU_MODELS=tmp_path / "models",
    )  # type: ignore[call-arg]
    fast = Every(catalogue_kept=0.2, catalogue=0.1)  # seconds, not a minute
    bots = [await build(settings, every=fast) for _ in range(2)]
    for bot in bots:
        bot.start_rounds()
    try:
        await _add_newcomer(demo, clock)
        for n, bot in enumerate(bots):
            for _ in range(100):
                inbound = Inbound("web", f"process-{n}", clock.now(), text="秦岚医生什么时候出诊")
                keys = [c.key for reply in await bot.handle(inbound) for c in reply.choices]
                if any(key.endswith(":03999") for key in keys):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"bot {n} never understood the new doctor's name")
    finally:
        for bot in bots:
            await bot.stop()
