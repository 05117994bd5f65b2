"""Pulling the hospital's blacklist from its server (a real HTTP server on 127.0.0.1 in a
thread), on SQLite and PostgreSQL: a good answer is synced; an HTTP error, a web page, a body
too large or an empty answer where the list had entries is reported as failed and the list
stays; the "pull now" button of /admin/blacklist; the scheduled pull tries again next round;
`guahao blacklist import` and `pull` on the command line.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import backoffice
from booking.clock import FixedClock
from booking.files.blacklist import read_list
from booking.patients.blacklist import ListFetcher, latest_syncs, pull
from booking.patients.model import SyncStatus
from booking.protect import Protector
from booking.staff.audit import COMMAND_LINE
from booking.staff.model import Role
from booking.store import Database, create_schema
from bot.blacklist_pull import http_list
from bot.runtime.housework import pull_blacklist
from bot.runtime.rounds import every
from tests.office import PASSWORDS, audit_rows, signed_in_as, staff
from tests.support import SECRET, id_number

BORN = date(1966, 6, 8)  # nobody else's birthday in the tests
A, B, C = (id_number(n, born=BORN) for n in (21, 22, 23))
HEADER = "id_number,reason,from,until"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/csv; charset=utf-8"
    seen: list[str] = field(default_factory=list)  # the Authorization headers that came


@pytest.fixture
def server() -> Iterator[tuple[str, Answer]]:
    """The hospital's list server: answers whatever the test sets in the Answer."""
    answer = Answer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer.seen.append(self.headers.get("Authorization", ""))
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: object) -> None:
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{web.server_address[1]}/blacklist.csv", answer
    finally:
        web.shutdown()
        web.server_close()


def listing(*numbers: str) -> bytes:
    return "\n".join([HEADER, *(f"{n},倒号,2026-11-01," for n in numbers)]).encode()


async def on_list(db: Database) -> int:
    async with db(readonly=True) as uow:
        return len(await uow.blacklist.hospital_entries())


async def test_a_good_answer_is_synced_and_bad_ones_leave_the_list(
    db: Database, clock: FixedClock, protector: Protector, server: tuple[str, Answer]
) -> None:
    url, answer = server
    fetch = http_list(url, token="hospital-key")
    answer.body = listing(A, B)
    report = await pull(db, clock, protector, fetch, read=read_list, actor=COMMAND_LINE)
    assert (report.status, report.added) == (SyncStatus.APPLIED, 2)
    assert answer.seen == ["Bearer hospital-key"]

    failures = [
        (Answer(500, b"Internal Server Error", "text/plain"), "http_500"),
        (Answer(404, b"", "text/plain"), "http_404"),
        (Answer(200, b"<html><body>Please log in</body></html>", "text/html"), "html"),
        (Answer(200, b"  <!DOCTYPE html><p>proxy error", "text/plain"), "html"),
        (Answer(200, b""), "empty"),
        (Answer(200, HEADER.encode()), "empty"),  # a bare header where there were entries
        (Answer(200, b"\x00\x01\x02" * 100, "application/octet-stream"), "encoding"),
    ]
    for given, problem in failures:
        answer.status, answer.body, answer.content_type = (
            given.status,
            given.body,
            given.content_type,
        )
        report = await pull(db, clock, protector, fetch, read=read_list, actor=COMMAND_LINE)
        assert (report.status, report.failure) == (SyncStatus.FAILED, problem), problem
        assert await on_list(db) == 2, problem

    answer.status, answer.body, answer.content_type = 200, listing(B, C), "text/csv"
    report = await pull(db, clock, protector, fetch, read=read_list, actor=COMMAND_LINE)
    assert (report.added, report.removed, report.unchanged) == (1, 1, 1)
    syncs = await latest_syncs(db, 20)
    assert [r.status for r in syncs[:2]] == [SyncStatus.APPLIED, SyncStatus.FAILED]
    audited = [r for r in await audit_rows(db) if r["action"] == "blacklist.sync"]
    assert len(audited) == len(failures) + 2
    assert audited[1]["after"] == {
        "origin": "pull", "status": "failed", "rows": 0, "added": 0, "updated": 0,
        "removed": 0, "unchanged": 0, "rejected": 0, "failure": "http_500",
    }  # fmt: skip
    assert audited[1]["address"] == "cli"


