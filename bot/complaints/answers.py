"""Replies and results of complaints, told to the patient on the channel the complaint came
from and in the patient's language: whether staff answered in a staff group chat or in the
web console, and whether or not a staff group is configured.

An answer is written to the database with the action that makes it and told from there, so a
failed send is tried again, not lost. Logs name complaints by number, never a patient."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from booking.clock import Clock
from booking.complaints import handling
from booking.complaints.handling import PatientAnswer
from booking.complaints.model import Action
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.notices.dispatcher import fails_for_good
from bot.texts import Texts
from channels.messages import Outbound

log = logging.getLogger(__name__)

TellPatient = Callable[[str, str, list[Outbound]], Awaitable[None]]
Undelivered = Callable[[str], Awaitable[None]]  # the complaint number; staff reach them otherwise


class ComplaintAnswers:
    def __init__(
        self,
        uows: UnitOfWorkFactory[HospitalWork],
        protector: Protector,
        clock: Clock,
        texts: Texts,
        tell_patient: TellPatient,
        undelivered: Undelivered | None = None,
    ) -> None:
        self.uows = uows
        self.protector = protector
        self.clock = clock
        self.texts = texts
        self.tell_patient = tell_patient
        self.undelivered = undelivered

    async def tell_due(self) -> set[str]:
        """Tell patients the replies and results due; the complaints whose answers went."""
        told = set()
        for answer in await handling.due_answers(self.uows, self.protector, self.clock):
            try:
                await self.tell_patient(
                    answer.to.channel, answer.to.user_id, [Outbound(self.words(answer))]
                )
            except Exception as error:
                if not fails_for_good(error):  # told again later
                    log.warning(
                        "answer to complaint %s not sent yet (%s)",
                        answer.complaint_no,
                        type(error).__name__,
                    )
                    continue
                # Blocked, gone, or a channel that cannot be reached outside a conversation:
                # trying again changes nothing; staff are told to reach the patient otherwise.
                log.warning("answer to complaint %s cannot be delivered", answer.complaint_no)
                await handling.mark_told(self.uows, answer)
                if self.undelivered is not None:
                    await self.undelivered(answer.complaint_no)
                continue
            await handling.mark_told(self.uows, answer)
            told.add(answer.complaint_no)
        return told

    def words(self, answer: PatientAnswer) -> str:
        key = "complaint.replied" if answer.action is Action.REPLY else "complaint.resolved"
        return self.texts.say(
            answer.to.language, key, complaint_no=answer.complaint_no, text=answer.text
        )
