"""A conversation saved mid-task by the version before typed task state carries on in this one
(a rolling deploy): the states below are written as that version saved them."""

from __future__ import annotations

from typing import Any

from booking.appointments.listing import my_bookings
from booking.catalogue.search import SessionOffer, load_catalogue, search_sessions
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Inbound
from nlu.engine import BuiltinNlu
from tests.support import id_number

USER = "saved-1"


async def _engine(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu, saved: dict[str, Any]
) -> DialogueEngine:
    conversations = Conversations(demo, protector, clock)
    conversation = await conversations.load("web", USER)
    conversation.state = saved
    assert await conversations.save("web", USER, conversation)
    return DialogueEngine(
        nlu=nlu, conversations=conversations, texts=Texts.load(), uows=demo, clock=clock,
        protector=protector,
    )  # fmt: skip


async def _open_session(demo: Database, clock: FixedClock) -> SessionOffer:
    offers = await search_sessions(demo, clock, catalogue=await load_catalogue(demo))
    return next(o for o in offers if o.bookable and o.free)


async def test_a_booking_saved_at_its_confirmation_is_booked(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    patient = await register_patient(
        demo, protector, clock, name="李秀英", id_number=id_number(1), phone="13812345678",
        account=protector.account("web", USER),
    )  # fmt: skip
    offer = await _open_session(demo, clock)
    saved = {
        "lang": "zh",
        "task": "book",
        "slots": {
            "department": offer.department.code,
            "doctor": offer.doctor.work_no,
            "session": offer.session.id,
            "waitlist": False,
            "patient": patient.id,
        },
        "offered": [
            ["confirm:yes", "确认预约"],
            ["confirm:no", "暂不预约"],
            ["nav:back", "返回上一步"],
        ],
    }
    engine = await _engine(demo, clock, protector, nlu, saved)
    await engine.handle(Inbound("web", USER, clock.now(), choice="confirm:yes", message_id="1"))
    [booked] = await my_bookings(demo, *protector.account("web", USER))
    assert booked.session_id == offer.session.id and booked.patient_name == patient.name


async def test_a_registration_saved_inside_a_booking_goes_on_from_its_answers(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    offer = await _open_session(demo, clock)
    saved = {
        "lang": "zh",
        "task": "book",
        "slots": {
            "department": offer.department.code,
            "doctor": offer.doctor.work_no,
            "session": offer.session.id,
            "registering": True,
            "registration": {"name": "李秀英"},
        },
        "offered": [["nav:stop", "不挂了"]],
    }
    engine = await _engine(demo, clock, protector, nlu, saved)
    [asked] = await engine.handle(Inbound("web", USER, clock.now(), text=id_number(1)))
    assert "手机" in asked.text  # the name and the ID number are known: the phone is next
    state = (await Conversations(demo, protector, clock).load("web", USER)).state
    assert state["slots"]["registration"] == {"name": "李秀英", "id_number": id_number(1)}
    assert state["slots"]["session"] == offer.session.id
