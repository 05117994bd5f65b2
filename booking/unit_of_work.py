"""The unit of work: one transaction, committed as a whole or not at all.

Each concept's port names the repositories its use cases work with (``CatalogueWork``,
``StaffWork``, …, each extending the one below it); ``booking.store`` provides one unit of
work that has them all (``booking.work.HospitalWork``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, TypeVar


class UnitOfWork(Protocol):
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


Work_co = TypeVar("Work_co", bound=UnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[Work_co]):
    """Opens a unit of work; ``readonly`` ones may run on a replica and never commit."""

    def __call__(self, *, readonly: bool = False) -> Work_co: ...
