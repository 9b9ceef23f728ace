"""The ``sandbox`` command: serve or check a spec, keys, webhooks, the demo.

Each command sits in a module of its own beside ``common`` (the console, failing with exit 2,
loading a spec as serve does); this module only puts them in one group, and imports a
command's module when that command is asked for: ``sandbox serve`` does not load the demo's
or the key store's modules, nor ``sandbox --version`` any of them.
"""

from __future__ import annotations

import importlib

import click

# command name -> module and attribute, in the order help lists them (click sorts)
COMMANDS = {
    "check": "sandbox.cli.serve:check",
    "demo": "sandbox.cli.demo:demo",
    "keys": "sandbox.cli.keys:keys",
    "serve": "sandbox.cli.serve:serve",
    "trigger": "sandbox.cli.webhooks:trigger",
    "webhooks": "sandbox.cli.webhooks:webhooks",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, attribute = where.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="openapi-sandbox")
def main() -> None:
    """Serve an OpenAPI document as a realistic, stateful sandbox."""


__all__ = ["main"]
