"""Waits the server in front holds instead of a thread: a WSGI extension between the sandbox
and ``sandbox.serving.bridge``.

A scenario's latency, a ``timeout`` scenario's wait and chaos's delay are waits after the
answer is made: "the normal answer, late". Slept in the thread that made the answer, each
held that thread for the whole wait, so eight slow requests took every thread of a
``2 x 4`` server and the ninth (a write, say) waited for one of them to wake. A server that
can hold a finished answer on its event loop says so with ``HOLDS_ANSWERS`` in the environ;
the app then writes the wait under ``WAIT`` and returns at once, and the server sends the
answer when the wait is over: a timer, not a thread. Any other server (gunicorn, a test
client) gets the wait slept in the thread as before.
"""

from __future__ import annotations

HOLDS_ANSWERS = "sandbox.holds_answers"  # set by the server: it can hold a finished answer
WAIT = "sandbox.wait"  # set by the app: seconds to hold this answer before sending it
