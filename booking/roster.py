"""Loading the catalogue and generating the duty roster (排班) from weekly templates."""

from __future__ import annotations

from booking.catalogue import Catalogue
from booking.clock import Clock
from booking.ports import ImportReport, UnitOfWorkFactory
from booking.schedule import local_now, plan_sessions


async def import_catalogue(uows: UnitOfWorkFactory, catalogue: Catalogue) -> ImportReport:
    """Insert or update hospitals, departments, doctors and templates; safe to run again."""
    async with uows() as uow:
        report = await uow.catalogue.upsert(catalogue)
        await uow.commit()
    return report


async def generate_sessions(uows: UnitOfWorkFactory, clock: Clock, extra_days: int = 0) -> int:
    """Create the sessions of every doctor's templates for the booking window (and
    ``extra_days`` more), from today on. Existing sessions are left as they are."""
    now = clock.now()
    created = 0
    async with uows() as uow:
        catalogue = await uow.catalogue.load()
        hospitals = {h.code: h for h in catalogue.hospitals}
        for doctor in catalogue.doctors:
            if not doctor.active or not doctor.templates:
                continue
            hospital = hospitals[doctor.hospital_code]
            today = local_now(now, hospital.timezone).date()
            planned = plan_sessions(
                doctor.templates, today, hospital.policy.window_days + extra_days
            )
            created += await uow.sessions.ensure(hospital.code, doctor.work_no, planned, now)
        await uow.commit()
    return created