async def test_xlsx_by_content_type_and_too_large_or_unreachable_answers(
    db: Database, clock: FixedClock, protector: Protector, server: tuple[str, Answer]
) -> None:
    import io

    from openpyxl import Workbook

    url, answer = server
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["身份证号", "原因", "开始日期", "结束日期"])
    sheet.append([A, "倒号", "2026-11-01", None])
    buffer = io.BytesIO()
    book.save(buffer)
    answer.body = buffer.getvalue()
    answer.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    report = await pull(db, clock, protector, http_list(url), read=read_list, actor=COMMAND_LINE)
    assert (report.status, report.added) == (SyncStatus.APPLIED, 1)

    answer.body, answer.content_type = listing(B) + b"\n" * 2000, "text/csv"
    small = http_list(url, max_bytes=1000)
    report = await pull(db, clock, protector, small, read=read_list, actor=COMMAND_LINE)
    assert (report.status, report.failure) == (SyncStatus.FAILED, "too_large")

    closed = http_list("http://127.0.0.1:9/blacklist.csv")  # the discard port: refused
    report = await pull(db, clock, protector, closed, read=read_list, actor=COMMAND_LINE)
    assert (report.status, report.failure) == (SyncStatus.FAILED, "unreachable")
    assert await on_list(db) == 1


@dataclass
class PullingServices:
    """The application's services as bot.runtime.services gives them, with a list server."""

    uows: Database
    clock: FixedClock
    protector: Protector
    blacklist_pull: ListFetcher | None


async def test_the_pull_now_button(
    demo: Database, clock: FixedClock, protector: Protector, server: tuple[str, Answer]
) -> None:
    url, answer = server
    await staff(demo, clock, "admin", Role.ADMIN)
    app = FastAPI()
    services = PullingServices(demo, clock, protector, http_list(url))
    app.include_router(
        backoffice.router(lambda: services, passwords=PASSWORDS, secure_cookies=False)
    )
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://office.test") as client:
        csrf = await signed_in_as(client, "admin")
        page = await client.get("/admin/blacklist")
        assert "立即从医院拉取" in page.text
        answer.body = listing(A, B, C)
        done = await client.post("/admin/blacklist/pull", data={"csrf": csrf})
        assert done.status_code == 303
        page = await client.get(done.headers["location"])
        assert "已同步 applied" in page.text and "新增 added 3" in page.text
        assert "自动拉取 pull" in page.text and "<td>admin</td>" in page.text

        answer.status, answer.body = 502, b"Bad Gateway"
        done = await client.post("/admin/blacklist/pull", data={"csrf": csrf})
        page = await client.get(done.headers["location"])
        assert "failed: nothing changed" in page.text and "服务器回应 HTTP 502" in page.text
        assert "医院黑名单 The hospital's list (3)" in page.text
        assert url not in page.text  # the address may hold a key
    assert await on_list(demo) == 3


async def test_the_scheduled_pull_tries_again_next_round(
    db: Database, clock: FixedClock, protector: Protector, server: tuple[str, Answer]
) -> None:
    url, answer = server
    answer.status, answer.body = 503, b"down for maintenance"
    services = PullingServices(db, clock, protector, None)
    pull = partial(pull_blacklist, services, http_list(url))  # type: ignore[arg-type]
    rounds = asyncio.create_task(every(0.05, "pull the blacklist", pull))
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if any(r.status is SyncStatus.FAILED for r in await latest_syncs(db)):
                break
        answer.status, answer.body = 200, listing(A)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if await on_list(db) == 1:
                break
    finally:
        rounds.cancel()
        with pytest.raises(asyncio.CancelledError):
            await rounds
    statuses = [r.status for r in reversed(await latest_syncs(db, 100))]
    assert statuses[0] is SyncStatus.FAILED and SyncStatus.APPLIED in statuses
    assert await on_list(db) == 1


