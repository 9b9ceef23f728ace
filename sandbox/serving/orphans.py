"""A worker whose server process is gone stops: it must not serve or send on its own.

granian's workers do not notice when their main process dies without a word (SIGKILL, the
OOM killer): they go on answering on the shared port and sending webhooks, out of reach of
any later `sandbox serve` on the same state. gunicorn's workers check their parent on
every loop; here each worker runs a thread that does the same once a second (a
``getppid()`` call: nothing measurable) and sends itself SIGTERM, the signal a normal
shutdown sends, when its parent has changed. ``prctl(PR_SET_PDEATHSIG)`` would be
immediate but fires when the *thread* that forked exits, which a server may do on purpose.
"""

from __future__ import annotations

import os
import signal
import threading

CHECK_SECONDS = 1.0


def stop_when_orphaned(parent: int, every: float = CHECK_SECONDS) -> threading.Thread:
    """Watch ``parent`` (the server process) from this worker; SIGTERM ourselves when gone."""

    def watch() -> None:
        while os.getppid() == parent:
            stop.wait(every)
        os.kill(os.getpid(), signal.SIGTERM)

    stop = threading.Event()  # never set: the watch ends with the process
    thread = threading.Thread(target=watch, name="sandbox-orphan-watch", daemon=True)
    thread.start()
    return thread
