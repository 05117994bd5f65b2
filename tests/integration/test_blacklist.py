"""The hospital's blacklist (B6) through /admin/blacklist, on SQLite and PostgreSQL: uploads of
CSV and XLSX replace exactly the hospital's entries and say what changed; a copy with bad rows
or a broken file changes nothing and says which rows and why; no-show bans stay beside them;
a synced entry refuses booking and its removal lets the patient book again; each role is
denied what it must not do; reports and the audit log hold no ID numbers.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai.
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime

import httpx
import pytest
from openpyxl import Workbook

from backoffice.blacklist_routes import MAX_UPLOAD
from booking.appointments.book import book
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import Blacklisted
from booking.patients.identity import mask_id_number
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.staff.model import Role
from booking.store import Database
from tests.office import as_text, audit_rows, csrf_of, office, signed_in_as, staff
from tests.spreadsheets import blank_rows_xlsx
from tests.support import id_number

BORN = date(1966, 6, 6)  # nobody else's birthday in the tests
A, B, C, D = (id_number(n, born=BORN) for n in (11, 12, 13, 14))
NOSHOW_PERSON = id_number(15, born=BORN)
WED = date(2026, 11, 25)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_of(*rows: str, header: str = "身份证号,原因,开始日期,结束日期") -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def damaged_xlsx() -> bytes:
    """A workbook whose sheet's XML was cut off: a real zip, a broken list."""
    book_ = Workbook()
    sheet = book_.active
    assert sheet is not None
    sheet.append(["身份证号", "开始日期"])
    whole, cut = io.BytesIO(), io.BytesIO()
    book_.save(whole)
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[: len(data) // 2] if "sheet1" in name else data)
    return cut.getvalue()


@pytest.fixture
async def admins(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    return demo


async def upload(
    client: httpx.AsyncClient,
    csrf: str,
    data: bytes,
    name: str = "list.csv",
    fields: dict[str, str] | None = None,
) -> httpx.Response:
    kind = XLSX if name.endswith(".xlsx") else "text/csv"
    answer = await client.post(
        "/admin/blacklist/upload",
        data={"csrf": csrf, **(fields or {})},
        files={"file": (name, data, kind)},
    )
    return answer


async def synced(
    client: httpx.AsyncClient,
    csrf: str,
    data: bytes,
    name: str = "list.csv",
    fields: dict[str, str] | None = None,
) -> str:
    """Uploads; the page the upload leads to."""
    answer = await upload(client, csrf, data, name, fields)
    assert answer.status_code == 303, answer.text
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200
    return page.text


async def hospital_hashes(db: Database) -> dict[str, str]:
    async with db(readonly=True) as uow:
        return {e.id_hash: e.reason for e in await uow.blacklist.hospital_entries()}


def hashes(protector: Protector, *numbers: str) -> set[str]:
    return {protector.lookup_hash("id", n) for n in numbers}


async def test_upload_csv_then_a_second_sync_says_what_changed(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    ban = BlacklistEntry(
        protector.lookup_hash("id", NOSHOW_PERSON), BlacklistSource.NOSHOW, "爽约3次", WED, None
    )
    async with admins() as uow:
        await uow.blacklist.add(ban, clock.now())
        await uow.commit()
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        first = csv_of(
            f"{A},倒号,2026-11-01,",
            f"{B},冒用他人身份,2026/11/02,2027-11-01",
            f"{C},倒号,2026年11月3日,",
        )
        page = await synced(client, csrf, first)
        assert "已同步 applied" in page
        assert (
            "读取 rows 3 · 新增 added 3 · 更新 updated 0 · 移除 removed 0 · 未变 unchanged 0"
            in page
        )
        assert mask_id_number(A) in page and mask_id_number(B) in page
        assert A not in page and B not in page  # masked only
        assert "冒用他人身份" in page and "2027-11-01" in page
        assert "爽约3次" in page  # the no-show ban beside them
        assert await hospital_hashes(admins) == {
            protector.lookup_hash("id", A): "倒号",
            protector.lookup_hash("id", B): "冒用他人身份",
            protector.lookup_hash("id", C): "倒号",
        }

        # B leaves the list, D joins, C's reason changes, A stays as it was.
        second = csv_of(
            f"{A},倒号,2026-11-01,", f"{C},倒号、爽约,2026-11-03,", f"{D},倒号,2026-11-20,"
        )
        page = await synced(client, csrf, second)
        assert (
            "读取 rows 3 · 新增 added 1 · 更新 updated 1 · 移除 removed 1 · 未变 unchanged 1"
            in page
        )
        assert (
            mask_id_number(B) not in page.split("医院黑名单 The hospital")[1].split("爽约限制")[0]
        )
    assert set(await hospital_hashes(admins)) == hashes(protector, A, C, D)
    async with admins(readonly=True) as uow:  # syncs leave the no-show ban alone
        assert [e.source for e in await uow.blacklist.entries(ban.id_hash)] == [
            BlacklistSource.NOSHOW
        ]
    syncs = [r for r in await audit_rows(admins) if r["action"] == "blacklist.sync"]
    assert [r["after"]["added"] for r in syncs] == [3, 1]
    assert syncs[1]["after"] == {
        "origin": "upload",
        "status": "applied",
        "rows": 3,
        "added": 1,
        "updated": 1,
        "removed": 1,
        "unchanged": 1,
        "rejected": 0,
    }
    assert syncs[1]["username"] == "admin"
    logged = as_text(await audit_rows(admins))
    for number in (A, B, C, D):
        assert number not in logged and mask_id_number(number) not in logged
    assert "倒号" not in logged


async def test_xlsx_upload_with_english_header_and_excel_dates(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    book_ = Workbook()
    sheet = book_.active
    assert sheet is not None
    sheet.append(["ID number", "Reason", "From", "Until"])
    sheet.append([A, "ticket scalping", datetime(2026, 11, 1), datetime(2026, 12, 31)])
    sheet.append([None, None, None, None])  # blank rows are skipped
    sheet.append([B, None, date(2026, 11, 5), None])
    buffer = io.BytesIO()
    book_.save(buffer)
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = await synced(client, csrf, buffer.getvalue(), "list.xlsx")
    assert "读取 rows 2 · 新增 added 2" in page
    assert "2026-12-31" in page and "ticket scalping" in page
    async with admins(readonly=True) as uow:
        entries = {e.id_hash: e for e in await uow.blacklist.hospital_entries()}
    a = entries[protector.lookup_hash("id", A)]
    assert (a.starts_on, a.until, a.id_masked) == (
        date(2026, 11, 1),
        date(2026, 12, 31),
        mask_id_number(A),
    )
    assert entries[protector.lookup_hash("id", B)].until is None


async def test_bad_rows_are_reported_and_nothing_is_changed(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    wrong_digit = A[:-1] + ("0" if A[-1] != "0" else "1")
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await synced(client, csrf, csv_of(f"{A},倒号,2026-11-01,", f"{B},倒号,2026-11-01,"))
        bad = csv_of(
            f"{C},倒号,2026-11-01,",  # row 2: fine
            f"{wrong_digit},倒号,2026-11-01,",  # row 3
            f"{D},倒号,,",  # row 4: no start
            f"{C},倒号,2026-11-01,",  # row 5: C again
            f"{D},倒号,2026-11-30,2026-11-01",  # row 6: ends before it starts
            f"{D},倒号,next monday,",  # row 7
        )
        page = await synced(client, csrf, bad)
    assert "rejected: bad rows, nothing changed" in page
    assert "错误行 rejected 5" in page
    assert "第 3 行 row 3, 身份证号 ID number: 校验位错误 wrong check digit" in page
    assert "第 4 行 row 4, 开始日期 from: 为空 empty" in page
    assert "第 5 行 row 5, 身份证号 ID number: 与第 2 行重复 repeats row 2" in page
    assert "第 6 行 row 6, 结束日期 until: 早于开始日期 before the start" in page
    assert "第 7 行 row 7, 开始日期 from: 不是日期" in page
    assert wrong_digit not in page
    # Nothing half-applied: A and B are still on the list, C (a good row) was not added.
    assert set(await hospital_hashes(admins)) == hashes(protector, A, B)
    [last] = [r for r in await audit_rows(admins) if r["action"] == "blacklist.sync"][-1:]
    assert last["after"]["status"] == "rejected" and last["after"]["rejected"] == 5


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"", "文件或回应为空"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "收到的是网页"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Excel"),
        (b"PK\x03\x04 not really a zip", "不是有效的 XLSX"),
        (damaged_xlsx(), "不是有效的 XLSX"),  # was a 500: openpyxl's XML ParseError
        (b"name,phone\nzhang,138\n", "表头缺少"),
    ],
)
async def test_a_broken_file_fails_and_the_list_stays(
    admins: Database, clock: FixedClock, protector: Protector, data: bytes, shown: str
) -> None:
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await synced(client, csrf, csv_of(f"{A},倒号,2026-11-01,"))
        page = await synced(client, csrf, data)
    assert "failed: nothing changed" in page and shown in page
    assert set(await hospital_hashes(admins)) == hashes(protector, A)


async def test_an_xlsx_that_would_unpack_to_gigabytes_is_refused_unread(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", b"\0" * (80 * 1024 * 1024))  # ~80 KB packed
    assert len(bomb.getvalue()) < 1024 * 1024
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await synced(client, csrf, csv_of(f"{A},倒号,2026-11-01,"))
        page = await synced(client, csrf, bomb.getvalue(), "list.xlsx")
    assert "failed: nothing changed" in page and "unpacks to more" in page
    assert set(await hospital_hashes(admins)) == hashes(protector, A)


async def test_excel_number_cells_for_id_numbers_are_refused(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    book_ = Workbook()
    sheet = book_.active
    assert sheet is not None
    sheet.append(["身份证号", "开始日期"])
    sheet.append([int(A[:15]), "2026-11-01"])  # what Excel makes of a number typed in
    buffer = io.BytesIO()
    book_.save(buffer)
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = await synced(client, csrf, buffer.getvalue(), "list.xlsx")
    assert "第 2 行 row 2, 身份证号 ID number: Excel 数字单元格" in page
    assert await hospital_hashes(admins) == {}


async def test_a_header_only_upload_empties_the_list_only_once_staff_confirm_the_count(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    """A header alone (a failed export) lifted every ban at once. Now the upload is held, the
    page says how many entries it would remove, and staff apply it by uploading the file
    again with the box ticked (a pull never applies it: see test_blacklist_pull)."""
    header_only = csv_of(header="id_number,reason,from,until")
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await synced(client, csrf, csv_of(f"{A},倒号,2026-11-01,", f"{B},倒号,2026-11-01,"))
        page = await synced(client, csrf, header_only)
        assert "held: nothing changed until confirmed" in page
        assert "This file would remove 2 of the 2 entries" in page
        assert 'name="confirm_removal" value="2" required' in page
        assert set(await hospital_hashes(admins)) == hashes(protector, A, B)
        # A box ticked for fewer than it lifts is held again.
        page = await synced(client, csrf, header_only, fields={"confirm_removal": "1"})
        assert "held: nothing changed" in page
        assert set(await hospital_hashes(admins)) == hashes(protector, A, B)
        page = await synced(client, csrf, header_only, fields={"confirm_removal": "2"})
        assert "已同步 applied" in page and "移除 removed 2" in page
    assert await hospital_hashes(admins) == {}
    syncs = [r["after"] for r in await audit_rows(admins) if r["action"] == "blacklist.sync"]
    assert [(s["status"], s["removed"]) for s in syncs] == [
        ("applied", 0), ("held", 2), ("held", 2), ("applied", 2)
    ]  # fmt: skip


async def test_an_xlsx_of_blank_rows_is_refused_early_and_changes_nothing(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    """A small XLSX of hundreds of thousands of blank rows under a header was read to its
    end (4 million: 88 s) and taken for an empty list. Rows read are counted, blank or not."""
    blank = blank_rows_xlsx(300_000)
    assert len(blank) < MAX_UPLOAD
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await synced(client, csrf, csv_of(f"{A},倒号,2026-11-01,"))
        started = time.monotonic()
        page = await synced(client, csrf, blank, "list.xlsx")
        took = time.monotonic() - started
    assert "failed: nothing changed" in page and "too many rows" in page
    assert took < 60  # about 3 s alone; reading all 300,000 took far longer
    assert set(await hospital_hashes(admins)) == hashes(protector, A)


async def test_a_synced_entry_refuses_booking_and_its_removal_lets_them_book(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    patient = await register_patient(
        admins, protector, clock, name="黎明", id_number=A, phone="13987650071"
    )
    [offer] = await search_sessions(
        admins, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await synced(client, csrf, csv_of(f"{A},倒号,2026-11-01,", f"{B},倒号,2026-11-01,"))
        with pytest.raises(Blacklisted):
            await book(
                admins, clock, patient_id=patient.id, session_id=offer.session.id, channel="phone"
            )
        await synced(client, csrf, csv_of(f"{B},倒号,2026-11-01,"))
    receipt = await book(
        admins, clock, patient_id=patient.id, session_id=offer.session.id, channel="phone"
    )
    assert receipt.appointment.patient_id == patient.id


@pytest.mark.parametrize("username", ["desk", "cardio"])
async def test_other_roles_may_not_see_upload_or_pull(
    admins: Database, clock: FixedClock, protector: Protector, username: str
) -> None:
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, username)
        home = await client.get("/admin/")
        assert "/admin/blacklist" not in home.text
        assert (await client.get("/admin/blacklist")).status_code == 403
        assert (await upload(client, csrf, csv_of(f"{A},倒号,2026-11-01,"))).status_code == 403
        answer = await client.post("/admin/blacklist/pull", data={"csrf": csrf})
        assert answer.status_code == 403
    denied = [r for r in await audit_rows(admins) if r["action"] == "denied"]
    assert [(r["username"], r["target"], r["after"]) for r in denied] == [
        (username, "GET /admin/blacklist", {"why": "manage_blacklist"}),
        (username, "POST /admin/blacklist/upload", {"why": "manage_blacklist"}),
        (username, "POST /admin/blacklist/pull", {"why": "manage_blacklist"}),
    ]
    assert await hospital_hashes(admins) == {}


async def test_an_upload_without_the_csrf_field_is_refused(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(admins, clock, protector) as client:
        await signed_in_as(client, "admin")
        answer = await upload(client, "forged", csv_of(f"{A},倒号,2026-11-01,"))
        assert answer.status_code == 403
        page = await client.get("/admin/blacklist")
        assert "尚未同步 No sync yet" in page.text and "上传并同步" in page.text
        assert "立即从医院拉取" not in page.text  # no URL configured: no pull button
        assert csrf_of(page.text)
    [denied] = [r for r in await audit_rows(admins) if r["action"] == "denied"]
    assert denied["after"] == {"why": "csrf"}
    assert await hospital_hashes(admins) == {}


async def test_an_upload_over_2_mb_is_refused(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    big = csv_of(*[f"{A},{'x' * 100},2026-11-01," for _ in range(25_000)])
    assert len(big) > 2 * 1024 * 1024
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        assert (await upload(client, csrf, big)).status_code == 413
    assert await hospital_hashes(admins) == {}


async def test_the_lists_are_paged(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    numbers = [id_number(n, born=date(1966, 6, 7)) for n in range(60)]
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = await synced(client, csrf, csv_of(*[f"{n},倒号,2026-11-01," for n in numbers]))
        assert "医院黑名单 The hospital's list (60)" in page
        assert page.count("<td>倒号</td>") == 50 and "hp=2" in page
        second = await client.get("/admin/blacklist?hp=2")
        assert second.text.count("<td>倒号</td>") == 10


async def test_a_csv_saved_by_excel_in_china_is_read(
    admins: Database, clock: FixedClock, protector: Protector
) -> None:
    """Excel saves CSV in the system's code page (GBK) and may use semicolons elsewhere."""
    data = f"身份证号;原因;开始日期\r\n{A};倒号;2026-11-01\r\n".encode("gb18030")
    async with office(admins, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = await synced(client, csrf, data)
    assert "新增 added 1" in page and "<td>倒号</td>" in page
    assert set(await hospital_hashes(admins)) == hashes(protector, A)
