"""What a notice says, in the patient's language, and the buttons under it: one press to
confirm, cancel or move a booking from a reminder, to move it to another session from a stop
notice, to take or pass a waitlist offer."""

from __future__ import annotations

import time
from functools import partial
from zoneinfo import ZoneInfo

from booking.appointments.notices import REMINDERS, Notice, NoticeKind
from booking.catalogue.model import Catalogue
from booking.catalogue.schedule import local_now
from booking.catalogue.search import SessionOffer, search_sessions
from booking.clock import DEFAULT_TZ, Clock
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.conversations import Conversations
from bot.dialogue import choice_keys
from bot.dialogue.context import CatalogueCache
from bot.texts import Texts, doctor_named
from channels.messages import Choice, Outbound

TRANSFERS_OFFERED = 3  # under a stop notice
ALTERNATIVES_KEPT = 10.0  # seconds


class NoticeWords:
    def __init__(
        self,
        uows: UnitOfWorkFactory[HospitalWork],
        clock: Clock,
        texts: Texts,
        conversations: Conversations,
        catalogues: CatalogueCache,
    ) -> None:
        self.uows = uows
        self.clock = clock
        self.texts = texts
        self.conversations = conversations
        self.catalogues = catalogues
        self._alternatives: dict[int, tuple[float, list[SessionOffer]]] = {}

    async def message(self, notice: Notice, channel: str, user_id: str) -> Outbound:
        language = (await self.conversations.load(channel, user_id)).state.get("lang") or "zh"
        catalogue = await self.catalogues.get()
        english = language == "en"
        values = dict(notice.payload)
        code = values.get("department")
        department = next((d for d in catalogue.departments if d.code == code), None)
        values["department"] = "" if department is None else (
            department.name_en if english else department.name_zh
        )  # fmt: skip
        doctor = next((d for d in catalogue.doctors if d.work_no == values.get("doctor")), None)
        if doctor is not None:
            values["doctor"] = doctor_named(
                self.texts, language, doctor.name, doctor.name_en, doctor.work_no
            )
        if "part" in values:
            values["part"] = self.texts.say(language, f"part.{values['part']}")
        key = notice.kind.value
        if notice.kind is NoticeKind.WAITLIST_CLOSED and "reason" in values:
            key = "waitlist_stopped"
        if notice.kind is NoticeKind.REMINDER_EVENING and self._on_the_day(notice, catalogue):
            key = "reminder_today"  # sent late (the service was down): not "tomorrow"
        text = self.texts.say(language, f"notice.{key}", **values)
        return Outbound(text, await self._buttons(notice, language, catalogue))

    def _on_the_day(self, notice: Notice, catalogue: Catalogue) -> bool:
        code = notice.payload.get("department")
        department = next((d for d in catalogue.departments if d.code == code), None)
        hospital = next(
            (h for h in catalogue.hospitals if department and h.code == department.hospital_code),
            None,
        )
        timezone = hospital.timezone if hospital is not None else DEFAULT_TZ
        today = local_now(self.clock.now(), timezone).date()
        return today.isoformat() == notice.payload.get("date")

    async def _buttons(
        self, notice: Notice, language: str, catalogue: Catalogue
    ) -> tuple[Choice, ...]:
        """One press from a reminder to cancel or move the booking, from a stop notice to move
        it to another session, from a waitlist offer to take the place or let it go: the
        dialogue checks each is the patient's own before acting."""
        say = partial(self.texts.say, language)
        payload = notice.payload
        booking_no, department = payload.get("booking_no"), payload.get("department")
        again = Choice(choice_keys.notice("again", department), say("notice.button.again"))
        if notice.kind in REMINDERS:
            buttons: tuple[Choice, ...] = (
                Choice(choice_keys.notice("coming", booking_no), say("notice.button.coming")),
                Choice(choice_keys.notice("cancel", booking_no), say("notice.button.cancel")),
            )
            # A booking moves until the day before its visit: not from a reminder on the day.
            if not self._on_the_day(notice, catalogue):
                buttons += (
                    Choice(choice_keys.notice("move", booking_no), say("notice.button.move")),
                )
            return buttons
        if notice.kind is NoticeKind.STOPPED:
            moves = tuple(
                Choice(
                    choice_keys.notice("rebook", booking_no, offer.session.id),
                    say(
                        "notice.button.rebook", session=_session_words(offer, self.texts, language)
                    ),
                )
                for offer in await self._instead_of(payload.get("session_id"), catalogue)
            )
            return (*moves, again)
        if notice.kind is NoticeKind.WAITLIST_OFFER:
            entry = payload.get("entry_id")
            return (
                Choice(choice_keys.notice("take", entry), say("notice.button.take")),
                Choice(choice_keys.notice("pass", entry), say("notice.button.pass")),
            )
        if notice.kind in (NoticeKind.WAITLIST_LAPSED, NoticeKind.WAITLIST_CLOSED):
            return (again,)
        return ()

    async def _instead_of(self, session_id: object, catalogue: Catalogue) -> list[SessionOffer]:
        """A stopped session's nearest alternatives: the same doctor or a doctor of the same
        level (clinic type) in the department, with places left, nearest in time first. Kept a
        few seconds: a stop tells hundreds of patients the same."""
        if not isinstance(session_id, int):
            return []
        kept = self._alternatives.get(session_id)
        if kept is not None and time.monotonic() - kept[0] < ALTERNATIVES_KEPT:
            return kept[1]
        async with self.uows(readonly=True) as uow:
            stopped = await uow.sessions.get(session_id)
        if stopped is None:
            return []
        found = await search_sessions(
            self.uows,
            self.clock,
            catalogue=catalogue,
            hospital=stopped.hospital_code,
            department=stopped.department_code,
        )
        alike = [
            o
            for o in found
            if o.bookable
            and o.free > 0
            and o.session.id != stopped.id
            and (o.doctor.work_no == stopped.doctor_work_no
                 or o.session.clinic_type == stopped.clinic_type)
        ]  # fmt: skip
        alike.sort(key=lambda o: abs((o.session.starts_at - stopped.starts_at).total_seconds()))
        nearest = alike[:TRANSFERS_OFFERED]
        if len(self._alternatives) > 100:
            self._alternatives.clear()
        self._alternatives[session_id] = (time.monotonic(), nearest)
        return nearest


def _session_words(offer: SessionOffer, texts: Texts, language: str) -> str:
    session, doctor = offer.session, offer.doctor
    local = session.starts_at.astimezone(ZoneInfo(offer.hospital.timezone))
    return " ".join(
        [
            local.strftime("%m-%d"),
            texts.say(language, f"weekday.{session.visit_date.weekday()}"),
            texts.say(language, f"part.{session.part.value}"),
            doctor_named(texts, language, doctor.name, doctor.name_en, doctor.work_no),
        ]
    )
