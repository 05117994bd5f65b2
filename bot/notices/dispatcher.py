"""The notice dispatcher: sends the notices that are due (booking/appointments/notices.py) on
each patient's channel, and marks them.

A notice is claimed for a while before it is sent and marked sent after, so a dispatcher that
dies in between sends it again once the claim runs out: at most one duplicate per crash, never
a loss. A failed send is tried again later (30 s, 1 min, 2 min … up to an hour, counted from
when the try ended); one that cannot succeed (the patient blocked the bot, an address that is
not one) or still fails after the last try is dead, and operations are told. A reminder is
never sent after the visit began nor to an account that asked for none (TD).

Each channel has a lane of its own, claiming and sending only its own notices, and each send
has a deadline: a channel that hangs (an SMS gateway that takes requests and never answers)
holds up its own notices, never another channel's. A patient has one channel, so their notices
still go one after the other, in the order they fell due.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta

from booking.appointments.notices import REMINDERS, Notice, NoticeKind
from booking.clock import Clock
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.conversations import Conversations
from bot.dialogue.context import CatalogueCache
from bot.notices.words import NoticeWords
from bot.texts import Texts
from channels.messages import Outbound

log = logging.getLogger(__name__)

Send = Callable[[str, list[Outbound]], Awaitable[None]]
Alert = Callable[[str], Awaitable[bool]]

BATCH = 50
HOLD = timedelta(minutes=2)  # a claim: renewed while the lane is slower than that
SEND_WITHIN = 30.0  # seconds: the deadline of one send, unless the lane has its own
OPERATIONS = "ops"  # the lane of the operations group's alerts, and of channels nobody can
# reach outside a conversation (their notices are set aside there)
TRIES = 8
NUMBERED_CHANNELS = ("sms",)  # no buttons: a notice's choices are answered by number


class NoticeDispatcher:
    def __init__(
        self,
        uows: UnitOfWorkFactory[HospitalWork],
        protector: Protector,
        clock: Clock,
        texts: Texts,
        senders: Mapping[str, Send],
        conversations: Conversations,
        alert: Alert | None = None,
        hold: timedelta = HOLD,
        deadlines: Mapping[str, float] | None = None,
        deadline: float = SEND_WITHIN,
    ) -> None:
        """`hold`: how long a claimed notice is kept from other dispatchers (and, after a
        crash, from this one once restarted): longer than one send may take. `deadlines`:
        seconds one send may take, by lane (a channel, or OPERATIONS); `deadline` for the
        others. A send past its deadline has failed, and is tried again later."""
        self.uows = uows
        self.protector = protector
        self.clock = clock
        self.texts = texts
        self.senders = senders
        self.conversations = conversations
        self.alert = alert
        self.hold = hold
        self.lanes = (*senders, OPERATIONS)
        chosen = deadlines or {}
        self.deadlines = {lane: chosen.get(lane, deadline) for lane in self.lanes}
        self.catalogues = CatalogueCache(uows)
        self.words = NoticeWords(uows, clock, texts, conversations, self.catalogues)

    async def run_once(self) -> int:
        """Send what is due now on every lane, side by side; how many were sent."""
        return sum(await asyncio.gather(*(self.run_lane(lane) for lane in self.lanes)))

    async def run_lane(self, lane: str) -> int:
        """Send what is due now on one lane, a batch at a time; how many were sent. The
        application runs each lane in a round of its own (bot/app.py)."""
        if lane == OPERATIONS:
            which: dict[str, Collection[str]] = {"other_than": tuple(self.senders)}
        else:
            which = {"channels": (lane,)}
        sent = 0
        while True:
            now = self.clock.now()
            until = now + self.hold
            async with self.uows() as uow:
                batch = await uow.notices.claim(now, until, BATCH, **which)
                await uow.commit()
            if not batch:
                return sent
            held: dict[int, datetime] = {}  # accounts whose earlier notice must go first
            ours = {notice.id for notice in batch}
            for notice in batch:
                if notice.account_id is not None and notice.account_id in held:
                    async with self.uows() as uow:
                        await uow.notices.postpone([notice.id], held[notice.account_id])
                        await uow.commit()
                    continue
                if self.clock.now() + timedelta(seconds=self.deadlines[lane]) >= until:
                    # A slow lane: the claim would run out during this send, and another
                    # dispatcher send the rest of the batch too.
                    ours, until = await self._renew(ours, until)
                if notice.id not in ours:
                    continue
                sent += await self._deliver(notice, held, self.deadlines[lane])
                ours.discard(notice.id)

    async def _renew(self, ours: set[int], until: datetime) -> tuple[set[int], datetime]:
        later = self.clock.now() + self.hold
        async with self.uows() as uow:
            kept = await uow.notices.extend(sorted(ours), until, later)
            await uow.commit()
        return set(kept), later

    async def _deliver(self, notice: Notice, held: dict[int, datetime], deadline: float) -> int:
        now = self.clock.now()
        if notice.account_id is None:
            return await self._alert(notice)
        async with self.uows(readonly=True) as uow:
            channel, sealed, quiet = await uow.notices.address(notice.account_id)
        why_not = _pointless(notice, now, quiet)
        if why_not is None and sealed is None:
            why_not = "no address"
        if why_not is None and channel not in self.senders:
            why_not = f"{channel} users cannot be reached outside a conversation"
        if why_not is not None:
            await self._mark(notice, void=why_not)
            return 0
        assert sealed is not None
        user_id = self.protector.decrypt(sealed)
        try:
            message = await self.words.message(notice, channel, user_id)
            if channel in NUMBERED_CHANNELS and notice.kind is NoticeKind.WAITLIST_OFFER:
                # Taken by answering its number. Only an offer: it is worth the menu the
                # patient may have been answering; a reminder's buttons are not.
                async with self.conversations.one_at_a_time(channel, user_id):
                    await self.conversations.offer(channel, user_id, message.choices)
            async with asyncio.timeout(deadline):
                await self.senders[channel](user_id, [message])
        except Exception as error:
            retry_at = await self._failed(notice, error)
            if retry_at is not None and notice.account_id is not None:
                held[notice.account_id] = retry_at
            return 0
        await self._mark(notice, sent=self.clock.now())
        log.info("notice %s (%s) sent", notice.id, notice.kind.value)
        return 1

    async def _alert(self, notice: Notice) -> int:
        """For the operations group (a clinic stopped): kept only while someone can read it."""
        if self.alert is None:
            await self._mark(notice, void="no operations group")
            return 0
        values = dict(notice.payload)
        values["part"] = self.texts.say("zh", f"part.{values.get('part', 'am')}")
        catalogue = await self.catalogues.get()
        doctor = next((d for d in catalogue.doctors if d.work_no == values.get("doctor")), None)
        department = next(
            (d for d in catalogue.departments if d.code == values.get("department")), None
        )
        if doctor is not None:
            values["doctor"] = f"{doctor.name}（{doctor.work_no}）"
        if department is not None:
            values["department"] = department.name_zh
        text = self.texts.say("zh", f"notice.ops.{values.pop('about')}", **values)
        if not await self._post(text):
            await self._failed(notice, ConnectionError("alert not posted"))
            return 0
        await self._mark(notice, sent=self.clock.now())
        return 1

    async def _post(self, text: str) -> bool:
        """To the operations group, within its lane's deadline."""
        assert self.alert is not None
        try:
            async with asyncio.timeout(self.deadlines[OPERATIONS]):
                return await self.alert(text)
        except TimeoutError:
            return False

    async def _failed(self, notice: Notice, error: Exception) -> datetime | None:
        """Marks a failed try; when it will be tried again (None: never), counted from now,
        when the try ended: a try that took longer than the wait must not skip it."""
        what = type(error).__name__  # never the message: it may quote an address
        tries = notice.attempts + 1
        if fails_for_good(error) or tries >= TRIES:
            log.warning("notice %s is dead after %d tries (%s)", notice.id, tries, what)
            async with self.uows() as uow:
                await uow.notices.failed(notice.id, what, None)
                await uow.commit()
            if self.alert is not None:
                await self._post(self.texts.say("zh", "notice.dead", kind=notice.kind.value,
                                                notice_id=notice.id, error=what))  # fmt: skip
            return None
        wait = min(timedelta(seconds=30) * (1 << (tries - 1)), timedelta(hours=1))
        retry_at = self.clock.now() + wait
        log.info("notice %s not sent (%s): next try at %s", notice.id, what, retry_at.isoformat())
        async with self.uows() as uow:
            await uow.notices.failed(notice.id, what, retry_at)
            if notice.account_id is not None:  # the patient's later notices wait behind it
                later = await uow.notices.pending_before(notice.account_id, retry_at)
                await uow.notices.postpone([i for i in later if i != notice.id], retry_at)
            await uow.commit()
        return retry_at

    async def _mark(self, notice: Notice, *, sent: datetime | None = None, void: str = "") -> None:
        async with self.uows() as uow:
            if sent is not None:
                await uow.notices.sent(notice.id, sent)
            else:
                await uow.notices.void(notice.id, void)
            await uow.commit()


def _pointless(notice: Notice, now: datetime, quiet: bool) -> str | None:
    if notice.not_after is not None and now >= notice.not_after:
        return "too late"
    if quiet and notice.kind in REMINDERS:
        return "the patient asked for no reminders"
    return None


def fails_for_good(error: Exception) -> bool:
    """Whether a failed delivery would fail again: the channels say so (`permanent`: the
    patient blocked the bot, the gateway refused), and an address that is not one never
    becomes one."""
    return bool(getattr(error, "permanent", False)) or isinstance(error, ValueError)
