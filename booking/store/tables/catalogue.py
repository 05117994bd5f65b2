"""The hospital's catalogue and timetable: hospitals, clinic types, departments, doctors,
their duty templates, the clinic sessions and the places (queue numbers) in them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base


class HospitalRow(Base):
    __tablename__ = "hospitals"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[list[str]]
    policy: Mapped[dict[str, Any]]
    part_hours: Mapped[dict[str, Any]]


class ClinicTypeRow(Base):
    __tablename__ = "clinic_types"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    code: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100))
    registration_fee_fen: Mapped[int]
    consultation_fee_fen: Mapped[int]


class DepartmentRow(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    code: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]]
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    min_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DoctorRow(Base):
    __tablename__ = "doctors"
    __table_args__ = (UniqueConstraint("hospital_id", "work_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    work_no: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(50))
    clinic_type_id: Mapped[int] = mapped_column(ForeignKey("clinic_types.id"))
    specialties: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DutyTemplateRow(Base):
    __tablename__ = "duty_templates"
    __table_args__ = (UniqueConstraint("doctor_id", "weekday", "part"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    weekday: Mapped[int]
    part: Mapped[str] = mapped_column(String(8))
    capacity: Mapped[int]


class ClinicSessionRow(Base):
    __tablename__ = "clinic_sessions"
    __table_args__ = (
        UniqueConstraint("doctor_id", "visit_date", "part"),
        Index("ix_clinic_sessions_department_date", "department_id", "visit_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    part: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    clinic_type: Mapped[str] = mapped_column(String(16))
    registration_fee_fen: Mapped[int]
    consultation_fee_fen: Mapped[int]
    created_at: Mapped[datetime]


class PlaceRow(Base):
    """One place in a session: queue number n and its time window (a FHIR Slot)."""

    __tablename__ = "places"
    __table_args__ = (
        UniqueConstraint("session_id", "queue_no"),
        Index("ix_places_session_status", "session_id", "status", "queue_no"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    queue_no: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24))
