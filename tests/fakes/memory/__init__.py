"""In-memory fakes of booking's repositories and unit of work, checked by state (cosmicpython):
``MemoryDatabase()`` is a ``UnitOfWorkFactory`` for the use cases, ``database.state`` what
was committed. Modules by concept; repository methods no test needs yet raise
NotImplementedError."""

from tests.fakes.memory.state import State
from tests.fakes.memory.work import MemoryDatabase, MemoryUnitOfWork

__all__ = ["MemoryDatabase", "MemoryUnitOfWork", "State"]
