"""The port for the back office's work on doctors and the roster (B2): a doctor's record and
weekly templates written one at a time, and the day sheet of sessions with their counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from booking.appointments.ports import AppointmentWork
from booking.catalogue.model import Doctor, DutyTemplate, Part
from booking.catalogue.ports import SessionFilter
from booking.catalogue.schedule import ClinicSession


@dataclass(frozen=True)
class SessionLine:
    """A session on the registration desk's sheet, with what its places are doing."""

    session: ClinicSession
    booked: int  # bookings holding a place (booked, arrived, seen, or a no-show)
    cancelled: int  # bookings cancelled (by the patient, by staff, or by a stop)
    free: int  # places free, whether or not their time has passed
    held: int  # places held for the first in the waitlist (候补)


class DoctorRepository(Protocol):
    async def doctor(
        self, hospital_code: str, work_no: str, *, lock: bool = False
    ) -> Doctor | None:
        """The hospital's doctor with this work number, with their templates. ``lock``
        holds the row until the unit of work ends (two administrators take turns)."""
        ...

    async def active_doctor(self, hospital_code: str, work_no: str) -> Doctor | None:
        """The doctor if still active, their row held shared until the unit of work ends:
        sessions generated from it cannot cross a removal (which takes the row alone)."""
        ...

    async def add(self, doctor: Doctor) -> Doctor | None:
        """The doctor added (with its id); None when its hospital, department or clinic type
        is unknown. Raises WorkNoTaken when any hospital of the group has this work number:
        adds take turns, so two at once cannot both pass the check."""
        ...

    async def update(self, doctor: Doctor) -> bool:
        """Saves the department, names, title, clinic type, specialties and whether the
        doctor is active (not the templates); False when the department or clinic type is
        unknown."""
        ...

    async def put_template(self, doctor_id: int, template: DutyTemplate) -> DutyTemplate | None:
        """Adds the weekly duty, or changes its capacity; the duty it replaced, if any."""
        ...

    async def remove_template(
        self, doctor_id: int, weekday: int, part: Part
    ) -> DutyTemplate | None:
        """The duty removed; None when there was none."""
        ...

    async def sheet(self, f: SessionFilter) -> list[SessionLine]:
        """Sessions (open and stopped unless ``f.open_only``) by start and doctor."""
        ...


class RosterWork(AppointmentWork, Protocol):
    doctors: DoctorRepository
