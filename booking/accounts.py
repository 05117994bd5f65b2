"""What a chat account asked for itself: TD / STOP / 退订 turns off the messages it did not ask
for (reminders); booking receipts, answers and notices of changes to its bookings still come."""

from __future__ import annotations

from booking.clock import Clock
from booking.ports import UnitOfWorkFactory


async def set_quiet(
    uows: UnitOfWorkFactory, clock: Clock, account: tuple[str, str], quiet: bool
) -> None:
    async with uows() as uow:
        acct = await uow.patients.account(*account, clock.now())
        await uow.patients.set_quiet(acct.id, quiet)
        await uow.commit()


async def is_quiet(uows: UnitOfWorkFactory, account: tuple[str, str]) -> bool:
    async with uows(readonly=True) as uow:
        acct = await uow.patients.find_account(*account)
        return acct is not None and await uow.patients.is_quiet(acct.id)