def test_the_command_line(tmp_path: Path, server: tuple[str, Answer]) -> None:
    from bot.cli import app

    url, answer = server
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"

    async def schema() -> None:
        db = Database(database)
        await create_schema(db)
        await db.dispose()

    asyncio.run(schema())
    env = {
        "DATABASE_URL": database,
        "GUAHAO_SECRET_KEY": SECRET,
        "GUAHAO_NOW": "2026-11-23T09:00:00+08:00",
    }
    runner = CliRunner()
    good = tmp_path / "list.csv"
    good.write_bytes(listing(A, B))
    done = runner.invoke(app, ["blacklist", "import", str(good)], env=env)
    assert done.exit_code == 0, done.output
    assert "applied: 2 rows, 2 added" in done.output

    bad = tmp_path / "bad.csv"
    bad.write_bytes(listing(A) + f"\n{A[:-1]}Q,倒号,2026-11-01,".encode())
    done = runner.invoke(app, ["blacklist", "import", str(bad)], env=env)
    assert done.exit_code == 1
    assert "第 3 行 row 3, 身份证号 ID number" in done.output
    assert "error: list_rejected: 1 rows are wrong: nothing was changed" in done.output
    assert A[:-1] not in done.output

    header_only = tmp_path / "header.csv"
    header_only.write_bytes(listing())
    done = runner.invoke(app, ["blacklist", "import", str(header_only)], env=env)
    assert done.exit_code == 1
    assert "error: removal_unconfirmed: this list would remove 2 of the hospital's 2" in (
        done.output
    )
    assert "--confirm-removal" in done.output
    confirmed = ["blacklist", "import", "--confirm-removal", str(header_only)]
    done = runner.invoke(app, confirmed, env=env)
    assert done.exit_code == 0, done.output
    assert "applied: 0 rows, 0 added, 0 updated, 2 removed" in done.output
    done = runner.invoke(app, ["blacklist", "import", str(good)], env=env)
    assert done.exit_code == 0 and "2 added" in done.output

    answer.body = listing(C)
    done = runner.invoke(app, ["blacklist", "pull", url, "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert '"added": 1' in done.output and '"removed": 2' in done.output
    done = runner.invoke(app, ["blacklist", "pull"], env=env)
    assert done.exit_code == 1 and "error: no_url" in done.output


async def test_two_syncs_at_once_name_each_person_once(
    db: Database, clock: FixedClock, protector: Protector
) -> None:
    """A scheduled pull and an upload may meet: they take turns, and the second finds the
    first's entries unchanged (no one twice, no failed transaction)."""
    from booking.patients.blacklist import sync_file
    from booking.patients.model import ListFile, SyncOrigin

    copy = ListFile(listing(A, B, C))
    reports = await asyncio.gather(
        *(
            sync_file(
                db,
                clock,
                protector,
                copy,
                origin=SyncOrigin.IMPORT,
                read=read_list,
                actor=COMMAND_LINE,
            )
            for _ in range(3)
        )
    )
    assert sorted((r.added, r.unchanged) for r in reports) == [(0, 3), (0, 3), (3, 0)]
    assert await on_list(db) == 3


async def test_a_pull_that_would_lift_most_of_the_list_changes_nothing(
    db: Database, clock: FixedClock, protector: Protector, server: tuple[str, Answer]
) -> None:
    """A server that answers part of its list (a half-written export) must not lift the bans
    of everyone missing from it; staff may still apply such a list by uploading it."""
    from booking.patients.blacklist import sync_file
    from booking.patients.model import ListFile, SyncOrigin

    many = [id_number(n, born=BORN) for n in range(30, 50)]
    url, answer = server
    fetch = http_list(url)
    answer.body = listing(*many)
    assert (await pull(db, clock, protector, fetch, read=read_list, actor=COMMAND_LINE)).added == 20
    answer.body = listing(*many[:9])  # 11 of 20 gone
    report = await pull(db, clock, protector, fetch, read=read_list, actor=COMMAND_LINE)
    assert (report.status, report.failure, report.removed) == (SyncStatus.FAILED, "shrank", 0)
    assert await on_list(db) == 20
    answer.body = listing(*many[:10])  # half gone: a list may change that much
    report = await pull(db, clock, protector, fetch, read=read_list, actor=COMMAND_LINE)
    assert (report.status, report.removed) == (SyncStatus.APPLIED, 10)
    uploaded = ListFile(listing(*many[:2]))
    report = await sync_file(  # staff are asked first
        db, clock, protector, uploaded, origin=SyncOrigin.UPLOAD, read=read_list, actor=COMMAND_LINE
    )
    assert (report.status, report.failure, report.removed) == (
        SyncStatus.HELD,
        "confirm_removal",
        8,
    )
    assert await on_list(db) == 10
    report = await sync_file(
        db, clock, protector, uploaded, origin=SyncOrigin.UPLOAD, read=read_list,
        actor=COMMAND_LINE,
        removals_confirmed=8,
    )  # fmt: skip
    assert (report.status, report.removed) == (SyncStatus.APPLIED, 8)
    assert await on_list(db) == 2
