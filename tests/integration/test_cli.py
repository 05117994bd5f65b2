"""The ``guahao`` command line, run for real as a subprocess on SQLite and PostgreSQL.

The clock is fixed with GUAHAO_NOW at Monday 23 November 2026, 09:00 in Shanghai. Each
subprocess costs about a second, so each test walks through a whole story.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.support import POSTGRES_URL, SECRET, id_number, postgres_schema_outside_loop

GUAHAO = Path(sys.executable).parent / "guahao"
NOW = "2026-11-23T09:00:00+08:00"
# Not the README's demo numbers, which `guahao roster` prints in its how-to-book hint.
ID_ZHANG = id_number(6)
ID_LI = id_number(7)
ID_WANG = id_number(8)
FULL_IDS = (ID_ZHANG, ID_LI, ID_WANG)
ZHANG_MASKED = ID_ZHANG[:4] + "*" * 10 + ID_ZHANG[-4:]
PHONE = "13912345678"

# One doctor with a single place every morning, so that a session is full after one booking.
TINY_HOSPITAL = """
clinic_types:
  general: {zh: 普通门诊, en: General clinic, registration_fee: 1, consultation_fee: 10}
hospitals:
  - code: H09
    zh: 小医院
    en: Tiny Hospital
    departments:
      - {code: GENM, zh: 全科, en: General Medicine}
    doctors:
      - {work_no: "90001", name: 钱进, dept: GENM, title: 主治医师, clinic: general,
         sessions: [1am, 2am, 3am, 4am, 5am, 6am, 7am], capacity: 1}
