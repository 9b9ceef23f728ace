"""Where sandbox state lives: the protocols every backend implements, and ``open_state``.

    protocols.py   what each store must do (and what must be atomic), and the values kept
    select.py      open_state(settings): the one place that picks a backend
    sqlite/        the embedded default: one state file, shared by a machine's workers
    redis/         the same protocols on Redis, shared by processes and machines

Domain classes take a store from the backend (``backend.keys()``, ``backend.journal()``...)
and keep the rules; the stores keep the data.
"""

from sandbox.state.protocols import Backend, ListQuery, Record, RecordStore

__all__ = ["Backend", "ListQuery", "Record", "RecordStore"]
