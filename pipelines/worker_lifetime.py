"""Step workers die with the build that started them.

Under the multiprocess executor each step runs in a process forked by multiprocessing's fork
server. A SIGKILL of the build (an operator's `kill -9`, the OOM killer, a scheduler's
timeout) runs no clean-up code, and neither the fork server nor its children notice: every
worker holds the fork server's "alive" pipe open, so the server never sees the build go, and
the workers, reparented to init, kept running their steps (and writing to the lake) while a
rerun started.

multiprocessing hands each worker a sentinel of the process that asked for it (the build):
a pipe that reads end-of-file once that process is gone. A daemon thread in every worker
waits on it and kills the worker the moment the build dies. The thread costs nothing while
it waits (it blocks in `select`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import wait

_watching = False
_lock = threading.Lock()


def die_with_the_build() -> None:
    """Idempotent; a no-op in a process that multiprocessing did not start (the build itself,
    `dagster dev`, a test)."""
    global _watching
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    with _lock:
        if _watching:
            return
        _watching = True
    threading.Thread(
        target=_kill_self_when_gone, args=(parent.sentinel,), name="die-with-build", daemon=True
    ).start()


def _kill_self_when_gone(sentinel: int) -> None:
    wait([sentinel])  # returns only when the build's end of the pipe is closed: it is gone
    os.kill(os.getpid(), signal.SIGKILL)
