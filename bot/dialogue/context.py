"""What a step of the dialogue works with: the state, the patient's language, the services."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from booking.catalogue.model import Catalogue
from booking.catalogue.schedule import local_now
from booking.catalogue.search import load_catalogue
from booking.clock import DEFAULT_TZ, Clock
from booking.complaints.model import ComplaintCaps
from booking.errors import BookingError
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.dialogue import choice_keys
from bot.dialogue.state import DialogueState
from bot.texts import Texts
from channels.messages import Choice, Outbound
from nlu.result import Parse


@dataclass(frozen=True, slots=True)
class Turn:
    """This message: a choice pressed (or picked by number), or text and its understanding."""

    text: str
    choice: str | None = None
    parse: Parse | None = None

    @property
    def intent(self) -> str | None:
        return self.parse.intent if self.parse else None

    def value(self, entity: str) -> str | None:
        found = self.parse.first(entity) if self.parse else None
        return found.value if found else None


class CatalogueCache:
    """The catalogue, read again at most every `seconds`: the dialogue reads it for nearly
    every message, and it changes a few times a day. A new read is a new object, which is how
    the NLU's follower (bot.runtime.nlu) sees there may be news. `monotonic` is for tests."""

    def __init__(
        self,
        uows: UnitOfWorkFactory[HospitalWork],
        seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uows = uows
        self._seconds = seconds
        self._monotonic = monotonic
        self._catalogue: Catalogue | None = None
        self._loaded_at = 0.0

    async def get(self) -> Catalogue:
        if self._catalogue is None or self._monotonic() - self._loaded_at > self._seconds:
            self._catalogue = await load_catalogue(self._uows)
            self._loaded_at = self._monotonic()
        return self._catalogue


TextSender = Callable[[str, str], Awaitable[None]]


@dataclass(slots=True)
class Context:
    state: DialogueState
    texts: Texts
    uows: UnitOfWorkFactory[HospitalWork]
    clock: Clock
    protector: Protector
    channel: str
    user_id: str
    catalogues: CatalogueCache
    # Sends one SMS (E.164 number, text): one-time codes go to a patient's registered phone.
    texting: TextSender | None = None
    # Told each complaint filed (its number), so that staff see it at once.
    complaint_filed: Callable[[str], Awaitable[None]] | None = None
    complaint_within: timedelta = timedelta(hours=24)  # for staff to accept one
    # Development without an SMS gateway: one-time codes are shown in the chat (never in
    # production: bot.settings refuses it).
    show_codes: bool = False
    # The catalogue's triage table (hints, body parts, children): which department for what.
    triage: dict[str, object] = field(default_factory=dict)
    # This message, as a booking it makes is remembered by: asked again after a crash, the
    # booking's receipt is the answer (booking.appointments.book.book_in).
    request: str | None = None
    complaint_caps: ComplaintCaps | None = None  # complaints an account, an address may file
    network_address: str | None = None  # where the message came from, when the channel knows

    @property
    def language(self) -> str:
        return self.state.language or "zh"

    @property
    def account(self) -> tuple[str, str]:
        return self.protector.account(self.channel, self.user_id)

    @property
    def address(self) -> str:
        """Where notices reach this patient (the chat user's id), sealed: stored with each
        booking, in its transaction."""
        return self.protector.encrypt(self.user_id)

    async def catalogue(self) -> Catalogue:
        return await self.catalogues.get()

    def now(self) -> datetime:
        return self.clock.now()

    def local(self, moment: datetime) -> datetime:
        """A moment in the hospital's time zone, as patients read times."""
        return local_now(moment, DEFAULT_TZ)

    def say(self, key: str, **values: Any) -> str:
        return self.texts.say(self.language, key, **values)

    def reply(self, text: str, choices: tuple[Choice, ...] = ()) -> Outbound:
        """A reply; its choices become the ones a press or a numbered answer may pick."""
        self.state.offer(choices)
        return Outbound(text, choices)

    def navigation(self) -> tuple[Choice, ...]:
        """A booking step's way back and way out."""
        return (
            Choice(choice_keys.NAV_BACK, self.say("nav.back")),
            Choice(choice_keys.NAV_STOP, self.say("nav.stop")),
        )

    def refusal(self, error: BookingError) -> Outbound:
        return self.reply(self.refusal_text(error))

    def refusal_text(self, error: BookingError) -> str:
        """The real reason, in a sentence: which quota, when a day opens, until when a ban."""
        key, details = error.reason, error.details
        if key == "blacklisted":  # after no-shows the ban ends on a day; the hospital's may not
            until = details.get("until")
            if details.get("source") == "noshow" and until:
                return self.say("refusal.blacklisted_noshow", until=until)
        if key == "quota_exceeded" and details.get("quota"):
            return self.say(
                f"refusal.quota.{details['quota']}",
                limit=details.get("limit"),
                days=details.get("period_days"),
            )
        if key == "age_range":
            return self.say("refusal.age_range_of", ages=self.ages(details), age=details["age"])
        if key == "outside_window" and details.get("opens_at"):
            return self.say("refusal.not_open_yet", **self.opening(details["opens_at"]))
        if key == "outside_window" and details.get("over"):
            return self.say("refusal.session_over")
        return self.say(f"refusal.{key}")

    def ages(self, bounds: dict[str, Any]) -> str:
        """0-14 as patients say it: 14岁及以下 / aged 14 or under; 0至14岁 with a lower bound."""
        low, high = bounds.get("min_age") or 0, bounds.get("max_age")
        if high is None:
            return self.say("ages.from", low=low)
        return self.say("ages.up_to" if low == 0 else "ages.between", low=low, high=high)

    def opening(self, opens_at: str) -> dict[str, str]:
        """When a day's bookings open, as the patient reads a date and time."""
        moment = self.local(datetime.fromisoformat(opens_at))
        return {"date": moment.date().isoformat(), "time": moment.strftime("%H:%M")}
