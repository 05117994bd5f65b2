"""Import from a HIS (`guahao his sync`), tested against our own /fhir running as a second
instance: a real uvicorn server of the whole application on 127.0.0.1, on its own SQLite
database with the demo hospitals. The hospital being filled holds only the two hospitals and
their clinic types at first (on SQLite and PostgreSQL); its bookings must survive every sync.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai on both sides.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from booking.appointments.book import book
from booking.appointments.listing import find_bookings
from booking.catalogue.model import Part
from booking.catalogue.ports import SessionFilter
from booking.clock import FixedClock
from booking.his.clients import add_client
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.doctors import remove_doctor
from booking.roster.duty import generate_sessions, import_catalogue
from booking.staff.audit import COMMAND_LINE
from booking.store import Database
from booking.store.migrations import create_schema
from bot import fhir_sync
from bot.app import create_app
from bot.fhir_sync import SyncFailed, sync
from bot.settings import Settings
from channels.fhir import DEPARTMENT, HOSPITAL, WORK_NO
from tests.support import SECRET, demo_catalogue, id_number

NOW = "2026-11-23T09:00:00+08:00"
GUAHAO = Path(sys.executable).parent / "guahao"


class Source:
    """The other instance: its base URL, a HIS client's token, and its database's URL."""

    def __init__(self, base: str, token: str, url: str) -> None:
        self.base, self.token, self.url = base, token, url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    folder = tmp_path_factory.mktemp("his")
    url = f"sqlite+aiosqlite:///{folder / 'his.sqlite3'}"
    settings = Settings(
        DATABASE_URL=url,
        GUAHAO_SECRET_KEY=SECRET,
        GUAHAO_NOW=NOW,
        GUAHAO_NLU_MODELS=folder / "models",
    )
    clock = FixedClock(settings.fixed_now)  # type: ignore[arg-type]

    async def load() -> str:
        db = Database(url)
        await create_schema(db)  # the lead's migration will bring his_clients
        await import_catalogue(db, demo_catalogue())
        await generate_sessions(db, clock)
        _, token = await add_client(db, clock, "hospital-b")
        await db.dispose()
        return token

    token = asyncio.run(load())
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not web.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the second instance did not start")
        time.sleep(0.05)
    try:
        yield Source(f"http://127.0.0.1:{port}/fhir", token, url)
    finally:
        web.should_exit = True
        thread.join(10)


@pytest.fixture
async def empty(db: Database) -> Database:
    """Our hospitals and clinic types, but no departments, doctors or sessions yet."""
    await import_catalogue(db, replace(demo_catalogue(), departments=(), doctors=()))
    return db


async def sessions_of(db: Database, clock: FixedClock) -> set[tuple[str, str, date, str, int]]:
    async with db(readonly=True) as uow:
        found = await uow.sessions.search(
            SessionFilter(date_from=date(2026, 11, 23), open_only=False), clock.now()
        )
    return {
        (a.session.hospital_code, a.session.doctor_work_no, a.session.visit_date,
         a.session.part.value, a.session.capacity)
        for a in found
    }  # fmt: skip


async def retitle(source: Source, title: str) -> None:
    """The HIS changes 张伟's title."""
    db = Database(source.url)
    try:
        async with db() as uow:
            await uow.tx.execute(
                text("UPDATE doctors SET title = :t WHERE work_no = '00868'"), {"t": title}
            )
            await uow.commit()
    finally:
        await db.dispose()


