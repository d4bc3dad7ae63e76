"""How the `casework` console script leaves the process.

Once the Temporal SDK's native runtime is loaded, interpreter teardown can abort a
command that already succeeded (temporalio/sdk-python#300; it made CI flaky: one
`register-search-attributes` run in about twenty died with SIGABRT under load). The
script therefore skips teardown then, and must still give the right exit status and
every line of output. Each check runs the script in a child process, as a shell would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from casework.cli import exit_code_of

# Registers a teardown marker, then runs the console script's entry point with the
# given arguments.
_SCRIPT = """
import atexit, sys
atexit.register(lambda: print("interpreter teardown ran", flush=True))
sys.argv = ["casework", *sys.argv[1:]]
from casework.cli import entry
entry()
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "ENVIRONMENT": "embedded"}
    return subprocess.run([sys.executable, "-c", _SCRIPT, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False, cwd=tmp_path)


def test_every_command_loads_the_native_runtime() -> None:
    """Why `entry` never tears down: importing the command already loads it."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, casework.cli; "
         "print('temporalio.bridge.temporal_sdk_bridge' in sys.modules)"],
        capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


def test_teardown_is_skipped_and_output_kept(tmp_path: Path) -> None:
    done = _run(tmp_path, "token", "--role", "practitioner")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2, "the whole token (header.claims.signature) is printed"
    assert "interpreter teardown ran" not in done.stdout


def test_a_refused_command_keeps_its_message_and_status(tmp_path: Path) -> None:
    # C7: an agency token must name its agency; the refusal is a SystemExit message.
    done = _run(tmp_path, "token", "--role", "agency")
    assert done.returncode == 1
    assert "agency and integration tokens need --agency" in done.stderr


def test_a_usage_error_keeps_argparse_status(tmp_path: Path) -> None:
    done = _run(tmp_path, "no-such-command")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_exit_code_of_follows_the_interpreter() -> None:
    assert exit_code_of(SystemExit()) == 0
    assert exit_code_of(SystemExit(3)) == 3
    assert exit_code_of(SystemExit("refused")) == 1
