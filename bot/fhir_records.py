"""The booking read models as channels.fhir's neutral records, with the ids of the FHIR
resources (channels.fhir_search)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from booking.appointments.model import BookingView
from booking.catalogue.model import yuan
from booking.his.reads import DoctorCard, ScheduleView, SlotView
from channels.fhir import AppointmentRecord, DoctorRecord, ScheduleRecord, SlotRecord, Where
from channels.fhir_search import doctor_id

SHANGHAI = ZoneInfo("Asia/Shanghai")


def doctor_record(card: DoctorCard) -> DoctorRecord:
    d, clinic = card.doctor, card.clinic_type
    return DoctorRecord(
        id=doctor_id(card.hospital.code, d.work_no),
        work_no=d.work_no,
        name=d.name,
        name_en=d.name_en,
        title=d.title,
        active=d.active,
        where=Where(
            hospital_code=card.hospital.code,
            hospital_name=card.hospital.name_zh,
            department_code=card.department.code,
            department_name=card.department.name_zh,
            clinic_type=d.clinic_type,
            clinic_type_name=clinic.name_zh if clinic else d.clinic_type,
        ),
    )


def schedule_record(view: ScheduleView) -> ScheduleRecord:
    h = view.horizon
    return ScheduleRecord(doctor_record(view.card), h.first if h else None, h.last if h else None)


def slot_record(view: SlotView) -> SlotRecord:
    p, zone = view.place, ZoneInfo(view.card.hospital.timezone)
    return SlotRecord(
        id=f"{p.session.id}-{p.queue_no}",
        doctor=doctor_record(view.card),
        queue_no=p.queue_no,
        start=p.starts_at.astimezone(zone),
        end=p.ends_at.astimezone(zone),
        status=p.status.value,
        registration_fee=yuan(p.session.registration_fee_fen),
        consultation_fee=yuan(p.session.consultation_fee_fen),
    )


def appointment_record(v: BookingView) -> AppointmentRecord:
    return AppointmentRecord(
        booking_no=v.booking_no,
        status=v.status.value,
        slot_id=f"{v.session_id}-{v.queue_no}",
        doctor_id=doctor_id(v.hospital_code, v.doctor_work_no),
        doctor_name=v.doctor_name,
        department_code=v.department_code,
        department_name=v.department_name_zh,
        patient_name=v.patient_name,
        start=v.expected_time.astimezone(SHANGHAI),
        end=v.window_end.astimezone(SHANGHAI),
        created=v.created_at.astimezone(SHANGHAI),
        queue_no=v.queue_no,
    )
