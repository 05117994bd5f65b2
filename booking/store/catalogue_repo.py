"""The catalogue in the database: read as a whole, written by upsert (safe to repeat)."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.catalogue.model import (
    Catalogue,
    ClinicType,
    Department,
    Doctor,
    DutyTemplate,
    Hospital,
    Part,
)
from booking.catalogue.policy import BookingPolicy
from booking.catalogue.ports import ImportReport
from booking.store.tables.catalogue import (
    ClinicTypeRow,
    DepartmentRow,
    DoctorRow,
    DutyTemplateRow,
    HospitalRow,
)
from booking.store.work_nos import same_work_no


def _hours_out(hours: dict[Part, tuple[time, time]]) -> dict[str, Any]:
    return {p.value: [a.strftime("%H:%M"), b.strftime("%H:%M")] for p, (a, b) in hours.items()}


def _hours_in(raw: dict[str, Any]) -> dict[Part, tuple[time, time]]:
    return {Part(p): (time.fromisoformat(a), time.fromisoformat(b)) for p, (a, b) in raw.items()}


def hospital_of(row: HospitalRow) -> Hospital:
    return Hospital(
        id=row.id,
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        timezone=row.timezone,
        aliases=tuple(row.aliases),
        policy=BookingPolicy.from_dict(row.policy),
        part_hours=_hours_in(row.part_hours),
    )


def department_of(row: DepartmentRow, hospital_code: str) -> Department:
    return Department(
        id=row.id,
        hospital_code=hospital_code,
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        aliases=tuple(row.aliases),
        bookable=row.bookable,
        min_age=row.min_age,
        max_age=row.max_age,
    )


class SqlCatalogue:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def load(self) -> Catalogue:
        hospitals = {r.id: r for r in (await self.tx.scalars(select(HospitalRow))).all()}
        codes = {i: r.code for i, r in hospitals.items()}
        types = (await self.tx.scalars(select(ClinicTypeRow))).all()
        departments = (await self.tx.scalars(select(DepartmentRow))).all()
        dept_codes = {d.id: d.code for d in departments}
        type_codes = {t.id: t.code for t in types}
        templates: dict[int, list[DutyTemplate]] = {}
        for t in (await self.tx.scalars(select(DutyTemplateRow))).all():
            templates.setdefault(t.doctor_id, []).append(
                DutyTemplate(weekday=t.weekday, part=Part(t.part), capacity=t.capacity)
            )
        doctors = (await self.tx.scalars(select(DoctorRow).order_by(DoctorRow.work_no))).all()
        return Catalogue(
            clinic_types={
                t.code: ClinicType(
                    t.code, t.name_zh, t.name_en, t.registration_fee_fen, t.consultation_fee_fen
                )
                for t in types
            },
            hospitals=tuple(hospital_of(r) for r in hospitals.values()),
            departments=tuple(department_of(d, codes[d.hospital_id]) for d in departments),
            doctors=tuple(
                Doctor(
                    id=d.id,
                    hospital_code=codes[d.hospital_id],
                    department_code=dept_codes[d.department_id],
                    work_no=d.work_no,
                    name=d.name,
                    name_en=d.name_en,
                    title=d.title,
                    clinic_type=type_codes[d.clinic_type_id],
                    specialties=tuple(d.specialties),
                    templates=tuple(
                        sorted(templates.get(d.id, []), key=lambda t: (t.weekday, t.part))
                    ),
                    active=d.active,
                )
                for d in doctors
            ),
        )

    async def hospital_and_department(
        self, hospital_code: str, department_code: str
    ) -> tuple[Hospital, Department] | None:
        row = (
            await self.tx.execute(
                select(HospitalRow, DepartmentRow)
                .join(DepartmentRow, DepartmentRow.hospital_id == HospitalRow.id)
                .where(HospitalRow.code == hospital_code, DepartmentRow.code == department_code)
            )
        ).first()
        if row is None:
            return None
        return hospital_of(row[0]), department_of(row[1], hospital_code)

    async def upsert(self, catalogue: Catalogue) -> ImportReport:
        counts = {"hospitals": 0, "departments": 0, "doctors": 0, "templates": 0}
        hospital_ids: dict[str, int] = {}
        for h in catalogue.hospitals:
            row = await self.tx.scalar(select(HospitalRow).where(HospitalRow.code == h.code))
            if row is None:
                row = HospitalRow(code=h.code)
                self.tx.add(row)
            row.name_zh, row.name_en, row.timezone = h.name_zh, h.name_en, h.timezone
            row.aliases = list(h.aliases)
            row.policy = h.policy.to_dict()
            row.part_hours = _hours_out(h.part_hours)
            await self.tx.flush()
            hospital_ids[h.code] = row.id
            counts["hospitals"] += 1
        type_ids: dict[tuple[int, str], int] = {}
        for hid in hospital_ids.values():
            for t in catalogue.clinic_types.values():
                trow = await self.tx.scalar(
                    select(ClinicTypeRow).where(
                        ClinicTypeRow.hospital_id == hid, ClinicTypeRow.code == t.code
                    )
                )
                if trow is None:
                    trow = ClinicTypeRow(hospital_id=hid, code=t.code)
                    self.tx.add(trow)
                trow.name_zh, trow.name_en = t.name_zh, t.name_en
                trow.registration_fee_fen = t.registration_fee_fen
                trow.consultation_fee_fen = t.consultation_fee_fen
                await self.tx.flush()
                type_ids[(hid, t.code)] = trow.id
        dept_ids: dict[tuple[str, str], int] = {}
        for d in catalogue.departments:
            hid = hospital_ids[d.hospital_code]
            drow = await self.tx.scalar(
                select(DepartmentRow).where(
                    DepartmentRow.hospital_id == hid, DepartmentRow.code == d.code
                )
            )
            if drow is None:
                drow = DepartmentRow(hospital_id=hid, code=d.code)
                self.tx.add(drow)
            drow.name_zh, drow.name_en, drow.bookable = d.name_zh, d.name_en, d.bookable
            drow.aliases = list(d.aliases)
            drow.min_age, drow.max_age = d.min_age, d.max_age
            await self.tx.flush()
            dept_ids[(d.hospital_code, d.code)] = drow.id
            counts["departments"] += 1
        for doc in catalogue.doctors:
            hid = hospital_ids[doc.hospital_code]
            row_doc = await self.tx.scalar(
                select(DoctorRow).where(
                    DoctorRow.hospital_id == hid, same_work_no(DoctorRow.work_no, doc.work_no)
                )
            )
            if row_doc is None:
                row_doc = DoctorRow(hospital_id=hid, work_no=doc.work_no)
                self.tx.add(row_doc)
            row_doc.department_id = dept_ids[(doc.hospital_code, doc.department_code)]
            row_doc.name, row_doc.name_en, row_doc.title = doc.name, doc.name_en, doc.title
            row_doc.clinic_type_id = type_ids[(hid, doc.clinic_type)]
            row_doc.specialties = list(doc.specialties)
            row_doc.active = doc.active
            await self.tx.flush()
            counts["doctors"] += 1
            existing = {
                (t.weekday, t.part): t
                for t in (
                    await self.tx.scalars(
                        select(DutyTemplateRow).where(DutyTemplateRow.doctor_id == row_doc.id)
                    )
                ).all()
            }
            wanted = {(t.weekday, t.part.value): t for t in doc.templates}
            for key, trow_old in existing.items():
                if key not in wanted:
                    await self.tx.delete(trow_old)
            for key, duty in wanted.items():
                tpl = existing.get(key)
                if tpl is None:
                    self.tx.add(
                        DutyTemplateRow(
                            doctor_id=row_doc.id,
                            weekday=duty.weekday,
                            part=duty.part.value,
                            capacity=duty.capacity,
                        )
                    )
                else:
                    tpl.capacity = duty.capacity
                counts["templates"] += 1
        await self.tx.flush()
        return ImportReport(**counts)
