"""The ``sandbox`` command: serve or check a spec, keys, webhooks, the demo.

Each command sits in a module of its own beside ``common`` (the console, failing with exit 2,
loading a spec as serve does); this module only puts them in one group.
"""

from __future__ import annotations

import click

from sandbox.cli.demo import demo
from sandbox.cli.keys import keys
from sandbox.cli.serve import check, serve
from sandbox.cli.webhooks import trigger, webhooks


@click.group()
@click.version_option(package_name="openapi-sandbox")
def main() -> None:
    """Serve an OpenAPI document as a realistic, stateful sandbox."""


for command in (serve, check, keys, trigger, demo, webhooks):
    main.add_command(command)

__all__ = ["main"]
