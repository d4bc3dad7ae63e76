"""Foundation: the real stack as `make run` starts it (`casework dev`), on free ports in
a temporary data folder: /readyz answers, the Temporal UI and /docs are served, a second
start finds the same data, and stopping leaves no process behind."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from casework.processes import free_port, venv_binary
from tests.api.conftest import endorsement, registration

pytestmark = pytest.mark.e2e
CASE_ID = "C-E2E-1"


class DevProcess(subprocess.Popen[str]):
    """`casework dev` (or any child) whose output a thread reads as it comes.

    Never an unread pipe: a pipe holds 64 KiB, and a child that writes more before
    anyone reads (a page of the Temporal UI through /ui/ writes a log line for each of
    its dozens of requests) blocks in its next write -- the whole API with it, since
    logging is synchronous in its event loop. Issue 15's JSON lines took one history
    page past that, and the staff-UI browser test waited for a history that never came.
    """

    def __init__(self, args: list[str], **options: Any) -> None:
        super().__init__(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         **options)
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.stdout is not None
        for line in self.stdout:
            self._lines.append(line)

    def output(self) -> str:
        """What the child wrote so far (all of it once it has exited)."""
        if self.poll() is not None:
            self._reader.join(timeout=10)
        return "".join(self._lines)


def _start(data_dir: Path, ports: dict[str, int], *, temporal_address: str | None = None,
           database_url: str | None = None) -> DevProcess:
    """`casework dev` in `data_dir`, on its embedded SQLite unless `database_url` is
    given (a benchmark's read model on PostgreSQL)."""
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "API_PORT": str(ports["api"]),
        "TEMPORAL_PORT": str(ports["temporal"]),
        "TEMPORAL_UI_PORT": str(ports["ui"]),
    }
    env.pop("DATABASE_URL", None)  # embedded default: SQLite inside the data folder
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.pop("TEMPORAL_ADDRESS", None)
    if temporal_address is not None:
        env["TEMPORAL_ADDRESS"] = temporal_address
    return DevProcess([sys.executable, "-m", "casework.cli", "dev"], env=env, cwd=data_dir,
                      start_new_session=True)


def _wait_ready(api: str, process: DevProcess, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.output()
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("casework dev did not become ready")


def _stop(process: DevProcess) -> str:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"casework dev did not stop on SIGINT:\n{process.output()}"
                             ) from None
    return process.output()


