"""Notices benchmark (issue 6): reminders and stop notices sent to Telegram by `guahao worker`
(the real notice dispatcher and the real Telegram channel, send only) against a local Bot API
server that enforces Telegram's limits: 30 messages a second for the bot, one a second a chat.

Run from the repository root:

    .venv/bin/python bench/notices.py           # full run (~8 min), rewrites its docs part
    .venv/bin/python bench/notices.py --quick   # 600 reminders, 200 stop notices; prints only
    .venv/bin/python bench/notices.py --hung    # only notices while one channel hangs (~80 s)
    make bench

Set up, untimed, in a fresh SQLite database migrated as `guahao db upgrade` does: a hospital of
100 doctors, each with a Wednesday-morning session of 100 places, and one Thursday session of
1,000 places; 11,000 real-name patients, each on a Telegram account of their own. Every patient
books one place through the real `book` use case, which writes the booking's two reminders in
its transaction: the reminder rows are the ones a hospital would have, not written by hand.

- reminders: `guahao worker` is started in a process of its own with its clock at Tuesday
  20:00, when exactly the 10,000 Wednesday evening reminders are due. Timed from the first
  message's arrival at the Bot API to the last's.
- stop: once they are all sent, the Thursday session is stopped
  (`booking.appointments.changes.stop_session` in this process, as `guahao sessions stop`
  does) while the worker runs: timed from the stop's commit to the 1,000th patient's notice
  arriving.
- dispatcher alone: the same 10,000 reminders, in a copy of the database taken before the worker
  started, sent in this process by a `NoticeDispatcher` whose Telegram sender does nothing: how
  fast the dispatcher itself goes (its database work), without Telegram's limit.
- two workers: 3,000 reminders (set up the same way, on PostgreSQL, the database for several
  processes) sent by two `guahao worker`s for the same bot, whose Telegram pacing is shared
  through Redis (GUAHAO_RATE_LIMIT_STORAGE=async+redis://127.0.0.1:6379): together they must
  keep to the bot's 30 a second.

- while one channel hangs: bench/notice_lanes.py (its own part of the docs).

Checked after every run: the Bot API refused nothing (no 429), every patient due a notice got
exactly one message, carrying their own booking number (none lost, none twice, none to anyone
else), and the notices table marks each of them sent. Exit status 1 when a check fails or a
target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from time import perf_counter
from zoneinfo import ZoneInfo

# Run as a script, this file's folder comes first on sys.path: keep to the repository's own.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench import notice_lanes  # noqa: E402
from bench.machine import cpu_and_memory, load_average, now_line, system_and_python  # noqa: E402
from booking.appointments.book import book  # noqa: E402
from booking.appointments.changes import stop_session  # noqa: E402
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
from booking.catalogue.schedule import local_now  # noqa: E402
from booking.clock import FixedClock  # noqa: E402
from booking.patients.identity import mask_phone, parse_id_number, parse_mobile  # noqa: E402
from booking.patients.ports import NewPatient  # noqa: E402
from booking.protect import Protector  # noqa: E402
from booking.roster.duty import generate_sessions, import_catalogue  # noqa: E402
from booking.store import Database, upgrade  # noqa: E402
from bot.conversations import Conversations  # noqa: E402
from bot.notices.dispatcher import NoticeDispatcher  # noqa: E402
from bot.texts import Texts  # noqa: E402
from channels.messages import Outbound  # noqa: E402
from tests.fakes.bot_api import TOKEN, FakeBotApi, FloodLimits, running_bot_api  # noqa: E402
from tests.support import (  # noqa: E402
    MONDAY_9AM,
    POSTGRES_URL,
    SECRET,
    many_id_numbers,
    postgres_schema_outside_loop,
)

DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:notices:begin (written by bench/notices.py) -->"
END = "<!-- bench:notices:end -->"
HUNG = ("<!-- bench:notices-hung:begin (written by bench/notices.py) -->",
        "<!-- bench:notices-hung:end -->")  # fmt: skip
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOSPITAL, STOPPED_DOCTOR = "NOTE", "STOP1"
WEDNESDAY, THURSDAY = date(2026, 11, 25), date(2026, 11, 26)
TUESDAY_8PM = datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI)  # Wednesday's evening reminders
FIRST_CHAT = 1_000_001
LIMIT = 30  # Telegram's messages a second for one bot
REASON = "医生临时外出会诊"
REDIS = "async+redis://127.0.0.1:6379"


@dataclass(frozen=True)
class Plan:
    reminders: int  # Wednesday bookings, one per patient: one reminder each is due
    doctors: int  # their sessions
    stopped: int  # bookings on the Thursday session that is stopped
    stop_within: float  # seconds for every stopped patient to be told


FULL = Plan(10_000, 100, 1_000, 40.0)
QUICK = Plan(600, 6, 200, 10.0)
TWO_WORKERS = {False: Plan(3_000, 30, 0, 0.0), True: Plan(300, 3, 0, 0.0)}  # by --quick


@dataclass(frozen=True)
class Store:
    """The database, as this process opens it and as a worker is told of it."""

    url: str
    schema: str | None = None

    def open(self) -> Database:
        return Database(self.url, schema=self.schema)

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url} | (
            {"GUAHAO_DB_SCHEMA": self.schema} if self.schema else {}
        )


@dataclass
class Patient:
    patient_id: int
    chat: int
    session_id: int = 0
    booking_no: str = ""


@dataclass
class Run:
    name: str
    count: int
    seconds: float
    arrivals: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.count - 1) / self.seconds if self.seconds else 0.0


# ---------------------------------------------------------------- setting the scene (untimed)


def bench_catalogue(plan: Plan) -> Catalogue:
    general = ClinicType("general", "普通门诊", "General clinic", 100, 1000)
    hospital = Hospital(code=HOSPITAL, name_zh="提醒测试医院", name_en="Notice Bench Hospital")
    department = Department(HOSPITAL, "CARD", "心血管内科", "Cardiology")
    each = plan.reminders // plan.doctors
    doctors = [
        Doctor(HOSPITAL, "CARD", f"N{n:04d}", f"医生{n}", f"Doctor {n}", "主治医师", "general",
               templates=(DutyTemplate(weekday=3, part=Part.AM, capacity=each),))
        for n in range(plan.doctors)
    ]  # fmt: skip
    if plan.stopped:
        stop = DutyTemplate(weekday=4, part=Part.AM, capacity=plan.stopped)
        doctors.append(
            Doctor(HOSPITAL, "CARD", STOPPED_DOCTOR, "停诊医生", "Stopped", "主任医师", "general",
                   templates=(stop,))
        )  # fmt: skip
    return Catalogue(
        clinic_types={"general": general},
        hospitals=(hospital,),
        departments=(department,),
        doctors=tuple(doctors),
    )


async def register(
    db: Database, protector: Protector, clock: FixedClock, count: int
) -> list[Patient]:
    """Real-name patients, each linked to a Telegram account of their own, 500 a transaction
    (the checks and the encryption are the domain's, as in bench/booking.py)."""
    now = clock.now()
    today = local_now(now, "Asia/Shanghai").date()
    numbers = many_id_numbers(count)
    patients: list[Patient] = []
    for start in range(0, count, 500):
        async with db() as uow:
            for k in range(start, min(start + 500, count)):
                resident = parse_id_number(numbers[k], today=today)
                mobile = parse_mobile(f"137{k:08d}")
                patient = await uow.patients.add(
                    NewPatient(
                        name="张三", id_hash=protector.lookup_hash("id", resident.number),
                        id_cipher=protector.encrypt(resident.number), id_masked=resident.masked,
                        birth_date=resident.birth_date, sex=resident.sex.value,
                        phone_hash=protector.lookup_hash("phone", mobile),
                        phone_cipher=protector.encrypt(mobile), phone_masked=mask_phone(mobile),
                    ),
                    now,
                )  # fmt: skip
                chat = FIRST_CHAT + k
                account = await uow.patients.account(*protector.account("telegram", str(chat)), now)
                await uow.patients.link(account.id, patient.id, now)
                patients.append(Patient(patient.id, chat))
            await uow.commit()
    return patients


async def book_all(
    db: Database, protector: Protector, clock: FixedClock, patients: list[Patient]
) -> list[str]:
    """Each patient books their session on Telegram, 32 at a time; what went wrong."""
    queue = iter(patients)
    problems: list[str] = []

    async def worker() -> None:
        for p in queue:
            chat = str(p.chat)
            try:
                receipt = await book(
                    db, clock, patient_id=p.patient_id, session_id=p.session_id,
                    channel="telegram", account=protector.account("telegram", chat),
                    address=protector.encrypt(chat),
                )  # fmt: skip
            except Exception as error:
                problems.append(f"booking for chat {chat} failed: {type(error).__name__}")
            else:
                p.booking_no = receipt.appointment.booking_no

    await asyncio.gather(*(worker() for _ in range(32)))
    return problems


async def prepare(store: Store, plan: Plan) -> tuple[list[Patient], list[Patient], int]:
    """Wednesday's patients, Thursday's, and the Thursday session's id (0: none)."""
    db = store.open()
    clock, protector = FixedClock(MONDAY_9AM), Protector(SECRET)
    try:
        await import_catalogue(db, bench_catalogue(plan))
        await generate_sessions(db, clock)
        async with db(readonly=True) as uow:
            found = await uow.sessions.search(SessionFilter(hospital_code=HOSPITAL), clock.now())
        wednesday = [a.session for a in found if a.session.visit_date == WEDNESDAY]
        thursday = [a.session.id for a in found if a.session.doctor_work_no == STOPPED_DOCTOR]
        assert len(wednesday) == plan.doctors, f"{len(wednesday)} Wednesday sessions"
        patients = await register(db, protector, clock, plan.reminders + plan.stopped)
        early, late = patients[: plan.reminders], patients[plan.reminders :]
        for n, p in enumerate(early):
            p.session_id = wednesday[n % len(wednesday)].id
        for p in late:
            p.session_id = thursday[0]
        problems = await book_all(db, clock=clock, protector=protector, patients=patients)
        if problems:
            raise SystemExit("set-up failed: " + "; ".join(problems[:5]))
        return early, late, thursday[0] if thursday else 0
    finally:
        await db.dispose()


# ---------------------------------------------------------------------------------- the runs


@contextmanager
def guahao_worker(
    store: Store, api: FakeBotApi, folder: Path, name: str = "worker", **settings: str
) -> Iterator[Path]:
    """`guahao worker` as a hospital runs it, in a process of its own, its clock at Tuesday
    20:00; yields its log file."""
    log = folder / f"{name}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMS_", "MAIL_"))},
        **store.env(),
        "GUAHAO_SECRET_KEY": SECRET,
        "GUAHAO_NOW": TUESDAY_8PM.isoformat(),
        "GUAHAO_NLU_MODELS": str(folder / "models"),
        "GUAHAO_LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        **settings,
    }
    guahao = str(Path(sys.executable).with_name("guahao"))
    with log.open("w") as output:
        worker = subprocess.Popen(
            [guahao, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=output
        )
        try:
            yield log
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def wait_for(api: FakeBotApi, count: int, stall: float, log: Path) -> None:
    """Until the Bot API has taken `count` messages; gives up after `stall` seconds without one."""
    seen, last_change = -1, time.monotonic()
    while (now := len(api.all_sent())) < count:
        if now != seen:
            seen, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > stall:
            tail = log.read_text(encoding="utf-8")[-2000:]
            raise SystemExit(f"stuck at {now}/{count} messages; the worker said:\n{tail}")
        time.sleep(0.1)


def check_delivery(sent: list[tuple[int, str]], patients: list[Patient], words: str) -> list[str]:
    """Each patient got exactly one message, with their booking number (and `words`)."""
    problems = []
    by_chat: dict[int, list[str]] = {}
    for chat, text in sent:
        by_chat.setdefault(chat, []).append(text)
    expected = {p.chat: p for p in patients}
    strangers = set(by_chat) - set(expected)
    if strangers:
        problems.append(f"{len(strangers)} chats got a message they were not due")
    lost = [p for p in patients if p.chat not in by_chat]
    twice = [p for p in patients if len(by_chat.get(p.chat, [])) > 1]
    wrong = [
        p for p in patients
        if p.chat in by_chat and not all(p.booking_no in t and words in t for t in by_chat[p.chat])
    ]  # fmt: skip
    for what, found in (("lost", lost), ("sent twice", twice), ("wrong text", wrong)):
        if found:
            problems.append(f"{len(found)} notices {what} (e.g. chat {found[0].chat})")
    return problems


async def notice_counts(store: Store) -> Counter[str]:
    db = store.open()
    try:
        async with db(readonly=True) as uow:
            return Counter(await uow.notices.counts())
    finally:
        await db.dispose()


async def stop_thursday(store: Store, session_id: int) -> int:
    db = store.open()
    try:
        return len(await stop_session(db, FixedClock(TUESDAY_8PM), session_id, REASON))
    finally:
        await db.dispose()


def worker_runs(
    store: Store, plan: Plan, early: list[Patient], late: list[Patient], thursday: int
) -> tuple[Run, Run, int]:
    """The reminders, then the stop, through one `guahao worker`; and the 429s."""
    with (
        tempfile.TemporaryDirectory(prefix="guahao-bench-worker-") as folder,
        running_bot_api(limits=FloodLimits(per_bot=LIMIT)) as api,
        guahao_worker(store, api, Path(folder)) as log,
    ):
        wait_for(api, plan.reminders, stall=120, log=log)  # the first waits for the start
        got = api.all_sent()
        times = [m.at for m in got]
        reminders = Run("reminders, one worker", len(got), times[-1] - times[0], times)
        words = "明天"  # the evening before: "tomorrow"
        reminders.problems += check_delivery([(m.chat_id, m.text) for m in got], early, words)

        cancelled = asyncio.run(stop_thursday(store, thursday))
        stopped_at = time.monotonic()
        if cancelled != plan.stopped:
            reminders.problems.append(f"the stop cancelled {cancelled} bookings")
        wait_for(api, plan.reminders + plan.stopped, stall=30, log=log)
        told = api.all_sent()[len(got) :]
        times = [m.at for m in told]
        stop = Run("stop (from the commit)", len(told), times[-1] - stopped_at, times)
        stop.problems += check_delivery([(m.chat_id, m.text) for m in told], late, REASON)
        if stop.seconds > plan.stop_within:
            stop.problems.append(f"the last stopped patient was told after {stop.seconds:.1f} s")
        time.sleep(1.5)  # a late duplicate would show now
        if len(api.all_sent()) != plan.reminders + plan.stopped:
            stop.problems.append(f"{len(api.all_sent())} messages in all")
        too_many = api.too_many
    counts = asyncio.run(notice_counts(store))
    if counts["sent"] != plan.reminders + plan.stopped or counts["dead"]:
        stop.problems.append(f"the notices table says {dict(counts)}")
    return reminders, stop, too_many


def two_workers_run(plan: Plan, say: Callable[[str], None]) -> tuple[Run, int, list[int]]:
    """Reminders sent by two workers sharing the bot's limit through Redis (PostgreSQL);
    the run, the 429s, and how many each worker sent."""
    with postgres_schema_outside_loop("bench") as schema:
        store = Store(POSTGRES_URL, schema)
        upgrade(store.url, schema=schema)
        early, _, _ = asyncio.run(prepare(store, plan))
        say(f"two workers: set up {len(early):,} bookings on PostgreSQL")
        shared = {"GUAHAO_RATE_LIMIT_STORAGE": REDIS, "GUAHAO_LOG_LEVEL": "INFO"}
        with (
            tempfile.TemporaryDirectory(prefix="guahao-bench-workers-") as folder,
            running_bot_api(limits=FloodLimits(per_bot=LIMIT)) as api,
            guahao_worker(store, api, Path(folder), "worker-1", **shared) as one,
            guahao_worker(store, api, Path(folder), "worker-2", **shared) as two,
        ):
            wait_for(api, plan.reminders, stall=120, log=one)
            time.sleep(1.5)  # a late duplicate would show now
            got = api.all_sent()
            times = sorted(m.at for m in got)
            run = Run("two workers, Redis", len(got), times[-1] - times[0], times)
            run.problems += check_delivery([(m.chat_id, m.text) for m in got], early, "明天")
            too_many = api.too_many
            shares = [log.read_text(encoding="utf-8").count(") sent") for log in (one, two)]
        counts = asyncio.run(notice_counts(store))
    if counts["sent"] != plan.reminders or counts["dead"]:
        run.problems.append(f"the notices table says {dict(counts)}")
    return run, too_many, shares


async def dispatcher_alone(store: Store, count: int) -> Run:
    """The same reminders sent by the dispatcher in this process, to a sender doing nothing."""
    db = store.open()
    clock, protector = FixedClock(TUESDAY_8PM), Protector(SECRET)
    took: list[float] = []

    async def nowhere(_: str, messages: list[Outbound]) -> None:
        took.append(perf_counter())

    notices = NoticeDispatcher(
        db, protector, clock, Texts.load(), {"telegram": nowhere},
        Conversations(db, protector, clock),
    )  # fmt: skip
    try:
        started = perf_counter()
        sent = await notices.run_once()
        run = Run("dispatcher alone, no Telegram", sent, perf_counter() - started, took)
    finally:
        await db.dispose()
    if sent != count:
        run.problems.append(f"{sent} sent, {count} due")
    return run


def copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


# ---------------------------------------------------------------------------------- reporting


def most_within(times: list[float], seconds: float) -> int:
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def slowest_stretch(times: list[float], seconds: float = 10.0) -> float:
    """The fewest messages a second over any `seconds` between the first and the last."""
    if not times or times[-1] - times[0] < seconds:
        return 0.0
    fewest, last = len(times), 0
    for first, start in enumerate(times):
        if start + seconds > times[-1]:
            break
        while last < len(times) and times[last] < start + seconds:
            last += 1
        fewest = min(fewest, last - first)
    return fewest / seconds


def report(
    plan: Plan,
    runs: list[tuple[Run, int | None]],
    shares: list[int],
    targets: list[tuple[str, bool]],
    loads: list[str],
) -> list[str]:
    """`runs`: each with the 429s the Bot API answered in it (None: no Bot API)."""
    two = runs[-1][0]
    lines = [
        "## Notices: latest run",
        "",
        cpu_and_memory(),
        system_and_python("SQLite via", "aiosqlite"),
        now_line(),
        f"- Load average (1, 5, 15 min) before / after the run: {loads[0]} / {loads[1]}",
        "",
        "Command: `python bench/notices.py`",
        "",
        f"`guahao worker` (one process, SQLite, Telegram pacing in its memory) sends "
        f"{plan.reminders:,} evening reminders, one to each of {plan.reminders:,} patients, "
        f"to a local Bot API enforcing {LIMIT} messages a second per bot and one a second per "
        f"chat; then one session of {plan.stopped:,} bookings is stopped. Then two workers "
        f"(PostgreSQL, pacing shared through Redis) send {two.count:,} more reminders for the "
        f"same bot ({' + '.join(f'{n:,}' for n in shares)} each). Every notice was written by "
        "the real booking and stop use cases. Rates are by the time each message reached the "
        "Bot API, from the first to the last (the stop: from the stop's commit).",
        "",
        "| Run | Messages | Wall time | Rate | Slowest 10 s | Most in 1 s | 429s | Correct |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for run, too_many in runs:
        told = too_many is not None
        lines.append(
            f"| {run.name} | {run.count:,} | {run.seconds:.1f} s "
            f"| {run.rate:.2f}/s | {slowest_stretch(run.arrivals):.1f}/s "
            f"| {most_within(run.arrivals, 1.0) if told else '–'} "
            f"| {too_many if told else '–'} | {'yes' if not run.problems else '**NO**'} |"
        )
    lines += [
        "",
        '"Most in 1 s" counts arrivals in any one-second window at the Bot API: a message or '
        "two over the limit can show when one reaches it a few milliseconds late and the next "
        "on time (the local Bot API, like Telegram, forgives 0.1 s of such jitter); the pacing "
        "itself starts at most 30 in any second. The dispatcher alone sends to nothing, in the "
        "bench's process: how far it is from being the bottleneck.",
        "",
        "Targets: " + "; ".join(f"{name}: {'pass' if ok else '**FAIL**'}" for name, ok in targets),
    ]
    problems = [f"- {run.name}: {p}" for run, _ in runs for p in run.problems]
    return lines + (["", "Problems:", *problems] if problems else [])


def write_docs(lines: list[str], begin: str = BEGIN, end: str = END) -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = f"{begin}\n" + "\n".join(lines) + f"\n{end}"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    elif begin == BEGIN:
        text = text.rstrip("\n") + "\n\n# Notices\n\n" + block + "\n"
    else:  # after the notices' latest run
        head, rest = text.split(END, 1)
        text = head + END + "\n\n" + block + rest
    DOCS.write_text(text, encoding="utf-8")


def hung_channel(say: Callable[[str], None], docs: bool) -> bool:
    """Notices while the SMS gateway hangs; whether the healthy channels were on time."""
    loads = [load_average()]
    figures = notice_lanes.run(say)
    loads.append(load_average())
    machine = [
        cpu_and_memory(),
        system_and_python("SQLite via", "aiosqlite"),
        now_line(),
        f"- Load average (1, 5, 15 min) before / after the run: {loads[0]} / {loads[1]}",
    ]
    lines = notice_lanes.report(figures, machine)
    print("\n" + "\n".join(lines))
    if docs:
        write_docs(lines, *HUNG)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    return all(f.slowest <= notice_lanes.ON_TIME for f in figures if f.code == "after")


# --------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run; writes no docs")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--hung", action="store_true", help="only notices while SMS hangs")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL

    def say(text: str) -> None:
        print(text, flush=True)

    if args.hung:
        return 0 if hung_channel(say, docs=not args.no_docs) else 1

    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="guahao-bench-notices-") as folder:
        path, copy = Path(folder) / "bench.sqlite3", Path(folder) / "copy.sqlite3"
        store = Store(f"sqlite+aiosqlite:///{path}")
        upgrade(store.url)
        started = perf_counter()
        early, late, thursday = asyncio.run(prepare(store, plan))
        say(f"set up {len(early) + len(late):,} patients and bookings in "
            f"{perf_counter() - started:.0f} s")  # fmt: skip
        copy_database(path, copy)
        reminders, stop, too_many = worker_runs(store, plan, early, late, thursday)
        say(f"reminders: {reminders.count} in {reminders.seconds:.1f} s = {reminders.rate:.2f}/s")
        say(f"stop: {stop.count} told within {stop.seconds:.1f} s; 429s: {too_many}")
        alone = asyncio.run(dispatcher_alone(Store(f"sqlite+aiosqlite:///{copy}"), plan.reminders))
        say(f"dispatcher alone: {alone.count} in {alone.seconds:.1f} s")
    two, too_many_two, shares = two_workers_run(TWO_WORKERS[args.quick], say)
    say(f"two workers: {two.count} in {two.seconds:.1f} s = {two.rate:.2f}/s, shares {shares}")
    loads.append(load_average())
    targets = [
        (f"reminders ≥ 95% of {LIMIT}/s", reminders.rate >= 0.95 * LIMIT),
        ("0 rate-limit errors (429)", too_many == 0 and too_many_two == 0),
        ("0 lost, 0 duplicates", not (reminders.problems or stop.problems or two.problems)),
        (
            f"every stopped patient told within {plan.stop_within:.0f} s",
            stop.seconds <= plan.stop_within and stop.count == plan.stopped,
        ),
        # Up to a second's worth may go in the first second: the rest at most at the limit.
        (f"two workers together ≤ {LIMIT}/s", (two.count - LIMIT) / two.seconds <= LIMIT),
    ]
    runs = [(reminders, too_many), (stop, too_many), (alone, None), (two, too_many_two)]
    lines = report(plan, runs, shares, targets, loads)
    print("\n" + "\n".join(lines))
    if not args.quick and not args.no_docs:
        write_docs(lines)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    on_time = args.quick or hung_channel(say, docs=not args.no_docs)
    return 0 if all(ok for _, ok in targets) and not alone.problems and on_time else 1


if __name__ == "__main__":
    sys.exit(main())
