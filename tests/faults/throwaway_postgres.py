"""A PostgreSQL cluster of the test's own (issue 16.1), never the machine's: `initdb` and
`pg_ctl` from /usr/lib/postgresql/*/bin into a fresh temporary folder, on a free port
of 127.0.0.1, so a test may stop it hard ("immediate" shutdown: no checkpoint, clients
cut off) and start it again on the same files. PostgreSQL refuses to run as root, so
under root (as CI runs) the cluster belongs to the `postgres` user (`runuser`)."""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from casework.processes import free_port


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why no throw-away cluster can run here, or None when one can."""
    if _binaries() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to own a cluster"
        if shutil.which("runuser") is None:
            return "running as root without `runuser` to start a cluster as `postgres`"
    return None


class ThrowawayCluster:
    def __init__(self, folder: Path) -> None:
        binaries = _binaries()
        assert binaries is not None
        self._binaries = binaries
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else getpass.getuser()

    def _run(self, *args: str) -> None:
        command = [str(self._binaries / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop_hard(self) -> None:
        """Unreachable at once: every connection cut, new ones refused."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A running cluster in a new temporary folder; stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="casework-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    cluster = ThrowawayCluster(folder)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
