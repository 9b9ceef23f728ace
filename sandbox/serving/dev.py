"""``--reload``: werkzeug's development server, restarting the process on a code or spec
change. One process, a thread per connection and no read timeouts: for editing a spec at
one's desk, not for serving anyone else."""

from __future__ import annotations

from sandbox.config.settings import Settings
from sandbox.serving import Served


def serve_dev(settings: Settings, served: Served) -> None:
    from werkzeug.serving import run_simple

    served.in_each_worker()
    run_simple(
        settings.host,
        settings.port,
        served.app,
        use_reloader=True,
        extra_files=[str(settings.spec)],
        threaded=True,
    )
