"""The embedded data folder is private to the service's user (issue 9, item 6).

`DATA_DIR` holds case data: the read model (with its notes: review reasons, audit
findings, closure summaries), its SQLite journal files, Temporal's history, the logs and
the keys. The keys were already created 0600, but SQLite, the Temporal dev server and the
log file were created with the default umask (0644 in a 0755 folder), so any local user
could read the notes. Two measures, because neither alone is enough:

- every `casework` command runs with umask 077, so whatever it (or the Temporal dev server
  it starts, which inherits the umask) creates later is 0600 / 0700 -- including SQLite's
  `-wal` and `-shm` files, created long after start;
- at start, the folder and everything already in it are tightened, so a data folder made
  by an older version (or by hand) does not stay readable.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def use_private_umask() -> int:
    """Make files this process (and its children) creates from now on private to its
    user. Returns the previous umask, so a caller that must can restore it."""
    return os.umask(PRIVATE_UMASK)


def make_private(folder: Path) -> Path:
    """Create `folder` if missing and make it and everything below it private: folders
    0700, files 0600. Symbolic links are left alone (chmod would follow them out of the
    folder). Idempotent; returns `folder`."""
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _tighten(folder, PRIVATE_DIR_MODE)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            _tighten(Path(root, name), PRIVATE_DIR_MODE)
        for name in files:
            _tighten(Path(root, name), PRIVATE_FILE_MODE)
    return folder


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:  # a journal file SQLite removed meanwhile
        return
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
        return
    if info.st_uid != os.geteuid():  # not ours to change (a shared mount): left as it is
        return
    if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
        path.chmod(mode)