def _token(data_dir: Path) -> str:
    """What the README tells people to do: `casework token`, in the same data folder.
    The subject is the endorsement's team_manager_id: who acted is the token's (issue 9)."""
    done = subprocess.run(
        [sys.executable, "-m", "casework.cli", "token", "--role", "practitioner",
         "--role", "team_manager", "--subject", "tm-1"],
        env={**os.environ, "DATA_DIR": str(data_dir)}, cwd=data_dir, capture_output=True,
        text=True, timeout=60, check=True)
    return done.stdout.strip()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_dev_starts_serves_restarts_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    tmp_path.chmod(0o755)  # as `mkdir` leaves it: `casework dev` must tighten it
    process = _start(tmp_path, ports)
    try:
        _wait_ready(api, process)
        assert httpx.get(f"{api}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{api}/readyz").json()
        assert ready["checks"] == {"database": "ok", "temporal": "ok"}
        docs = httpx.get(f"{api}/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        ui = httpx.get(f"http://127.0.0.1:{ports['ui']}/", follow_redirects=True, timeout=10)
        assert ui.status_code == 200 and "<html" in ui.text.lower()
        auth = {"Authorization": f"Bearer {_token(tmp_path)}"}
        assert httpx.get(f"{api}/cases").status_code == 401  # nobody without a token
        created = httpx.post(f"{api}/cases", json=registration(CASE_ID), headers=auth,
                             timeout=30)
        assert created.status_code == 201, created.text
        endorsed = httpx.post(f"{api}/cases/{CASE_ID}/endorsement", json=endorsement(),
                              headers=auth, timeout=30)
        assert endorsed.status_code == 200, endorsed.text
        before = httpx.get(f"{api}/cases/{CASE_ID}", headers=auth, timeout=30).json()
    finally:
        output = _stop(process)
    assert f"http://127.0.0.1:{ports['api']}" in output
    assert f"http://127.0.0.1:{ports['ui']}" in output
    assert process.returncode == 0, output
    for port in ports.values():
        assert not _listening(port), f"port {port} still served after stop"
    temporal_db = tmp_path / "temporal.db"
    assert temporal_db.exists() and (tmp_path / "casework.db").exists()
    # Issue 9.6: the data folder and every file in it (Temporal's file, the read model
    # and its journals, the log, the keys) are private to the service's user.
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    modes = {path.name: stat.S_IMODE(path.stat().st_mode)
             for path in tmp_path.rglob("*") if path.is_file()}
    assert {"temporal.db", "temporal.log", "casework.db"} <= modes.keys()
    assert modes == dict.fromkeys(modes, 0o600), modes

    # A second start reuses the same data folder.
    size_before = temporal_db.stat().st_size
    process = _start(tmp_path, ports)
    try:
        _wait_ready(api, process)
        # The case registered in the first run is still there, with the same schedule.
        after = httpx.get(f"{api}/cases/{CASE_ID}", headers=auth, timeout=30)
        assert after.status_code == 200, after.text
        assert after.json()["status"] == "active"
        assert after.json()["periods"] == before["periods"]
    finally:
        _stop(process)
    assert temporal_db.stat().st_size >= size_before
    for port in ports.values():
        assert not _listening(port)


def test_a_chatty_child_never_blocks_on_its_unread_output() -> None:
    """Regression (issue 15): a child writing far more than a pipe holds runs to its end
    while nobody asks for its output, and none of it is lost."""
    size = 1 << 20  # 16 pipe buffers
    child = DevProcess([sys.executable, "-c",
                        f"import sys; sys.stdout.write('x' * {size}); print('done')"])
    try:
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.output() == "x" * size + "done\n"


async def test_readyz_names_the_unreachable_dependency(tmp_path: Path) -> None:
    """With Temporal pointed at a closed port, /readyz is 503 and says `temporal`."""
    from api.app import create_app
    from casework.config import Settings
    from casework.migrate import upgrade_to_head_async

    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    await upgrade_to_head_async(url)
    settings = Settings(database_url=url, temporal_address=f"127.0.0.1:{free_port()}",
                        data_dir=tmp_path)
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://casework") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["failed"] == ["temporal"]


def test_dev_uses_an_existing_cluster_instead_of_starting_one(tmp_path: Path) -> None:
    """TEMPORAL_ADDRESS set: `casework dev` starts no Temporal of its own (issue 2) and
    runs worker and API against the one it was given."""
    cluster_port = free_port()
    cluster = subprocess.Popen(
        [str(venv_binary("temporal")), "server", "start-dev", "--headless", "--ip",
         "127.0.0.1", "--port", str(cluster_port), "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    try:
        deadline = time.monotonic() + 60
        while not _listening(cluster_port):
            assert time.monotonic() < deadline, "the stand-in cluster did not start"
            time.sleep(0.2)
        process = _start(tmp_path, ports, temporal_address=f"127.0.0.1:{cluster_port}")
        api = f"http://127.0.0.1:{ports['api']}"
        try:
            _wait_ready(api, process)
            assert not _listening(ports["temporal"]) and not _listening(ports["ui"])
            auth = {"Authorization": f"Bearer {_token(tmp_path)}"}
            created = httpx.post(f"{api}/cases", json=registration("C-E2E-CLUSTER"),
                                 headers=auth, timeout=30)
            assert created.status_code == 201, created.text
        finally:
            output = _stop(process)
        assert "existing cluster" in output
        assert not (tmp_path / "temporal.db").exists()
    finally:
        cluster.send_signal(signal.SIGINT)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
