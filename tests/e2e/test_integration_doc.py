"""docs/integration.md works as written (issue 10, item 4): its shell blocks, run in
order by bash against `casework dev` on this machine, register, endorse, submit and
assess, and the agency reads the assessed report. Only the API's port differs from the
document (the test's stack listens on a free one)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from casework.processes import free_port
from tests.e2e.test_dev_stack import _start, _stop, _wait_ready

pytestmark = pytest.mark.e2e
PROJECT = Path(__file__).resolve().parents[2]
DOC = PROJECT / "docs" / "integration.md"


def documented_script(api: str) -> str:
    """Every ```sh block of the document, as it stands in the file, in order: copied from
    the raw Markdown or from the rendered page, a heredoc's end must still be found."""
    blocks = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)
    assert len(blocks) >= 6, "the walk-through lost a step"
    script = "\n".join(blocks)
    assert "API=http://127.0.0.1:8000\n" in script
    return "set -euo pipefail\n" + script.replace("API=http://127.0.0.1:8000\n", f"API={api}\n")


def test_the_integration_walk_through_runs_verbatim(tmp_path: Path) -> None:
    if not (PROJECT / ".venv" / "bin" / "casework").exists():
        pytest.skip("the document runs .venv/bin/casework: `make install` first")
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    process = _start(tmp_path, ports)
    try:
        _wait_ready(api, process)
        env = {**os.environ, "DATA_DIR": str(tmp_path)}
        env.pop("DATABASE_URL", None)
        env.pop("TEMPORAL_ADDRESS", None)
        done = subprocess.run(["bash", "-c", documented_script(api)], cwd=PROJECT, env=env,
                              capture_output=True, text=True, timeout=120)
    finally:
        _stop(process)
    assert done.returncode == 0, done.stdout + done.stderr
    # The last block's answer: the agency reads its case, report assessed, period a success.
    case = json.loads(done.stdout.strip().splitlines()[-1])
    period = case["periods"][0]
    assert period["outcome"] == "success", period
    assert [r["report_id"] for r in period["reports"]] == ["rep-2027-q1"]
