"""Worker processes end with the process that started them: no orphan outlives a killed build.

A pool worker blocks reading its task queue; when the main process is SIGKILLed, nothing tells it,
and it would live on (holding the terminal's stdout). On Linux the kernel is asked to SIGKILL the
worker when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere, or if that call is unavailable, a
thread checks once a second that the parent is still there. Workers write no files, so being
killed outright loses nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_INTERVAL_S = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a worker process; `parent_pid` is the starter's pid, taken before the fork."""
    if not (sys.platform.startswith("linux") and _set_parent_death_signal()):
        _start_watchdog(parent_pid)
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)


def _set_parent_death_signal() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _start_watchdog(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCH_INTERVAL_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
