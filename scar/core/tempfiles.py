"""Crash-safe writes (temporary name, fsync, rename) and the clean-up of temporaries left by kills.

A temporary is `.<name>.tmp-<host>-<pid>` beside its target, so a reader never sees a half file and
two writers never share a temporary. A process killed mid-write leaves its temporary behind; the next
build calls `remove_stale_temporaries`, which deletes those whose writer is gone: same host and no
such process (another host's files are left alone, since its processes cannot be seen from here).
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any, Iterable

_HOST = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"
# `.NAME.tmp-HOST-PID`, and the older `.NAME.tmp-PID` (no host: written on this host, by assumption)
_TEMP = re.compile(r"^\..+\.tmp-(?:(?P<host>.+)-)?(?P<pid>\d+)$")


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{_HOST}-{os.getpid()}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True  # cannot tell: keep the file
    return True


def remove_stale_temporaries(folders: Iterable[Path]) -> list[Path]:
    """Delete the temporaries in `folders` (not recursive) whose writing process is dead."""
    removed: list[Path] = []
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = _TEMP.match(name)
            if match is None or match.group("host") not in (None, _HOST) or _alive(int(match.group("pid"))):
                continue
            path = Path(folder) / name
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                continue  # a read-only share: leave it (readers skip dot files anyway)
            removed.append(path)
    return removed
