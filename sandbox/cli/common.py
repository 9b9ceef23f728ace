"""What every command shares: the console, how a command fails, loading a spec as serve does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from sandbox.config.settings import Settings, load_settings
from sandbox.errors import ConfigError, SpecError
from sandbox.spec.model import Spec, load_spec

console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


def load(
    spec_path: Path, config: Path | None, flags: dict[str, Any], *, serving: bool = False
) -> tuple[Spec, Settings]:
    try:
        probe = load_settings(spec_path, config_file=config, overrides=flags)
        spec = load_spec(
            spec_path,
            validate=probe.validate_spec,
            lenient=probe.serves_invalid_specs,
            cache_dir=probe.spec_cache_dir,
            # served leniently either way: problems are printed when validation finds them
            on_warning=lenient_warning if serving else None,
        )
        settings = load_settings(
            spec_path,
            config_file=config,
            spec_extension=spec.document.get("x-sandbox"),
            overrides=flags,
        )
        if serving:  # the secret behind the banner's credentials: a problem is a message here
            settings.default_oauth_client  # noqa: B018
    except SpecError as exc:
        fail(f"cannot serve this spec\n{exc}")
    except ConfigError as exc:
        fail(str(exc))
    return spec, settings


def lenient_warning(problem: str) -> None:
    console.print(
        f"[bold yellow]warning:[/] served anyway (--strict refuses it):\n{problem}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
