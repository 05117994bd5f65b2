"""Log retention (B8): the booking log and the operation-error log are kept for the policy's
retention period (default one year), then purged."""

from __future__ import annotations

from datetime import timedelta

from booking.clock import Clock
from booking.ports import UnitOfWorkFactory


async def purge_logs(
    uows: UnitOfWorkFactory, clock: Clock, retention_days: int = 365
) -> tuple[int, int]:
    """Delete log rows older than the retention period; returns (booking log, error log) counts."""
    before = clock.now() - timedelta(days=retention_days)
    async with uows() as uow:
        counts = await uow.logs.purge(before)
        await uow.commit()
    return counts


async def record_operation_error(
    uows: UnitOfWorkFactory, clock: Clock, operation: str, reason: str, detail: dict[str, object]
) -> None:
    """Write a refused or failed operation to the error log, in its own transaction (the
    operation's own transaction was rolled back). ``detail`` must hold no personal data."""
    async with uows() as uow:
        await uow.logs.operation_error(clock.now(), operation, reason, dict(detail))
        await uow.commit()
