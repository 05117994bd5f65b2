"""The port of the back office's patient records (B3): finding, editing and removing patients.
Kept apart from ``PatientRepository``, which the bot's registration and booking use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from booking.patients.model import Patient


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
