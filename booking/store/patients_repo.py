"""Patients and chat accounts in the database (the blacklist: blacklist_repo)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments.model import IN_LINE, AppointmentStatus
from booking.patients.identity import Sex
from booking.patients.model import Account, Patient, PendingCode, StillAhead
from booking.patients.ports import Anonymised, NewPatient, PatientRecord
from booking.store.tables.appointments import AppointmentRow, WaitlistRow
from booking.store.tables.patients import AccountPatientRow, AccountRow, PatientRow, PhoneCodeRow


def patient_of(row: PatientRow) -> Patient:
    return Patient(
        id=row.id,
        name=row.name,
        id_masked=row.id_masked,
        id_hash=row.id_hash,
        birth_date=row.birth_date,
        sex=Sex(row.sex),
        phone_masked=row.phone_masked,
        created_at=row.created_at,
        phone_hash=row.phone_hash,
    )


class SqlPatients:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def add(self, patient: NewPatient, now: datetime) -> Patient:
        row = PatientRow(
            name=patient.name,
            id_hash=patient.id_hash,
            id_cipher=patient.id_cipher,
            id_masked=patient.id_masked,
            birth_date=patient.birth_date,
            sex=patient.sex,
            phone_hash=patient.phone_hash,
            phone_cipher=patient.phone_cipher,
            phone_masked=patient.phone_masked,
            created_at=now,
            version=0,
        )
        self.tx.add(row)
        await self.tx.flush()
        return patient_of(row)

    async def get(self, patient_id: int, *, lock: bool = False) -> Patient | None:
        if lock:
            # Every booking transaction of one patient writes this row first, so on
            # PostgreSQL they queue up here and each sees the previous one's bookings.
            await self.tx.execute(
                update(PatientRow)
                .where(PatientRow.id == patient_id)
                .values(version=PatientRow.version + 1)
                .execution_options(synchronize_session=False)
            )
        row = await self.tx.get(PatientRow, patient_id, populate_existing=lock)
        return patient_of(row) if row else None

    async def by_id_hash(self, id_hash: str) -> Patient | None:
        row = await self.tx.scalar(select(PatientRow).where(PatientRow.id_hash == id_hash))
        return patient_of(row) if row else None

    async def update_phone(
        self, patient_id: int, phone_hash: str, phone_cipher: str, phone_masked: str
    ) -> None:
        await self.tx.execute(
            update(PatientRow)
            .where(PatientRow.id == patient_id)
            .values(phone_hash=phone_hash, phone_cipher=phone_cipher, phone_masked=phone_masked)
            .execution_options(synchronize_session="fetch")
        )

    async def phone_cipher(self, patient_id: int) -> str | None:
        return await self.tx.scalar(
            select(PatientRow.phone_cipher).where(PatientRow.id == patient_id)
        )

    async def set_quiet(self, account_id: int, quiet: bool) -> None:
        await self.tx.execute(
            update(AccountRow).where(AccountRow.id == account_id).values(quiet=quiet)
        )

    async def set_address(self, account_id: int, sealed: str) -> None:
        await self.tx.execute(
            update(AccountRow).where(AccountRow.id == account_id).values(address_cipher=sealed)
        )

    async def is_quiet(self, account_id: int) -> bool:
        return bool(
            await self.tx.scalar(select(AccountRow.quiet).where(AccountRow.id == account_id))
        )

    async def put_code(self, code: PendingCode, now: datetime, *, forget_before: datetime) -> None:
        # Earlier codes of this account stop working; their rows stay, for the limits.
        await self.tx.execute(
            update(PhoneCodeRow)
            .where(PhoneCodeRow.account_id == code.account_id, PhoneCodeRow.expires_at > now)
            .values(expires_at=now)
        )
        await self.tx.execute(delete(PhoneCodeRow).where(PhoneCodeRow.created_at < forget_before))
        self.tx.add(
            PhoneCodeRow(
                account_id=code.account_id, phone_hash=code.phone_hash,
                patient_id=code.patient_id, code_hash=code.code_hash,
                expires_at=code.expires_at, tries=code.tries, created_at=now,
            )
        )  # fmt: skip
        await self.tx.flush()

    async def latest_code(self, account_id: int) -> PendingCode | None:
        row = await self.tx.scalar(
            select(PhoneCodeRow)
            .where(PhoneCodeRow.account_id == account_id)
            .order_by(PhoneCodeRow.id.desc())
            .limit(1)
        )
        return _pending(row) if row else None

    async def codes_to_phone(self, phone_hash: str, since: datetime) -> list[PendingCode]:
        rows = await self.tx.scalars(
            select(PhoneCodeRow).where(
                PhoneCodeRow.phone_hash == phone_hash, PhoneCodeRow.created_at >= since
            )
        )
        return [_pending(row) for row in rows.all()]

    async def codes_of_account(self, account_id: int, since: datetime) -> list[PendingCode]:
        rows = await self.tx.scalars(
            select(PhoneCodeRow).where(
                PhoneCodeRow.account_id == account_id, PhoneCodeRow.created_at >= since
            )
        )
        return [_pending(row) for row in rows.all()]

    async def count_code_try(self, code_id: int) -> None:
        await self.tx.execute(
            update(PhoneCodeRow)
            .where(PhoneCodeRow.id == code_id)
            .values(tries=PhoneCodeRow.tries + 1)
        )

    async def spend_code(self, code_id: int, now: datetime) -> None:
        await self.tx.execute(
            update(PhoneCodeRow).where(PhoneCodeRow.id == code_id).values(expires_at=now)
        )

    async def find_account(self, channel: str, user_id: str) -> Account | None:
        row = await self.tx.scalar(
            select(AccountRow).where(AccountRow.channel == channel, AccountRow.user_id == user_id)
        )
        return Account(id=row.id, channel=row.channel, user_id=row.user_id) if row else None

    async def account(self, channel: str, user_id: str, now: datetime) -> Account:
        query = select(AccountRow).where(
            AccountRow.channel == channel, AccountRow.user_id == user_id
        )
        row = await self.tx.scalar(query)
        if row is None:
            try:
                async with self.tx.begin_nested():
                    row = AccountRow(channel=channel, user_id=user_id, created_at=now)
                    self.tx.add(row)
            except IntegrityError:  # created meanwhile by another message of the same user
                row = await self.tx.scalar(query)
                assert row is not None
        return Account(id=row.id, channel=row.channel, user_id=row.user_id)

    async def of_account(self, account_id: int) -> list[Patient]:
        rows = await self.tx.scalars(
            select(PatientRow)
            .join(AccountPatientRow, AccountPatientRow.patient_id == PatientRow.id)
            .where(AccountPatientRow.account_id == account_id)
            .order_by(AccountPatientRow.created_at, PatientRow.id)
        )
        return [patient_of(r) for r in rows.all()]

    async def link(self, account_id: int, patient_id: int, now: datetime) -> None:
        self.tx.add(AccountPatientRow(account_id=account_id, patient_id=patient_id, created_at=now))
        await self.tx.flush()

    async def is_linked(self, account_id: int, patient_id: int) -> bool:
        found = await self.tx.scalar(
            select(func.count()).where(
                AccountPatientRow.account_id == account_id,
                AccountPatientRow.patient_id == patient_id,
            )
        )
        return bool(found)

    async def unlink(self, account_id: int, patient_id: int) -> bool:
        gone = await self.tx.execute(
            delete(AccountPatientRow)
            .where(
                AccountPatientRow.account_id == account_id,
                AccountPatientRow.patient_id == patient_id,
            )
            .returning(AccountPatientRow.patient_id)
            .execution_options(synchronize_session=False)
        )
        return bool(gone.all())

    async def still_ahead(self, account_id: int, patient_id: int, today: date) -> StillAhead:
        bookings = await self.tx.scalar(
            select(func.count()).where(
                AppointmentRow.account_id == account_id,
                AppointmentRow.patient_id == patient_id,
                AppointmentRow.status == AppointmentStatus.BOOKED.value,
                AppointmentRow.visit_date >= today,
            )
        )
        waiting = await self.tx.scalar(
            select(func.count()).where(
                WaitlistRow.account_id == account_id,
                WaitlistRow.patient_id == patient_id,
                WaitlistRow.status.in_(_IN_LINE),
            )
        )
        return StillAhead(int(bookings or 0), int(waiting or 0))


def _pending(row: PhoneCodeRow) -> PendingCode:
    return PendingCode(
        row.account_id, row.phone_hash, row.code_hash, row.expires_at, row.tries,
        patient_id=row.patient_id, sent_at=row.created_at, id=row.id,
    )  # fmt: skip


_IN_LINE = [s.value for s in IN_LINE]


class SqlPatientRecords:
    """The back office's patient records (booking.patients.ports)."""

    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def find(
        self,
        *,
        id_hash: str | None = None,
        phone_hash: str | None = None,
        name: str | None = None,
        limit: int = 50,
    ) -> list[Patient]:
        query = select(PatientRow).where(PatientRow.removed_at.is_(None))
        if id_hash:
            query = query.where(PatientRow.id_hash == id_hash)
        if phone_hash:
            query = query.where(PatientRow.phone_hash == phone_hash)
        if name:
            query = query.where(PatientRow.name == name)
        rows = await self.tx.scalars(query.order_by(PatientRow.name, PatientRow.id).limit(limit))
        return [patient_of(r) for r in rows.all()]

    async def record(self, patient_id: int) -> PatientRecord | None:
        row = await self.tx.get(PatientRow, patient_id)
        if row is None:
            return None
        accounts = await self.tx.scalar(
            select(func.count()).where(AccountPatientRow.patient_id == patient_id)
        )
        return PatientRecord(patient_of(row), int(accounts or 0), row.removed_at)

    async def in_line(self, patient_id: int) -> list[int]:
        rows = await self.tx.scalars(
            select(WaitlistRow.id)
            .where(WaitlistRow.patient_id == patient_id, WaitlistRow.status.in_(_IN_LINE))
            .order_by(WaitlistRow.id)
        )
        return list(rows.all())

    async def rename(self, patient_id: int, name: str) -> None:
        await self.tx.execute(
            update(PatientRow)
            .where(PatientRow.id == patient_id)
            .values(name=name)
            .execution_options(synchronize_session="fetch")
        )

    async def anonymise(self, patient_id: int, anonymised: Anonymised, now: datetime) -> int:
        await self.tx.execute(
            delete(PhoneCodeRow)
            .where(PhoneCodeRow.patient_id == patient_id)
            .execution_options(synchronize_session=False)
        )
        unlinked = await self.tx.execute(
            delete(AccountPatientRow)
            .where(AccountPatientRow.patient_id == patient_id)
            .returning(AccountPatientRow.account_id)
            .execution_options(synchronize_session=False)
        )
        accounts = len(unlinked.all())
        await self.tx.execute(
            update(PatientRow)
            .where(PatientRow.id == patient_id)
            .values(
                name=anonymised.name,
                id_hash=anonymised.id_hash,
                id_cipher="",
                id_masked=anonymised.id_masked,
                birth_date=date(anonymised.birth_year, 1, 1),
                phone_hash="",
                phone_cipher="",
                phone_masked="",
                removed_at=now,
            )
            .execution_options(synchronize_session="fetch")
        )
        return accounts
