"""Issue 9.6: files that hold case data are private -- `DATA_DIR` 0700, every file in it
0600, whether the command creates them or finds them from an older version."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from casework.private_files import make_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_make_private_tightens_a_folder_left_world_readable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "temporal").mkdir(parents=True)
    data.chmod(0o755)
    (data / "temporal").chmod(0o755)
    notes = data / "casework.db"
    notes.write_text("review reasons")
    notes.chmod(0o644)
    wal = data / "temporal" / "temporal.db-wal"
    wal.write_text("history")
    wal.chmod(0o664)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)

    make_private(data)

    assert _mode(data) == 0o700 and _mode(data / "temporal") == 0o700
    assert _mode(notes) == 0o600 and _mode(wal) == 0o600
    assert _mode(outside) == 0o644  # a link out of the folder is not followed


def test_make_private_creates_a_missing_folder_0700(tmp_path: Path) -> None:
    created = make_private(tmp_path / "new" / "data")
    assert _mode(created) == 0o700


def test_migrate_creates_the_embedded_database_private(tmp_path: Path) -> None:
    """`casework migrate` on the embedded default: the SQLite file (and any journal it
    leaves) is 0600 in a 0700 folder, though the shell's umask is the usual 022."""
    data = tmp_path / "data"
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "-c", "import os, sys; os.umask(0o022); "
         "from casework.cli import main; main(sys.argv[1:])", "migrate"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _mode(data) == 0o700
    files = [path for path in data.rglob("*") if path.is_file()]
    assert data / "casework.db" in files
    assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