async def test_sync_fills_the_catalogue_and_sessions_and_leaves_bookings_alone(
    source: Source, empty: Database, clock: FixedClock, protector: Protector, tmp_path: Path
) -> None:
    report = await sync(empty, clock, source.base, source.token, COMMAND_LINE)
    demo = demo_catalogue()
    assert report.doctors_added == len(demo.doctors)
    assert report.departments_added == len({(d.hospital_code, d.department_code)
                                            for d in demo.doctors})  # fmt: skip
    assert report.sessions_created > 50 and report.sessions_kept == 0 and report.skipped == 0
    # The same sessions as the HIS has, from today on, with the same number of places.
    reference = Database(source.url)
    try:
        assert await sessions_of(empty, clock) == await sessions_of(reference, clock)
    finally:
        await reference.dispose()
    async with empty(readonly=True) as uow:
        catalogue = await uow.catalogue.load()
    zhang = next(d for d in catalogue.doctors if d.work_no == "00868" and d.hospital_code == "H01")
    assert (zhang.name, zhang.title, zhang.department_code, zhang.clinic_type) == (
        "张伟", "主任医师", "CARD", "expert",
    )  # fmt: skip

    # A booking here, then the HIS changes a doctor's title: only the doctor changes.
    patient = await register_patient(
        empty, protector, clock, name="王熙凤", id_number=id_number(1, born=date(1966, 6, 6)),
        phone="13600001111", in_person=True,
    )  # fmt: skip
    async with empty(readonly=True) as uow:
        [session] = await uow.sessions.find("H01", "00868", date(2026, 11, 25), Part.PM)
    receipt = await book(empty, clock, patient_id=patient.id, session_id=session.id, channel="web")
    await retitle(source, "主任医师、教授")
    try:
        again = await sync(empty, clock, source.base, source.token, COMMAND_LINE)
    finally:
        await retitle(source, "主任医师")  # the source serves the next test as it was
    assert (again.doctors_added, again.doctors_updated, again.sessions_created) == (0, 1, 0)
    assert again.sessions_kept == report.sessions_created
    async with empty(readonly=True) as uow:
        titles = {d.work_no: d.title for d in (await uow.catalogue.load()).doctors}
    assert titles["00868"] == "主任医师、教授"
    [view] = await find_bookings(empty, protector, booking_no=receipt.appointment.booking_no)
    assert view.status.value == "booked" and view.queue_no == receipt.appointment.queue_no
    async with empty(readonly=True) as uow:
        assert await uow.sessions.busy_places(session.id) == 1


async def test_a_wrong_token_or_address_fails_the_sync_and_changes_nothing(
    source: Source, empty: Database, clock: FixedClock
) -> None:
    with pytest.raises(SyncFailed, match="401"):
        await sync(empty, clock, source.base, "wrong", COMMAND_LINE)
    with pytest.raises(SyncFailed):
        await sync(empty, clock, "http://127.0.0.1:9/fhir", source.token, COMMAND_LINE)
    async with empty(readonly=True) as uow:
        assert (await uow.catalogue.load()).doctors == ()


def test_the_his_commands(source: Source, tmp_path: Path) -> None:
    """add-client prints a token once and keeps only its hash; sync reports counts."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"

    async def prepare() -> None:
        db = Database(url)
        await create_schema(db)
        await import_catalogue(db, replace(demo_catalogue(), departments=(), doctors=()))
        await db.dispose()

    asyncio.run(prepare())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUAHAO_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, GUAHAO_SECRET_KEY=SECRET, GUAHAO_NOW=NOW)

    def guahao(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = {"GUAHAO_HIS_TOKEN": token} if token else {}
        return subprocess.run(
            [str(GUAHAO), *args], cwd=tmp_path, env={**env, **extra},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    added = guahao("his", "add-client", "his-main")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    listed = guahao("his", "list-clients")
    assert "his-main" in listed.stdout and "active" in listed.stdout and token not in listed.stdout
    assert token not in Path(tmp_path / "cli.sqlite3").read_bytes().decode("latin-1")
    assert guahao("his", "add-client", "his-main").returncode == 1
    done = guahao("his", "sync", "--from", source.base, "--json", token=source.token)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["doctors_added"] == len(demo_catalogue().doctors)
    assert counts["sessions_created"] > 50
    refused = guahao("his", "sync", "--from", source.base, token="wrong")
    assert refused.returncode == 1 and "error: his_unreachable" in refused.stderr
    assert guahao("his", "revoke", "his-main").returncode == 0
    assert "active" not in guahao("his", "list-clients").stdout


async def test_a_doctor_removed_by_staff_is_not_brought_back_by_a_sync(
    source: Source, empty: Database, clock: FixedClock
) -> None:
    await sync(empty, clock, source.base, source.token, COMMAND_LINE)
    await remove_doctor(empty, clock, "H01", "00868", COMMAND_LINE)
    again = await sync(empty, clock, source.base, source.token, COMMAND_LINE)
    assert (again.doctors_removed_here, again.doctors_updated, again.sessions_created) == (1, 0, 0)
    async with empty(readonly=True) as uow:
        doctors = (await uow.catalogue.load()).doctors
    zhang = next(d for d in doctors if d.work_no == "00868" and d.hospital_code == "H01")
    assert not zhang.active


def _bundle(kind: str, resources: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
    links = [{"relation": "self", "url": f"http://his.test/fhir/{kind}"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [{"resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


def _practitioner(work_no: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": f"H01-{work_no}",
        "identifier": [{"system": WORK_NO, "value": work_no}],
        "name": [{"text": name}],
    }


SCHEDULE = {
    "resourceType": "Schedule",
    "id": "H01-77777",
    "actor": [
        {"reference": "Practitioner/H01-77777"},
        {"identifier": {"system": HOSPITAL, "value": "H01"}},
    ],
    "specialty": [{"coding": [{"system": DEPARTMENT, "code": "CARD", "display": "心血管内科"}]}],
}


def _his(pages: dict[str, dict[str, Any]], seen: list[httpx.Request]) -> httpx.MockTransport:
    """A HIS answering each path (with its query) from ``pages``."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        key = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=pages.get(key) or _bundle(key, [], None))

    return httpx.MockTransport(answer)


