"""Issue 15: a doctor whose work number has letters (N0001), added through the back office, is
found and booked however the number is typed: n0001 or N0001 in the chat, by the SMS quick
command GHDH, with `guahao book`, in the back office and by FHIR Practitioner?identifier.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; N0001 works on Thursday
afternoons (26 November, released).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from booking.appointments.listing import my_bookings
from booking.catalogue.search import load_catalogue, search_sessions
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.staff.model import Role
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.runtime.nlu import build_builtin
from bot.texts import Texts
from channels.fhir import WORK_NO
from channels.messages import Inbound
from tests.fhir_client import fhir_client, fhir_json, new_token, resources
from tests.integration.test_cli import Cli
from tests.office import office, signed_in_as, staff
from tests.support import NLU_DATA, demo_catalogue, id_number, sqlite_database

THU = date(2026, 11, 26)
WITH_LETTERS = {
    "department": "H01/CARD",
    "work_no": "N0001",
    "name": "宁一",
    "name_en": "Ning Yi",
    "title": "主治医师",
    "clinic_type": "general",
    "specialties": "高血压",
}


async def add_through_the_back_office(
    db: Database, clock: FixedClock, protector: Protector
) -> None:
    """The admin adds N0001 with a Thursday afternoon duty and generates the roster."""
    await staff(db, clock, "admin", Role.ADMIN)
    async with office(db, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        added = await client.post("/admin/doctors", data={"csrf": csrf, **WITH_LETTERS})
        assert added.status_code == 303, added.text
        duty = await client.post(
            "/admin/doctors/H01/N0001/templates",
            data={"csrf": csrf, "weekday": "4", "part": "pm", "capacity": "5"},
        )
        assert duty.status_code == 303, duty.text
        roster = await client.post(
            "/admin/roster",
            data={"csrf": csrf, "scope": "H01/CARD", "from": "2026-11-23", "to": "2026-11-29"},
        )
        assert roster.status_code == 200
        # The same number in small letters is the same doctor: not added twice.
        again = {"csrf": csrf, **WITH_LETTERS, "work_no": "n0001", "name": "宁二"}
        assert (await client.post("/admin/doctors", data=again)).status_code == 409
        # Staff who type the number in small letters find the same doctor.
        page = await client.get("/admin/doctors/H01/n0001")
        assert page.status_code == 200 and "宁一" in page.text
        sheet = await client.get(
            "/admin/sessions", params={"date": "2026-11-26", "doctor": "n0001"}
        )
        assert "宁一" in sheet.text


async def test_a_work_number_with_letters_is_bookable_by_chat_and_by_ghdh_however_typed(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await add_through_the_back_office(demo, clock, protector)
    for typed in ("n0001", "N0001"):
        [offer] = await search_sessions(demo, clock, doctor=typed)
        assert offer.doctor.work_no == "N0001" and offer.session.visit_date == THU
    nlu = build_builtin(await load_catalogue(demo), NLU_DATA)  # the bot follows the catalogue
    engine = DialogueEngine(
        nlu=nlu,
        conversations=Conversations(demo, protector, clock),
        texts=Texts.load(),
        uows=demo,
        clock=clock,
        protector=protector,
        triage=demo_catalogue().triage,
        texting=None,
    )
    said = 0

    async def say(channel: str, user: str, text: str | None = None, choice: str | None = None):
        nonlocal said
        said += 1
        inbound = Inbound(
            channel, user, clock.now(), text=text, choice=choice, message_id=f"m{said}"
        )
        return await engine.handle(inbound)

    for n, typed in enumerate(("挂n0001的号", "预约N0001医生"), start=1):
        account = protector.account("web", f"wn-{n}")
        await register_patient(
            demo, protector, clock, name="张三", id_number=id_number(600 + n),
            phone=f"1390000{n:04d}", account=account,
        )  # fmt: skip
        replies = await say("web", f"wn-{n}", typed)
        keys = [c.key for r in replies for c in r.choices]
        session = next((k for k in keys if k.startswith("session:")), None)
        assert session is not None, (typed, [r.text for r in replies], keys)
        replies = await say("web", f"wn-{n}", choice=session)
        if any(c.key == "confirm:yes" for r in replies for c in r.choices):
            replies = await say("web", f"wn-{n}", choice="confirm:yes")
        assert "预约成功" in replies[-1].text, [r.text for r in replies]
        [booked] = await my_bookings(demo, *account)
        assert booked.doctor_work_no == "N0001"

    sender = "+8613812345678"
    await register_patient(
        demo, protector, clock, name="李四", id_number=id_number(610), phone="13812345678",
        account=protector.account("sms", sender), phone_proven=True,
    )  # fmt: skip
    replies = await say("sms", sender, "GHDHn0001,11261400,李四")
    assert "预约成功" in replies[-1].text, [r.text for r in replies]
    [booked] = await my_bookings(demo, *protector.account("sms", sender))
    assert booked.doctor_work_no == "N0001"


async def test_guahao_book_takes_a_work_number_with_letters_however_typed(
    tmp_path: Path, clock: FixedClock, protector: Protector
) -> None:
    cli = Cli(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    cli.ok("db", "upgrade")
    cli.ok("demo", "load")
    async with sqlite_database(tmp_path / "x.sqlite3") as db:
        await add_through_the_back_office(db, clock, protector)
    for n, typed in enumerate(("n0001", "N0001")):
        number = id_number(620 + n)
        cli.ok("patients", "add", "--name", "王五", "--id-number", number, "--phone", "13700001234")
        booked = cli.json(
            "book", "--id-number", number, "--doctor", typed, "--date", "2026-11-26", "--part", "pm"
        )
        assert booked["status"] == "booked" and booked["doctor_work_no"] == "N0001", typed


async def test_fhir_practitioner_search_finds_a_work_number_with_letters_however_typed(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await add_through_the_back_office(demo, clock, protector)
    token = await new_token(demo, clock)
    async with fhir_client(demo, clock, protector, token) as his:
        for typed in ("n0001", "N0001"):
            found = fhir_json(await his.get(f"/fhir/Practitioner?identifier={WORK_NO}|{typed}"))
            assert [p["id"] for p in resources(found)] == ["H01-N0001"], typed
