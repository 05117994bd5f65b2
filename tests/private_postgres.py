"""A PostgreSQL server of a test's own, in a temporary folder, to stop and start at will
(never the shared server the other tests use).

    with private_postgres() as server:
        upgrade(server.url)
        ...
        server.crash()  # as `pg_ctl stop -m immediate`: connections cut, recovery at start
        server.start()

Skips the test when the server's programs (initdb, pg_ctl) are not installed. Under root (as
in CI) the server runs as the `postgres` user, since it refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_programs() -> Path | None:
    """The folder of initdb, pg_ctl and createdb: from PATH, or Debian's
    /usr/lib/postgresql/<version>/bin (the newest)."""
    found = shutil.which("initdb")
    if found:  # often a link into the server's own folder, which holds the others too
        return Path(found).resolve().parent
    folders = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    folders.sort(key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0)
    return folders[-1] if folders else None


@dataclass
class PrivatePostgres:
    programs: Path
    folder: Path
    port: int
    owner: list[str]  # how to run a program as the server's owner ("runuser …" under root)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/guahao"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def run(self, program: str, *args: str) -> None:
        # Output to a file, never a pipe: the server pg_ctl starts would keep a pipe open.
        with (self.folder / "programs.log").open("ab") as log:
            subprocess.run(
                [*self.owner, str(self.programs / program), *args],
                check=True, stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=60,
            )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -h 127.0.0.1"
        log = str(self.folder / "server.log")
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def crash(self) -> None:
        """Stop at once as `pg_ctl stop -m immediate` does (SIGQUIT to the postmaster), but
        without starting a program first, so the moment is the test's: every connection is
        cut, no checkpoint is made, and the next start recovers from the write-ahead log.
        Returns once the server is gone."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, "PostgreSQL did not stop"
            time.sleep(0.01)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh server with an empty database `guahao`, owned by `postgres` (trust, local
    only); stopped and removed on exit."""
    programs = _server_programs()
    if programs is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="guahao-pg-"))  # pytest's own folders are root's
    owner: list[str] = []
    if os.geteuid() == 0:
        try:
            shutil.chown(folder, "postgres")
        except LookupError:
            shutil.rmtree(folder)
            pytest.skip("no `postgres` user to run PostgreSQL as (it refuses to run as root)")
        owner = ["runuser", "-u", "postgres", "--"]
    server = PrivatePostgres(programs, folder, free_port(), owner)
    try:
        server.run(
            "initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        server.start()
        port = str(server.port)
        server.run("createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "guahao")
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):  # never started, or already down
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
