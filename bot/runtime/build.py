"""The composition root: from the settings (and the channels they configure), the whole
application, built once inside the event loop that runs it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from booking.catalogue.search import load_catalogue
from bot.complaints.answers import ComplaintAnswers
from bot.complaints.staff_chats import StaffDesk
from bot.conversations import Conversations
from bot.dialogue.context import CatalogueCache
from bot.dialogue.engine import DialogueEngine
from bot.notices.dispatcher import NoticeDispatcher
from bot.runtime.application import Application, Every, Send, complaint_caps
from bot.runtime.catalogue import read_catalogue
from bot.runtime.channels import Channels
from bot.runtime.nlu import CatalogueFollower, build_nlu
from bot.runtime.services import Services
from bot.runtime.services import build as build_services
from bot.settings import Settings
from bot.texts import Texts
from channels.messages import Outbound

NO_CHANNELS = Channels()


async def build(
    settings: Settings,
    channels: Channels = NO_CHANNELS,
    *,
    texts: Texts | None = None,
    every: Every | None = None,
) -> Application:
    """The application with every part made: the database's services, the NLU, the dialogue,
    the staff desk (with a staff group), the notice dispatcher on the channels' senders."""
    services = build_services(settings)
    try:
        return await _build(settings, channels, services, texts or Texts.load(), every or Every())
    except BaseException:
        await services.close()
        raise


async def _build(
    settings: Settings, channels: Channels, services: Services, texts: Texts, every: Every
) -> Application:
    catalogue = await load_catalogue(services.uows)
    if not catalogue.triage and settings.demo_file.exists():
        # The symptom hints and emergency signs are not kept in the database yet: they come
        # from the catalogue file the hospital was loaded from.
        catalogue = replace(catalogue, triage=read_catalogue(settings.demo_file).triage)
    conversations = Conversations(services.uows, services.protector, services.clock)

    async def to_web(chat: str, messages: list[Outbound]) -> None:
        await conversations.leave("web", chat, messages)  # kept until the page asks

    senders: dict[str, Send] = {**channels.senders, "web": to_web}
    catalogues = CatalogueCache(services.uows, every.catalogue_kept)
    nlu = build_nlu(settings, catalogue)
    # The dialogue, the staff desk and the answers call back into the application (a
    # complaint filed, a patient to tell): they are made with it, below.
    parts = _Parts()
    texting = parts.text if "sms" in senders else None
    # Development without an SMS gateway: a code is "sent" nowhere (nor logged) and shown in
    # the chat instead (bot.settings: GUAHAO_SHOW_CODES).
    if texting is None and settings.codes_on_screen:
        texting = _screen_only
    engine = DialogueEngine(
        nlu=nlu,
        conversations=conversations,
        texts=texts,
        uows=services.uows,
        clock=services.clock,
        protector=services.protector,
        triage=catalogue.triage,
        texting=texting,
        complaint_filed=parts.complaint_filed,
        complaint_within=timedelta(hours=settings.complaint_hours),
        complaint_caps=complaint_caps(settings),
        catalogues=catalogues,
        show_codes=texting is _screen_only,
    )
    staff = None
    if channels.rooms is not None and "telegram" in senders:
        staff = StaffDesk(
            services.uows, services.protector, services.clock, texts,
            senders["telegram"], parts.tell, channels.rooms,
        )  # fmt: skip
    answers = (
        staff.answers
        if staff is not None
        else ComplaintAnswers(services.uows, services.protector, services.clock, texts, parts.tell)
    )
    every_lane, by_lane = settings.notice_deadlines()
    notices = NoticeDispatcher(
        services.uows,
        services.protector,
        services.clock,
        texts,
        senders,
        conversations,
        alert=staff.alert if staff is not None else None,
        hold=timedelta(seconds=settings.notice_hold_seconds),
        deadline=every_lane,
        deadlines=by_lane,
    )
    application = Application(
        settings=settings,
        services=services,
        texts=texts,
        conversations=conversations,
        engine=engine,
        senders=senders,
        staff=staff,
        answers=answers,
        notices=notices,
        follower=CatalogueFollower(nlu, catalogues, catalogue),
        every=every,
    )
    parts.application = application
    return application


class _Parts:
    """The application's callbacks, handed to the parts it is made of before it exists."""

    application: Application

    async def text(self, phone: str, text: str) -> None:
        await self.application.text(phone, text)

    async def complaint_filed(self, complaint_no: str) -> None:
        await self.application.complaint_filed(complaint_no)

    async def tell(self, channel: str, user_id: str, messages: list[Outbound]) -> None:
        await self.application.tell(channel, user_id, messages)


async def _screen_only(phone: str, text: str) -> None:
    """The SMS of development without a gateway: not sent, not logged; the dialogue shows the
    code in the chat."""
