"""Booking benchmark (issue 2, item 8): throughput and latency of the real ``book`` use case on
SQLite and PostgreSQL, checked for correctness after every run.

Run from the repository root:

    .venv/bin/python bench/booking.py                  # full run, rewrites docs/benchmarks.md
    .venv/bin/python bench/booking.py --quick          # smaller smoke run, prints only
    .venv/bin/python bench/booking.py --quick --sqlite-only
    make bench

Scenarios, on each database (SQLite: a fresh file in a temporary directory with the
application's durable settings; PostgreSQL: a throwaway schema, pool of at most 20):

- spread: 10,000 bookings by distinct patients over 500 sessions, 32 concurrent tasks;
- hot:    1,000 attempts by distinct patients, all launched at once, on one 50-place session.

Exit status 1 when a correctness check fails; missed speed targets only show in the table
(add ``--strict`` to fail on them too).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

# Run as a script, this file's folder comes first on sys.path, and this file (booking.py)
# would shadow the ``booking`` package it measures.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_and_memory, load_average, now_line, system_and_python  # noqa: E402
from booking.appointments.book import book  # noqa: E402
from booking.appointments.listing import find_bookings  # noqa: E402
from booking.appointments.model import ACTIVE  # noqa: E402
from booking.catalogue.model import (  # noqa: E402
    Catalogue,
    ClinicType,
    Department,
    Doctor,
    DutyTemplate,
    Hospital,
    Part,
)
from booking.catalogue.ports import SessionFilter  # noqa: E402
from booking.catalogue.schedule import ClinicSession, local_now  # noqa: E402
from booking.clock import FixedClock  # noqa: E402
from booking.errors import BookingError  # noqa: E402
from booking.patients.identity import mask_phone, parse_id_number, parse_mobile  # noqa: E402
from booking.patients.ports import NewPatient  # noqa: E402
from booking.protect import Protector  # noqa: E402
from booking.roster.duty import generate_sessions, import_catalogue  # noqa: E402
from booking.store import Database, create_schema  # noqa: E402
from tests.support import MONDAY_9AM, many_id_numbers, postgres_database  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin (written by bench/booking.py) -->", "<!-- bench:end -->"
HOSPITAL, HOT_DOCTOR = "BENCH", "HOT01"
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋"


@dataclass(frozen=True)
class Plan:
    doctors: int  # each holds one morning session Tuesday to Sunday: 6 sessions a week
    capacity: int  # places per spread session
    sessions: int  # spread sessions used
    bookings: int  # spread bookings, one per patient, evenly over the sessions
    hot_places: int
    hot_attempts: int
    concurrency: int
    warmup: int  # untimed bookings on spare sessions first, so that statement caches are warm


FULL = Plan(100, 24, 500, 10_000, 50, 1_000, 32, 64)
QUICK = Plan(10, 24, 50, 500, 50, 200, 32, 40)


@dataclass
class Outcome:
    database: str
    scenario: str
    attempts: int
    seconds: float
    latencies: list[float]
    booked: int
    refused: Counter[str]
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.attempts / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


# ---------------------------------------------------------------- setting the scene (untimed)


def bench_catalogue(plan: Plan) -> Catalogue:
    general = ClinicType("general", "普通门诊", "General clinic", 100, 1000)
    hospital = Hospital(code=HOSPITAL, name_zh="基准测试医院", name_en="Benchmark Hospital")
    departments = [Department(HOSPITAL, f"D{d:02d}", f"科室{d}", f"Dept {d}") for d in range(10)]
    departments.append(Department(HOSPITAL, "HOT", "热门科室", "Hot department"))
    week = tuple(DutyTemplate(weekday=w, part=Part.AM, capacity=plan.capacity) for w in range(2, 8))
    doctors = [
        Doctor(
            HOSPITAL,
            f"D{n % 10:02d}",
            f"B{n:04d}",
            f"医生{n}",
            f"Doctor {n}",
            "主治医师",
            "general",
            templates=week,
        )
        for n in range(plan.doctors)
    ]
    # Wednesday afternoon: inside the window seen from Monday 09:00, every place still ahead.
    hot = DutyTemplate(weekday=3, part=Part.PM, capacity=plan.hot_places)
    doctors.append(
        Doctor(
            HOSPITAL,
            "HOT",
            HOT_DOCTOR,
            "名医",
            "Famous Doctor",
            "主任医师",
            "general",
            templates=(hot,),
        )
    )
    return Catalogue(
        clinic_types={"general": general},
        hospitals=(hospital,),
        departments=tuple(departments),
        doctors=tuple(doctors),
    )


async def register_patients(
    db: Database, protector: Protector, clock: FixedClock, count: int
) -> list[int]:
    """Distinct real-name patients, checked and encrypted by the domain code exactly as
    ``register_patient`` does, but saved 500 to a transaction to keep the set-up short."""
    now = clock.now()
    today = local_now(now, "Asia/Shanghai").date()
    numbers = many_id_numbers(count)
    ids: list[int] = []
    for start in range(0, count, 500):
        async with db() as uow:
            for k in range(start, min(start + 500, count)):
                resident = parse_id_number(numbers[k], today=today)
                mobile = parse_mobile(f"139{k:08d}")
                name = SURNAMES[k % 10] + GIVEN[k // 10 % 10] + GIVEN[k // 100 % 10]
                patient = await uow.patients.add(
                    NewPatient(
                        name=name,
                        id_hash=protector.lookup_hash("id", resident.number),
                        id_cipher=protector.encrypt(resident.number),
                        id_masked=resident.masked,
                        birth_date=resident.birth_date,
                        sex=resident.sex.value,
                        phone_hash=protector.lookup_hash("phone", mobile),
                        phone_cipher=protector.encrypt(mobile),
                        phone_masked=mask_phone(mobile),
                    ),
                    now,
                )
                ids.append(patient.id)
            await uow.commit()
    return ids


async def prepare(
    db: Database, protector: Protector, clock: FixedClock, plan: Plan
) -> tuple[list[ClinicSession], list[ClinicSession], ClinicSession, list[int]]:
    """Catalogue, sessions and patients; returns spread sessions, spare ones, hot, patients."""
    await import_catalogue(db, bench_catalogue(plan))
    await generate_sessions(db, clock)
    async with db(readonly=True) as uow:
        found = await uow.sessions.search(SessionFilter(hospital_code=HOSPITAL), clock.now())
    hot = [a.session for a in found if a.session.doctor_work_no == HOT_DOCTOR]
    others = [a.session for a in found if a.session.doctor_work_no != HOT_DOCTOR]
    if len(hot) != 1 or len(others) < plan.sessions:
        raise SystemExit(f"catalogue gave {len(others)} sessions and {len(hot)} hot ones")
    patients = await register_patients(
        db, protector, clock, plan.warmup + plan.bookings + plan.hot_attempts
    )
    return others[: plan.sessions], others[plan.sessions :], hot[0], patients


# ---------------------------------------------------------------------------------- the runs


async def run_spread(
    db: Database, clock: FixedClock, jobs: list[tuple[int, int]], concurrency: int
) -> tuple[float, list[float], Counter[str], list[tuple[int, int]]]:
    """``concurrency`` tasks book ``jobs`` (patient, session) one after the other."""
    queue: Iterator[tuple[int, int]] = iter(jobs)
    latencies: list[float] = []
    refused: Counter[str] = Counter()
    places: list[tuple[int, int]] = []

    async def worker() -> None:
        for patient_id, session_id in queue:
            started = perf_counter()
            try:
                receipt = await book(
                    db, clock, patient_id=patient_id, session_id=session_id, channel="bench"
                )
            except BookingError as exc:
                refused[exc.reason] += 1
            except Exception as exc:  # counted, so that the check below fails and says why
                refused[f"error {type(exc).__name__}: {exc}"[:120]] += 1
            else:
                places.append((session_id, receipt.place.queue_no))
            latencies.append(perf_counter() - started)

    started = perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return perf_counter() - started, latencies, refused, places


async def spread(
    name: str,
    db: Database,
    protector: Protector,
    clock: FixedClock,
    plan: Plan,
    sessions: list[ClinicSession],
    spare: list[ClinicSession],
    patients: list[int],
) -> Outcome:
    warm = [(p, spare[i % len(spare)].id) for i, p in enumerate(patients[: plan.warmup])]
    await run_spread(db, clock, warm, plan.concurrency)
    mine = patients[plan.warmup : plan.warmup + plan.bookings]
    jobs = [(p, sessions[i % len(sessions)].id) for i, p in enumerate(mine)]
    seconds, latencies, refused, places = await run_spread(db, clock, jobs, plan.concurrency)
    outcome = Outcome(name, "spread", len(jobs), seconds, latencies, len(places), refused)
    p = outcome.problems
    if refused:
        p.append(f"{sum(refused.values())} bookings failed: {dict(refused)}")
    # What the store says, not what the calls returned.
    views = await find_bookings(
        db, protector, hospital_code=HOSPITAL, statuses=ACTIVE, limit=10 * len(jobs)
    )
    queue_nos: dict[int, list[int]] = defaultdict(list)
    for v in views:
        queue_nos[v.session_id].append(v.queue_no)
    each = plan.bookings // plan.sessions
    stored = sum(len(queue_nos[s.id]) for s in sessions)
    if stored != len(places):
        p.append(f"{len(places)} bookings returned a receipt, the store holds {stored}")
    short = 0
    async with db(readonly=True) as uow:
        for s in sessions:
            held = queue_nos[s.id]
            busy = await uow.sessions.busy_places(s.id)
            if len(held) > s.capacity or busy > s.capacity:
                p.append(f"session {s.id} over capacity: {len(held)} bookings, {busy} busy")
            elif len(set(held)) != len(held) or busy != len(held):
                p.append(f"session {s.id}: queue numbers {sorted(held)}, {busy} places busy")
            elif len(held) != each:
                short += 1
    if short:
        p.append(f"{short} sessions hold fewer than {each} bookings (the failed ones above)")
    return outcome


async def hot(
    name: str,
    db: Database,
    protector: Protector,
    clock: FixedClock,
    plan: Plan,
    session: ClinicSession,
    patients: list[int],
) -> Outcome:
    """Every attempt launched at the same instant; latency is counted from that instant, as
    a patient pressing the button when the day is released would see it."""

    async def attempt(patient_id: int) -> tuple[float, int | None, str | None]:
        try:
            receipt = await book(
                db, clock, patient_id=patient_id, session_id=session.id, channel="bench"
            )
        except BookingError as exc:
            return perf_counter() - launched, None, exc.reason
        except Exception as exc:
            return perf_counter() - launched, None, f"error {type(exc).__name__}: {exc}"[:120]
        return perf_counter() - launched, receipt.place.queue_no, None

    launched = perf_counter()
    results = await asyncio.gather(*(attempt(p) for p in patients))
    seconds = perf_counter() - launched
    got = sorted(q for _, q, _ in results if q is not None)
    refused = Counter(r for _, _, r in results if r is not None)
    outcome = Outcome(
        name, "hot", len(patients), seconds, [t for t, _, _ in results], len(got), refused
    )
    p, places = outcome.problems, list(range(1, plan.hot_places + 1))
    if got != places:
        p.append(f"{len(got)} booked (expected {plan.hot_places}); queue numbers {got[:60]}")
    if set(refused) - {"slot_full"}:
        p.append(f"refusals other than slot_full: {dict(refused)}")
    views = await find_bookings(db, protector, doctor_work_no=HOT_DOCTOR, statuses=ACTIVE)
    stored = sorted(v.queue_no for v in views)
    async with db(readonly=True) as uow:
        busy = await uow.sessions.busy_places(session.id)
    if stored != places or busy != plan.hot_places:
        p.append(f"store holds queue numbers {stored[:60]} and {busy} busy places")
    return outcome


async def measure(name: str, db: Database, plan: Plan, say: Callable[[str], None]) -> list[Outcome]:
    clock, protector = FixedClock(MONDAY_9AM), Protector("benchmark-secret-key-not-for-use")
    started = perf_counter()
    sessions, spare, hot_session, patients = await prepare(db, protector, clock, plan)
    say(f"{name}: set up {len(patients)} patients in {perf_counter() - started:.1f} s")
    hot_patients = patients[plan.warmup + plan.bookings :]
    results = [await spread(name, db, protector, clock, plan, sessions, spare, patients)]
    say(line(results[-1]))
    results.append(await hot(name, db, protector, clock, plan, hot_session, hot_patients))
    say(line(results[-1]))
    return results


async def on_sqlite(plan: Plan, say: Callable[[str], None]) -> tuple[list[Outcome], str]:
    with tempfile.TemporaryDirectory(prefix="guahao-bench-") as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
        try:
            await create_schema(db)
            return await measure("SQLite", db, plan, say), sqlite3.sqlite_version
        finally:
            await db.dispose()


async def on_postgres(
    plan: Plan, pool_size: int, say: Callable[[str], None]
) -> tuple[list[Outcome], str]:
    async with postgres_database(pool_size=pool_size) as db:
        async with db(readonly=True) as uow:
            version = await uow.tx.connection()
            found = await version.exec_driver_sql("SHOW server_version")
            server = str(found.scalar())
        return await measure(f"PostgreSQL (pool {pool_size})", db, plan, say), server


# ---------------------------------------------------------------------------------- reporting


def line(o: Outcome) -> str:
    return (
        f"{o.database} {o.scenario}: {o.booked}/{o.attempts} booked in {o.seconds:.2f} s = "
        f"{o.rate:,.0f}/s, p50 {o.percentile(0.5) * 1000:.1f} ms, "
        f"p99 {o.percentile(0.99) * 1000:.1f} ms, max {max(o.latencies) * 1000:.0f} ms"
        + ("" if not o.problems else "  WRONG")
    )


def verdict(o: Outcome) -> tuple[str, str]:
    """The issue's target for this row and whether it was met."""
    if o.database == "SQLite" and o.scenario == "spread":
        return "≥ 300 bookings/s", "pass" if o.rate >= 300 else "**FAIL**"
    if o.database == "SQLite" and o.scenario == "hot":
        p99 = o.percentile(0.99)
        return "p99 ≤ 750 ms", "pass" if p99 <= 0.75 else "**FAIL**"
    if o.scenario == "spread":
        return "≥ 1,000 bookings/s", "pass" if o.rate >= 1000 else "**FAIL**"
    return "correct only", "pass"