"""


class Cli:
    """Runs ``guahao`` with one database, checking what every run must never do."""

    def __init__(self, workdir: Path, database_url: str, schema: str | None = None) -> None:
        self.workdir = workdir
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GUAHAO_", "DATABASE_URL"))
        }
        self.env.update(
            DATABASE_URL=database_url,
            GUAHAO_SECRET_KEY=SECRET,
            GUAHAO_NOW=NOW,
            GUAHAO_LOG_LEVEL="INFO",
        )
        if schema:
            self.env["GUAHAO_DB_SCHEMA"] = schema

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(GUAHAO), *args],
            cwd=self.workdir,  # away from any .env of the checkout
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = done.stdout + done.stderr
        assert "Traceback" not in output, output
        for number in FULL_IDS:
            assert number not in output, f"full ID number printed by {args[:2]}"
        assert PHONE not in output, f"full phone number printed by {args[:2]}"
        return done

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def refused(self, *args: str) -> str:
        """The single ``error: reason: message`` line of a refused command."""
        done = self.run(*args)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error: "), lines[0]
        return lines[0]


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")


def booking_story(cli: Cli) -> None:
    """Set up, register, book, list, transfer, cancel: the same on every database."""
    assert "database schema is up to date" in cli.ok("db", "upgrade")
    first, again = cli.json("demo", "load"), cli.json("demo", "load")
    assert first["sessions_created"] > 0 and again["sessions_created"] == 0
    counts = ("hospitals", "departments", "doctors", "templates")
    assert [first[k] for k in counts] == [again[k] for k in counts]
    assert first["doctors"] >= 22

    patient = cli.json(
        "patients", "add", "--name", "张三", "--id-number", ID_ZHANG, "--phone", PHONE
    )
    assert patient["id_masked"] == ZHANG_MASKED
    assert patient["phone_masked"] == "139****5678"

    booked = cli.json(
        "book", "--id-number", ID_ZHANG, "--doctor", "00868", "--date", "2026-11-25", "--part", "pm"
    )
    assert booked["status"] == "booked" and booked["doctor_work_no"] == "00868"
    assert booked["queue_no"] == 1 and booked["expected_time"] == "2026-11-25T13:30:00+08:00"

    listed = cli.json("bookings", "list", "--id-number", ID_ZHANG)
    assert isinstance(listed, list) and len(listed) == 1
    entry = listed[0]
    required = {
        "booking_no": booked["booking_no"],
        "status": "booked",
        "patient_name": "张三",
        "patient_id_masked": ZHANG_MASKED,
        "doctor_work_no": "00868",
        "department_code": "CARD",
        "hospital_code": "H01",
        "visit_date": "2026-11-25",
        "part": "pm",
        "queue_no": 1,
        "expected_time": "2026-11-25T13:30:00+08:00",
        "registration_fee": "1.00",
        "consultation_fee": "50.00",
        "channel": "desk",
        "created_at": NOW,
    }
    assert {k: entry[k] for k in required} == required

    moved = cli.json("transfer", booked["booking_no"], "--date", "2026-11-27", "--part", "am")
    assert (moved["visit_date"], moved["part"], moved["status"]) == ("2026-11-27", "am", "booked")
    cancelled = cli.json("cancel", booked["booking_no"])
    assert cancelled["status"] == "cancelled" and cancelled["refund_due"] is True


def test_cli_story_on_sqlite(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    booking_story(cli)

    roster = cli.ok("roster")
    assert "2026-11-23 Mon" in roster and "张伟" in roster and "心血管内科" in roster
    assert "guahao book --id-number" in roster
    assert re.search(r"after registering 张三 there: GHDH\d{5},11\d{6},张三", roster)

    bad = ID_ZHANG[:-1] + ("1" if ID_ZHANG[-1] != "1" else "2")  # wrong check digit
    error = cli.refused("patients", "add", "--name", "李四", "--id-number", bad, "--phone", PHONE)
    assert error.startswith("error: invalid_id_number:") and "checksum" in error

    # 停诊: the hospital stops the session; the booking on it is cancelled, marked for refund.
    wednesday = ("--doctor", "00868", "--date", "2026-11-25", "--part", "pm")
    text = cli.ok("book", "--id-number", ID_ZHANG, *wednesday)
    assert "Booked." in text and ZHANG_MASKED in text and "1.00 + 50.00 = 51.00" in text
    [booking] = cli.json("bookings", "list", "--status", "booked")
    stopped = cli.json("sessions", "stop", str(booking["session_id"]), "--reason", "医生出差")
    assert stopped["cancelled_bookings"] == [booking["booking_no"]]
    [after] = cli.json("bookings", "list", "--booking-no", booking["booking_no"])
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "hospital_stop")


def test_cli_refusals_on_sqlite(sqlite_cli: Cli, tmp_path: Path) -> None:
    cli = sqlite_cli
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(TINY_HOSPITAL, encoding="utf-8")
    assert cli.json("demo", "load", "--file", str(tiny))["sessions_created"] == 8  # migrates too
    for name, number in (("李四", ID_LI), ("王五", ID_WANG)):
        cli.ok("patients", "add", "--name", name, "--id-number", number, "--phone", PHONE)
    tuesday = ("--doctor", "90001", "--date", "2026-11-24", "--part", "am")
    assert "Booked." in cli.ok("book", "--id-number", ID_LI, *tuesday)

    assert cli.refused("book", "--id-number", ID_WANG, *tuesday) == (
        "error: slot_full: this session is fully booked"
    )
    unknown = cli.refused("book", "--id-number", ID_WANG, "--doctor", "99999", *tuesday[2:])
    assert unknown.startswith("error: unknown_doctor:")
    past = cli.refused(
        "book", "--id-number", ID_WANG, *tuesday[:2], "--date", "2026-11-20", "--part", "am"
    )
    assert past.startswith("error: past_date:")
    afternoon = cli.refused("book", "--id-number", ID_WANG, *tuesday[:4], "--part", "pm")
    assert afternoon.startswith("error: no_session:")

    # Every refusal is in the operation-error log: operation and reason, no personal data.
    with closing(sqlite3.connect(tmp_path / "x.sqlite3")) as db:
        logged = db.execute("SELECT operation, reason, detail FROM operation_errors").fetchall()
    assert [(op, reason) for op, reason, _ in logged] == [
        ("book", "slot_full"),
        ("book", "unknown_doctor"),
        ("book", "past_date"),
        ("book", "no_session"),
    ]
    assert all(json.loads(detail) == {} for _, _, detail in logged)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    with postgres_schema_outside_loop("cli") as schema:
        yield schema


@pytest.mark.postgres
def test_cli_story_on_postgres(tmp_path: Path, postgres_schema: str) -> None:
    booking_story(Cli(tmp_path, POSTGRES_URL, schema=postgres_schema))
