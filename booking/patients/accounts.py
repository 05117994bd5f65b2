"""What a chat account asked for itself: TD / STOP / 退订 turns off the messages it did not ask
for (reminders); booking receipts, answers and notices of changes to its bookings still come.
And it may stop managing one of its patients (删除就诊人).

Removing a patient from an account only unlinks them: the patient's registration and bookings
stay (the hospital keeps them, and other accounts may manage the same patient). It is refused
while this account has bookings for that patient still to come, or waits in a 候补 line for
them. Those bookings' reminders, change notices and 停诊 transfers go to this account, and only
an account that manages the patient may cancel or move them: unlinked, nobody could, the
patient would still be expected at the hospital, and a missed visit counts towards the
no-show ban (3 in 90 days). So the account cancels them first (or the visit takes place).
Bookings other accounts made for the patient are theirs, and do not stand in the way.
"""

from __future__ import annotations

from booking.catalogue.schedule import local_now
from booking.clock import Clock
from booking.errors import NotFound, StillBooked
from booking.patients.model import Patient
from booking.patients.ports import PatientWork
from booking.unit_of_work import UnitOfWorkFactory

ZONE = "Asia/Shanghai"  # whose "today": the hospitals' zone


async def set_quiet(
    uows: UnitOfWorkFactory[PatientWork], clock: Clock, account: tuple[str, str], quiet: bool
) -> None:
    async with uows() as uow:
        acct = await uow.patients.account(*account, clock.now())
        await uow.patients.set_quiet(acct.id, quiet)
        await uow.commit()


async def is_quiet(uows: UnitOfWorkFactory[PatientWork], account: tuple[str, str]) -> bool:
    async with uows(readonly=True) as uow:
        acct = await uow.patients.find_account(*account)
        return acct is not None and await uow.patients.is_quiet(acct.id)


async def unlink_patient(
    uows: UnitOfWorkFactory[PatientWork], clock: Clock, account: tuple[str, str], patient_id: int
) -> Patient:
    """The patient, no longer managed by this account (see the module's docstring). Raises
    NotFound when the account does not manage them, StillBooked (with the counts) while it
    has bookings or waitlist places for them still to come."""
    now = clock.now()
    async with uows() as uow:
        acct = await uow.patients.find_account(*account)
        if acct is None or not await uow.patients.is_linked(acct.id, patient_id):
            raise NotFound("this account does not manage this patient", what="patient")
        # Taken as a booking takes it: a booking for them being made meanwhile comes first,
        # and is counted, or waits for this to end.
        patient = await uow.patients.get(patient_id, lock=True)
        assert patient is not None  # linked patients exist
        ahead = await uow.patients.still_ahead(acct.id, patient_id, local_now(now, ZONE).date())
        if ahead:
            raise StillBooked(
                "cancel this account's coming bookings for the patient first",
                bookings=ahead.bookings,
                waiting=ahead.waiting,
            )
        await uow.patients.unlink(acct.id, patient_id)
        await uow.commit()
    return patient