def machine(versions: dict[str, str]) -> list[str]:
    import sqlalchemy

    rows = [cpu_and_memory(), system_and_python("SQLAlchemy", sqlalchemy.__version__)]
    rows += [f"- {name} {v}" for name, v in versions.items()]
    rows.append(now_line())
    return rows


def report(
    outcomes: list[Outcome], versions: dict[str, str], command: str, plan: Plan, loads: list[str]
) -> str:
    out = [
        "## Latest run",
        "",
        *machine(versions),
        f"- Load average (1, 5, 15 min) before / after the run: {loads[0]} / {loads[1]} "
        "(before the run, anything above 0 is other work on the same two cores)",
        "",
        f"Command: `{command}`",
        "",
        f"Spread: {plan.bookings:,} bookings by distinct patients over {plan.sessions} sessions "
        f"({plan.capacity} places each), {plan.concurrency} concurrent tasks, after "
        f"{plan.warmup} untimed warm-up bookings. Hot: {plan.hot_attempts:,} attempts by "
        f"distinct patients launched together on one {plan.hot_places}-place session, "
        "latency counted from the launch.",
        "",
        "| Database | Scenario | Attempts | Booked | Wall time | Rate | p50 | p99 | max "
        "| Correct | Target | Result |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for o in outcomes:
        target, result = verdict(o)
        correct = "yes" if not o.problems else "**NO**"
        if o.problems:
            result = "**FAIL**"
        out.append(
            f"| {o.database} | {o.scenario} | {o.attempts:,} | {o.booked:,} | {o.seconds:.2f} s "
            f"| {o.rate:,.0f}/s | {o.percentile(0.5) * 1000:.0f} ms "
            f"| {o.percentile(0.99) * 1000:.0f} ms | {max(o.latencies) * 1000:.0f} ms "
            f"| {correct} | {target} | {result} |"
        )
    problems = [f"- {o.database} {o.scenario}: {p}" for o in outcomes for p in o.problems]
    return "\n".join(out + (["", "Correctness problems:", *problems] if problems else []))


INTRO = """# Benchmarks

How fast the booking core books, measured by `bench/booking.py` (`make bench`) through the real
`booking.appointments.book.book` use case, and checked for correctness after every run: in the
spread run every booking must succeed, the store must hold exactly the bookings that got a
receipt and no session may hold more bookings than places; in the hot run exactly as many
patients as there are places must get one, with queue numbers 1..n used once each, every other
attempt refused as `slot_full`. A correctness failure makes the command exit 1; a missed speed
target only shows in the table.

How to read the figures: the machine is a small virtual machine whose two cores are shared with
other work (see the load average line), and the same code has measured up to 1.5–2× apart from one
run to the next. Compare figures *within one run* (SQLite against PostgreSQL, spread against hot),
not across runs. Rates are whole-run averages (attempts divided by wall time). Spread latencies are
per `book` call, including waits for a pooled connection and for the SQLite writers' queue; hot
latencies are counted from the instant all attempts were launched, as a patient pressing the button
when the day is released would see them. `max` shows stragglers that p99 hides.

"""


def write_docs(section: str) -> None:
    block = f"{BEGIN}\n{section}\n{END}"
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = INTRO + block + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run; writes no docs")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--pool-size", type=int, default=20, help="PostgreSQL pool (≤ 20)")
    parser.add_argument("--concurrency", type=int, help="tasks in the spread run (default 32)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the docs")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target too")
    args = parser.parse_args(argv)
    if not 1 <= args.pool_size <= 20:
        parser.error("the issue allows a PostgreSQL pool of at most 20 connections")
    plan = QUICK if args.quick else FULL
    if args.concurrency:
        plan = Plan(**{**plan.__dict__, "concurrency": args.concurrency})

    def say(text: str) -> None:
        print(text, flush=True)

    outcomes: list[Outcome] = []
    versions: dict[str, str] = {}
    loads = [load_average()]
    run: list[Callable[[], Coroutine[Any, Any, tuple[list[Outcome], str]]]] = []
    if not args.postgres_only:
        run.append(lambda: on_sqlite(plan, say))
    if not args.sqlite_only:
        run.append(lambda: on_postgres(plan, args.pool_size, say))
    for job in run:
        found, version = asyncio.run(job())
        outcomes += found
        versions[found[0].database.split(" ")[0]] = version
    command = " ".join(["python bench/booking.py", *(argv if argv is not None else sys.argv[1:])])
    loads.append(load_average())
    section = report(outcomes, versions, command.strip(), plan, loads)
    print("\n" + section)
    if not args.quick and not args.no_docs:
        write_docs(section)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    if any(o.problems for o in outcomes):
        return 1
    if args.strict and any(verdict(o)[1] != "pass" for o in outcomes):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
