"""`guahao his sync --from URL`: Practitioner, Schedule and Slot pulled from a HIS's FHIR
server, page by page through the Bundles' next links, and handed to booking.his.sync."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from booking.catalogue.model import fen
from booking.catalogue.schedule import local_now
from booking.clock import Clock
from booking.errors import InvalidInput
from booking.his.sync import HisDoctor, HisPlace, SyncReport, sync_from_his
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from channels.fhir_in import (
    DoctorIn,
    FhirInvalid,
    ScheduleIn,
    bundle_page,
    doctor_in,
    read_json,
    schedule_in,
    slot_in,
)

MAX_PAGES = 1_000  # a server whose next links go round in circles is stopped
MAX_PAGE_BYTES = 16 * 1024 * 1024  # one Bundle page; a larger answer is refused unread
MAX_RESOURCES = 200_000  # of one kind: two years of places of a large hospital
TIMEOUT = httpx.Timeout(60, connect=10)


class SyncFailed(Exception):
    """The HIS could not be read: unreachable, refused, or not FHIR."""


def _origin(url: str) -> tuple[str, str, int | None]:
    u = httpx.URL(url)
    return u.scheme, u.host, u.port


async def _page(client: httpx.AsyncClient, url: str) -> bytes:
    """One answer's body, read up to MAX_PAGE_BYTES (whatever Content-Length claims)."""
    async with client.stream("GET", url) as answer:
        if answer.status_code != 200:
            raise SyncFailed(f"{url}: HTTP {answer.status_code}")
        body = bytearray()
        async for chunk in answer.aiter_bytes():
            body.extend(chunk)
            if len(body) > MAX_PAGE_BYTES:
                raise SyncFailed(f"{url}: a page of more than {MAX_PAGE_BYTES} bytes")
        return bytes(body)


async def _all(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every page's resources. The next links must stay on the HIS's own server: the bearer
    token goes with every request, and a link elsewhere would hand it to a stranger."""
    found: list[dict[str, Any]] = []
    following: str | None = url
    for _ in range(MAX_PAGES):
        if following is None:
            return found
        if _origin(following) != _origin(url):
            raise SyncFailed(f"{url}: a next link leads to another server; not followed")
        try:
            resources, following = bundle_page(read_json(await _page(client, following)))
        except FhirInvalid as error:
            raise SyncFailed(f"{url}: {error}") from None
        found.extend(resources)
        if len(found) > MAX_RESOURCES:
            raise SyncFailed(f"{url}: more than {MAX_RESOURCES} resources")
    raise SyncFailed("too many pages")


async def pull(
    base: str,
    token: str | None,
    since: date,
    *,
    default_hospital: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[list[HisDoctor], list[HisPlace]]:
    """The HIS's doctors (with the department and clinic type of their schedule) and the
    places of its sessions from ``since`` on."""
    base = base.rstrip("/")
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # Redirects are not followed (httpx's default, said here on purpose): the token stays
    # with the server it was given for.
    async with httpx.AsyncClient(
        headers=headers, transport=transport, timeout=TIMEOUT, follow_redirects=False
    ) as client:
        try:
            practitioners = await _all(client, f"{base}/Practitioner?_count=500")
            schedules = await _all(client, f"{base}/Schedule?_count=500")
            slots = await _all(client, f"{base}/Slot?start=ge{since.isoformat()}&_count=500")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise SyncFailed(f"{base}: {type(error).__name__}") from None
    try:
        by_id = {d.id: d for d in (doctor_in(p) for p in practitioners) if d is not None}
        schedule_of: dict[str, ScheduleIn] = {}
        for raw in schedules:
            s = schedule_in(raw)
            if s is not None and raw.get("id"):
                schedule_of[raw["id"]] = s
        doctors: dict[str, HisDoctor] = {}
        for s in schedule_of.values():
            d = by_id.get(s.practitioner_id)
            hospital = s.hospital_code or default_hospital
            if d is not None and hospital is not None:
                doctors[d.id] = _doctor(d, s, hospital)
        places = []
        for raw in slots:
            slot = slot_in(raw)
            s = schedule_of.get(slot.schedule_id) if slot else None
            doctor = doctors.get(s.practitioner_id) if s else None
            if slot is None or doctor is None:
                continue
            places.append(
                HisPlace(
                    doctor.hospital_code,
                    doctor.work_no,
                    slot.start,
                    fen(slot.registration_fee) if slot.registration_fee is not None else None,
                    fen(slot.consultation_fee) if slot.consultation_fee is not None else None,
                )
            )
    except FhirInvalid as error:
        raise SyncFailed(str(error)) from None
    return list(doctors.values()), places


def _doctor(d: DoctorIn, s: ScheduleIn, hospital: str) -> HisDoctor:
    return HisDoctor(
        hospital_code=hospital,
        work_no=d.work_no,
        name=d.name,
        name_en=d.name_en,
        title=d.title,
        department_code=s.department_code,
        department_name=s.department_name,
        clinic_type=s.clinic_type,
        clinic_type_name=s.clinic_type_name,
        active=d.active,
    )


async def sync(
    uows: UnitOfWorkFactory[HospitalWork],
    clock: Clock,
    base: str,
    token: str | None,
    by: Actor,
    *,
    default_hospital: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SyncReport:
    since = local_now(clock.now(), "Asia/Shanghai").date()  # the hospitals' today
    doctors, places = await pull(
        base, token, since, default_hospital=default_hospital, transport=transport
    )
    try:
        return await sync_from_his(uows, clock, doctors, places, by)
    except InvalidInput as error:  # nothing was saved
        raise SyncFailed(f"{base}: {error.message}") from None
