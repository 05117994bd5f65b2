"""The complaints' port: complaints filed, what staff did, and what is still to be posted or
told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from booking.complaints.model import ActionTaken, Complaint, ComplaintCategory, ComplaintStatus
from booking.staff.ports import StaffWork


@dataclass(frozen=True, slots=True)
class NewComplaint:
    complaint_no: str
    category: ComplaintCategory
    department_code: str | None
    sealed_text: str
    channel: str
    user_hash: str | None  # None: taken by phone, nobody to answer online
    user_cipher: str | None
    language: str
    accept_by: datetime
    address_hash: str | None = None  # the web chat's network address, keyed: caps per address


@dataclass(frozen=True, slots=True)
class SealedComplaint:
    """A complaint with what is kept encrypted: the patient's text and whom to answer."""

    complaint: Complaint
    sealed_text: str
    user_cipher: str | None


@dataclass(frozen=True, slots=True)
class SealedAnswer:
    """A reply or result still to be told to the patient; its text is sealed."""

    action_id: int
    action: ActionTaken
    complaint: SealedComplaint


class ComplaintRepository(Protocol):
    async def add(self, new: NewComplaint, now: datetime) -> Complaint:
        """Raises ComplaintNumberTaken when the number is in use. The complaint is due to be
        posted to staff."""
        ...

    async def filed_since(
        self, since: datetime, *, user_hash: str | None = None, address_hash: str | None = None
    ) -> int:
        """How many complaints came from this patient (or this address) since then."""
        ...

    async def get(self, complaint_no: str, *, lock: bool = False) -> Complaint | None: ...
    async def sealed(self, complaint_no: str) -> SealedComplaint | None: ...
    async def update(self, complaint: Complaint, *, post: bool = False) -> None:
        """Save its status, department, level, deadline and acceptance; with ``post`` it is
        due to be posted to staff (again) from ``complaint.updated_at``."""
        ...

    async def record(self, action: ActionTaken, *, tell: bool) -> None:
        """With ``tell`` the action's (sealed) text is due to be told to the patient."""
        ...

    async def actions(self, complaint_no: str) -> list[ActionTaken]: ...
    async def overdue(self, now: datetime, below_level: int) -> list[Complaint]:
        """Open, not accepted, past ``accept_by``, at a level below ``below_level``."""
        ...

    async def claim_posts(
        self, now: datetime, until: datetime, complaint_no: str | None = None
    ) -> list[SealedComplaint]:
        """Complaints due to be posted, now held until ``until`` for this process."""
        ...

    async def posted(self, complaint_no: str, claimed_until: datetime) -> None:
        """Not due any more, unless it became due again since it was claimed."""
        ...

    async def claim_answers(self, now: datetime, until: datetime) -> list[SealedAnswer]: ...
    async def told(self, action_id: int) -> None: ...


class ComplaintDeskRepository(Protocol):
    """Complaints listed for the back office's complaint desk."""

    async def listed(
        self,
        *,
        statuses: tuple[ComplaintStatus, ...] | None,
        department_code: str | None,
        limit: int,
    ) -> list[Complaint]:
        """Newest first; ``department_code`` None: every department's (and none's)."""
        ...


class ComplaintWork(StaffWork, Protocol):
    complaints: ComplaintRepository
    complaint_desk: ComplaintDeskRepository