async def test_the_token_never_follows_a_next_link_to_another_server(
    empty: Database, clock: FixedClock
) -> None:
    seen: list[httpx.Request] = []
    elsewhere = "http://collector.example/fhir/Practitioner?page=2"
    pages = {"Practitioner": _bundle("Practitioner", [], elsewhere)}
    with pytest.raises(SyncFailed, match="another server"):
        await sync(empty, clock, "http://his.test/fhir", "secret-token", COMMAND_LINE,
                   transport=_his(pages, seen))  # fmt: skip
    assert {r.url.host for r in seen} == {"his.test"}


async def test_an_oversized_page_is_refused_unread(
    empty: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fhir_sync, "MAX_PAGE_BYTES", 2000)
    many = [_practitioner(f"{n:05d}", "医生") for n in range(100)]
    pages = {"Practitioner": _bundle("Practitioner", many, None)}
    with pytest.raises(SyncFailed, match="more than 2000 bytes"):
        await sync(empty, clock, "http://his.test/fhir", None, COMMAND_LINE,
                   transport=_his(pages, []))  # fmt: skip


async def test_data_the_catalogue_cannot_hold_fails_the_sync_and_changes_nothing(
    empty: Database, clock: FixedClock
) -> None:
    pages = {
        "Practitioner": _bundle(
            "Practitioner", [_practitioner("00001", "好"), _practitioner("77777", "长" * 80)], None
        ),
        "Schedule": _bundle(
            "Schedule", [{**SCHEDULE, "id": "H01-00001", "actor": [
                {"reference": "Practitioner/H01-00001"}, *SCHEDULE["actor"][1:]]}, SCHEDULE],
            None,
        ),
    }  # fmt: skip
    with pytest.raises(SyncFailed, match="name is empty or longer than 50"):
        await sync(empty, clock, "http://his.test/fhir", None, COMMAND_LINE,
                   transport=_his(pages, []))  # fmt: skip
    async with empty(readonly=True) as uow:
        catalogue = await uow.catalogue.load()
    assert catalogue.doctors == () and catalogue.departments == ()


async def test_a_sync_leaves_each_hospitals_own_clinic_fees_alone(
    source: Source, empty: Database, clock: FixedClock
) -> None:
    """Clinic types are kept per hospital: a sync adding doctors rewrites none of them."""
    change = "UPDATE clinic_types SET registration_fee_fen = 777 WHERE code = 'expert' AND "
    change += "hospital_id = (SELECT id FROM hospitals WHERE code = 'H02')"
    fees = "SELECT h.code, t.registration_fee_fen FROM clinic_types t JOIN hospitals h "
    fees += "ON h.id = t.hospital_id WHERE t.code = 'expert' ORDER BY h.code"
    async with empty() as uow:
        await uow.tx.execute(text(change))
        await uow.commit()
        before = (await uow.tx.execute(text(fees))).all()
    assert [tuple(r) for r in before][1] == ("H02", 777)
    report = await sync(empty, clock, source.base, source.token, COMMAND_LINE)
    assert report.doctors_added == len(demo_catalogue().doctors)
    async with empty(readonly=True) as uow:
        after = (await uow.tx.execute(text(fees))).all()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
