"""The port of the back office's patient records (B3): finding, editing and removing patients.
Kept apart from ``PatientRepository``, which the bot's registration and booking use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from booking.patients.model import (
    Account,
    BlacklistEntry,
    BlacklistPage,
    Changes,
    HospitalEntry,
    Patient,
    PendingCode,
    StillAhead,
    SyncReport,
)
from booking.staff.ports import StaffWork


@dataclass(frozen=True)
class PatientRecord:
    """A patient as the back office sees them: the masked record, how many chat accounts
    manage them, and whether the record was removed (anonymised)."""

    patient: Patient
    accounts: int
    removed_at: datetime | None = None


@dataclass(frozen=True)
class Anonymised:
    """What stays of a removed patient, in place of who they were (see remove_patient)."""

    name: str
    id_hash: str
    id_masked: str
    birth_year: int


class PatientRecordRepository(Protocol):
    async def find(
        self,
        *,
        id_hash: str | None = None,
        phone_hash: str | None = None,
        name: str | None = None,
        limit: int = 50,
    ) -> list[Patient]:
        """Patients not removed, matching every criterion given."""
        ...

    async def record(self, patient_id: int) -> PatientRecord | None: ...
    async def in_line(self, patient_id: int) -> list[int]:
        """The ids of the waitlist entries the patient still waits (or holds an offer) in."""
        ...

    async def rename(self, patient_id: int, name: str) -> None: ...
    async def anonymise(self, patient_id: int, anonymised: Anonymised, now: datetime) -> int:
        """Forget who the patient was and unlink their chat accounts (and codes sent to
        link them); the number of accounts unlinked."""
        ...


@dataclass(frozen=True)
class NewPatient:
    name: str
    id_hash: str
    id_cipher: str
    id_masked: str
    birth_date: date
    sex: str
    phone_hash: str
    phone_cipher: str
    phone_masked: str


class PatientRepository(Protocol):
    async def add(self, patient: NewPatient, now: datetime) -> Patient: ...
    async def get(self, patient_id: int, *, lock: bool = False) -> Patient | None: ...
    async def by_id_hash(self, id_hash: str) -> Patient | None: ...
    async def update_phone(
        self, patient_id: int, phone_hash: str, phone_cipher: str, phone_masked: str
    ) -> None: ...
    async def phone_cipher(self, patient_id: int) -> str | None: ...
    async def set_quiet(self, account_id: int, quiet: bool) -> None: ...
    async def set_address(self, account_id: int, sealed: str) -> None: ...
    async def is_quiet(self, account_id: int) -> bool: ...
    async def put_code(self, code: PendingCode, now: datetime, *, forget_before: datetime) -> None:
        """A new SMS code for the account; its earlier ones stop working. Codes sent before
        `forget_before`, anyone's, are forgotten."""
        ...

    async def latest_code(self, account_id: int) -> PendingCode | None: ...
    async def codes_to_phone(self, phone_hash: str, since: datetime) -> list[PendingCode]: ...
    async def codes_of_account(self, account_id: int, since: datetime) -> list[PendingCode]: ...
    async def count_code_try(self, code_id: int) -> None: ...
    async def spend_code(self, code_id: int, now: datetime) -> None: ...
    async def find_account(self, channel: str, user_id: str) -> Account | None: ...
    async def account(self, channel: str, user_id: str, now: datetime) -> Account:
        """This chat user's account, created on first use."""
        ...

    async def of_account(self, account_id: int) -> list[Patient]: ...
    async def link(self, account_id: int, patient_id: int, now: datetime) -> None: ...
    async def is_linked(self, account_id: int, patient_id: int) -> bool: ...
    async def unlink(self, account_id: int, patient_id: int) -> bool: ...
    async def still_ahead(self, account_id: int, patient_id: int, today: date) -> StillAhead:
        """What the account booked for the patient (for `today` or later, still booked) and
        the waitlists it joined for them that are still open."""
        ...


class BlacklistRepository(Protocol):
    async def entries(self, id_hash: str) -> list[BlacklistEntry]: ...
    async def add(self, entry: BlacklistEntry, now: datetime) -> None: ...
    async def lock_hospital_list(self) -> None:
        """Until the transaction ends, no other sync of the hospital's list."""
        ...

    async def hospital_entries(self) -> list[HospitalEntry]: ...
    async def apply_hospital_changes(self, changes: Changes, now: datetime) -> None: ...
    async def save_sync(self, report: SyncReport) -> int: ...
    async def latest_syncs(self, count: int) -> list[SyncReport]: ...
    async def page(self, source: str, page: int, per_page: int) -> BlacklistPage:
        """Entries of one source (hospital or noshow), newest first, with masked ID numbers."""
        ...


@dataclass(frozen=True, slots=True)
class StoredConversation:
    state: str  # opaque to the store (the bot keeps it encrypted)
    version: int


@dataclass(frozen=True, slots=True)
class ConversationSave:
    """One patient's conversation after a message, and that message's replies."""

    channel: str
    user_hash: str
    state: str
    version: int  # the version read; saved as version + 1
    message_hash: str | None = None
    replies: str | None = None


class ConversationRepository(Protocol):
    """Conversations and handled messages as opaque strings, keyed by hashes."""

    async def get(self, channel: str, user_hash: str) -> StoredConversation | None: ...
    async def resume(
        self, channel: str, user_hash: str, message_hash: str
    ) -> tuple[StoredConversation | None, str | None]:
        """The conversation and the replies already given to this message, read together."""
        ...

    async def put(
        self, channel: str, user_hash: str, state: str, version: int, now: datetime
    ) -> bool:
        """Save as `version` + 1; False when someone else saved since `version` was read
        (version 0: the conversation must not exist yet)."""
        ...

    async def put_many(self, saves: list[ConversationSave], now: datetime) -> list[bool]:
        """Several patients' saves in this transaction, each as `put` would (and its message
        remembered); False for those that lost to another save or whose message was handled
        already. At most one save per conversation."""
        ...

    async def leave(self, channel: str, user_hash: str, message: str, now: datetime) -> None:
        """A message for a user who cannot be reached now (a web chat's), kept till asked."""
        ...

    async def collect(self, channel: str, user_hash: str, limit: int) -> list[str]: ...
    async def replies(self, channel: str, message_hash: str) -> str | None: ...
    async def handled(
        self, channel: str, message_hash: str, replies: str, now: datetime
    ) -> None: ...
    async def purge(self, before: datetime) -> int:
        """Forget handled messages, and conversations untouched, since before `before`."""
        ...


class PatientWork(StaffWork, Protocol):
    patients: PatientRepository
    blacklist: BlacklistRepository
    patient_records: PatientRecordRepository
    conversations: ConversationRepository
