"""The ``contracts`` command."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Contract-test an implementation of an OpenAPI document."""


@main.command()
def run() -> None:
    """Not built yet: tracked by the contract-testing issue."""
    raise click.ClickException("`contracts run` is not built yet (see the project's issues).")
