"""The patients' repositories in memory: patients, chat accounts and their links, the
blacklist. SMS codes, the back office's patient records and conversations are not faked yet."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from booking.patients.identity import Sex
from booking.patients.model import (
    Account,
    BlacklistEntry,
    BlacklistSource,
    Changes,
    HospitalEntry,
    Patient,
)
from booking.patients.ports import NewPatient
from tests.fakes.memory.state import ListedBan, State, Unfinished


class MemoryPatients(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, patient: NewPatient, now: datetime) -> Patient:
        added = Patient(
            id=self.state.new_id(),
            name=patient.name,
            id_masked=patient.id_masked,
            id_hash=patient.id_hash,
            birth_date=patient.birth_date,
            sex=Sex(patient.sex),
            phone_masked=patient.phone_masked,
            created_at=now,
            phone_hash=patient.phone_hash,
        )
        self.state.patients[added.id] = added
        self.state.phone_ciphers[added.id] = patient.phone_cipher
        return added

    async def get(self, patient_id: int, *, lock: bool = False) -> Patient | None:
        return self.state.patients.get(patient_id)

    async def by_id_hash(self, id_hash: str) -> Patient | None:
        return next((p for p in self.state.patients.values() if p.id_hash == id_hash), None)

    async def update_phone(
        self, patient_id: int, phone_hash: str, phone_cipher: str, phone_masked: str
    ) -> None:
        patient = self.state.patients[patient_id]
        self.state.patients[patient_id] = replace(
            patient, phone_hash=phone_hash, phone_masked=phone_masked
        )
        self.state.phone_ciphers[patient_id] = phone_cipher

    async def phone_cipher(self, patient_id: int) -> str | None:
        return self.state.phone_ciphers.get(patient_id)

    async def set_quiet(self, account_id: int, quiet: bool) -> None:
        if quiet:
            self.state.quiet.add(account_id)
        else:
            self.state.quiet.discard(account_id)

    async def set_address(self, account_id: int, sealed: str) -> None:
        self.state.addresses[account_id] = sealed

    async def is_quiet(self, account_id: int) -> bool:
        return account_id in self.state.quiet

    async def find_account(self, channel: str, user_id: str) -> Account | None:
        return self.state.accounts.get((channel, user_id))

    async def account(self, channel: str, user_id: str, now: datetime) -> Account:
        found = self.state.accounts.get((channel, user_id))
        if found is None:
            found = Account(id=self.state.new_id(), channel=channel, user_id=user_id)
            self.state.accounts[(channel, user_id)] = found
        return found

    async def of_account(self, account_id: int) -> list[Patient]:
        linked = sorted(
            (at, patient_id) for (acct, patient_id), at in self.state.links.items()
            if acct == account_id
        )  # fmt: skip
        return [self.state.patients[patient_id] for _, patient_id in linked]

    async def link(self, account_id: int, patient_id: int, now: datetime) -> None:
        self.state.links[(account_id, patient_id)] = now

    async def is_linked(self, account_id: int, patient_id: int) -> bool:
        return (account_id, patient_id) in self.state.links

    async def unlink(self, account_id: int, patient_id: int) -> bool:
        return self.state.links.pop((account_id, patient_id), None) is not None


class MemoryBlacklist(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def entries(self, id_hash: str) -> list[BlacklistEntry]:
        return [b.entry for b in self.state.bans if b.entry.id_hash == id_hash]

    async def add(self, entry: BlacklistEntry, now: datetime) -> None:
        self.state.bans.append(ListedBan(entry, added_at=now))

    async def lock_hospital_list(self) -> None:
        return None  # one process, one unit of work at a time

    async def hospital_entries(self) -> list[HospitalEntry]:
        return [
            HospitalEntry(b.entry.id_hash, b.id_masked, b.entry.reason, b.entry.starts_on,
                          b.entry.until)
            for b in self.state.bans
            if b.entry.source is BlacklistSource.HOSPITAL
        ]  # fmt: skip

    async def apply_hospital_changes(self, changes: Changes, now: datetime) -> None:
        hospital = BlacklistSource.HOSPITAL
        gone, updated = set(changes.removed), {e.id_hash: e for e in changes.updated}
        kept = []
        for ban in self.state.bans:
            e = ban.entry
            if e.source is hospital and e.id_hash in gone:
                continue
            new = updated.get(e.id_hash) if e.source is hospital else None
            kept.append(ban if new is None else _listed(new, ban.added_at))
        self.state.bans = kept + [_listed(e, now) for e in changes.added]


def _listed(e: HospitalEntry, added_at: datetime | None) -> ListedBan:
    entry = BlacklistEntry(e.id_hash, BlacklistSource.HOSPITAL, e.reason, e.starts_on, e.until)
    return ListedBan(entry, e.id_masked, added_at)
