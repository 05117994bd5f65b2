"""The HIS interface's storage: its clients, and the schedule's places as FHIR Slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.catalogue.schedule import PlaceStatus
from booking.his.ports import HisClient, Horizon, PlaceFilter, PlaceView
from booking.store.sessions_repo import session_of, session_query
from booking.store.tables.catalogue import ClinicSessionRow, DoctorRow, HospitalRow, PlaceRow
from booking.store.tables.his import HisClientRow
from booking.store.work_nos import same_work_no


def _client(row: HisClientRow) -> HisClient:
    return HisClient(id=row.id, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at)


class SqlHis:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def add_client(self, name: str, token_hash: str, now: datetime) -> HisClient | None:
        taken = await self.tx.scalar(select(HisClientRow.id).where(HisClientRow.name == name))
        if taken is not None:
            return None
        row = HisClientRow(name=name, token_hash=token_hash, created_at=now)
        self.tx.add(row)
        await self.tx.flush()
        return _client(row)

    async def client_by_token(self, token_hash: str) -> HisClient | None:
        row = await self.tx.scalar(
            select(HisClientRow).where(
                HisClientRow.token_hash == token_hash, HisClientRow.revoked_at.is_(None)
            )
        )
        return None if row is None else _client(row)

    async def clients(self) -> list[HisClient]:
        rows = await self.tx.scalars(select(HisClientRow).order_by(HisClientRow.name))
        return [_client(r) for r in rows.all()]

    async def revoke(self, name: str, now: datetime) -> bool:
        done = await self.tx.execute(
            update(HisClientRow)
            .where(HisClientRow.name == name, HisClientRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(getattr(done, "rowcount", 0))

    async def places(self, f: PlaceFilter) -> list[PlaceView]:
        query = _places_query(f).order_by(
            ClinicSessionRow.visit_date, ClinicSessionRow.id, PlaceRow.queue_no
        )
        rows = (await self.tx.execute(query.offset(f.offset).limit(f.limit))).all()
        return [
            PlaceView(
                session=session_of(r),
                queue_no=r[4],
                starts_at=r[5],
                ends_at=r[6],
                status=PlaceStatus(r[7]),
            )
            for r in rows
        ]

    async def count_places(self, f: PlaceFilter) -> int:
        found = await self.tx.scalar(select(func.count()).select_from(_places_query(f).subquery()))
        return int(found or 0)

    async def horizons(self) -> list[Horizon]:
        rows = (
            await self.tx.execute(
                select(
                    HospitalRow.code,
                    DoctorRow.work_no,
                    func.min(ClinicSessionRow.visit_date),
                    func.max(ClinicSessionRow.visit_date),
                )
                .join(DoctorRow, DoctorRow.id == ClinicSessionRow.doctor_id)
                .join(HospitalRow, HospitalRow.id == ClinicSessionRow.hospital_id)
                .group_by(HospitalRow.code, DoctorRow.work_no)
            )
        ).all()
        return [Horizon(r[0], r[1], r[2], r[3]) for r in rows]


def _places_query(f: PlaceFilter) -> Select[Any]:
    query = (
        session_query()
        .add_columns(PlaceRow.queue_no, PlaceRow.starts_at, PlaceRow.ends_at, PlaceRow.status)
        .join(PlaceRow, PlaceRow.session_id == ClinicSessionRow.id)
    )
    if f.hospital_code:
        query = query.where(HospitalRow.code == f.hospital_code)
    if f.doctor_work_no:
        query = query.where(same_work_no(DoctorRow.work_no, f.doctor_work_no))
    if f.session_id is not None:
        query = query.where(ClinicSessionRow.id == f.session_id)
    if f.queue_no is not None:
        query = query.where(PlaceRow.queue_no == f.queue_no)
    if f.date_from:
        query = query.where(ClinicSessionRow.visit_date >= f.date_from)
    if f.date_to:
        query = query.where(ClinicSessionRow.visit_date <= f.date_to)
    if f.statuses is not None:
        query = query.where(PlaceRow.status.in_([s.value for s in f.statuses]))
    return query
