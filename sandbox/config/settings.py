"""Settings, layered: defaults < ``sandbox.yaml`` or the spec's ``x-sandbox`` < ``SANDBOX_*``
environment variables < command-line flags.

Every field here is documented in the README's configuration reference.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from sandbox.config.secret import derive, load_or_create
from sandbox.errors import ConfigError

DEFAULT_LIMITS = "1000/minute;10000/hour"
DEFAULT_PLAN = "default"
# the seed guides' plans: a volume per hour and a burst per second; enterprise is unlimited
PLANS: dict[str, str] = {
    "free": "100/hour;10/second",
    "starter": "1000/hour;50/second",
    "pro": "10000/hour;200/second",
    "enterprise": "",
}


@dataclass
class Settings:
    spec: Path = Path("openapi.yaml")
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int | None = None
    # the HTTP server in front and its shape (sandbox/serving says why these defaults)
    server: str = "granian"
    workers: int = 2
    threads: int = 0  # 0: the server's own default, ``default_threads``
    # seconds a client gets for a request's headers, then for its body (granian only)
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    reload: bool = False
    locale: str = "en_US"
    max_body_bytes: int = 5 * 1024 * 1024
    api_keys: list[str] = field(default_factory=list)
    rate_limits: str = DEFAULT_LIMITS
    plans: dict[str, str] = field(default_factory=dict)
    keys: list[dict[str, str]] = field(default_factory=list)
    oauth_clients: list[dict[str, Any]] = field(default_factory=list)
    token_ttl: int = 3600
    token_algorithm: str = "RS256"
    token_issuer: str = ""
    token_audience: str = ""
    webhook_signing: str = "hmac-sha256-hex"
    webhook_attempts: int = 3
    webhook_backoff: float = 2.0
    webhook_timeout: float = 10.0
    # None: allowed while listening on loopback only, refused beyond it (a shared host)
    webhook_allow_private: bool | None = None
    webhook_allowed_hosts: list[str] = field(default_factory=list)
    webhook_dns: bool = True  # off: names are never looked up, so never sent to
    webhook_max_payload: int = 256 * 1024
    webhook_event_names: dict[str, str] = field(default_factory=dict)
    webhook_rotation_grace: float = 24 * 3600.0
    webhook_ordered: bool = False
    callback_secret: str = ""
    default_plan: str = DEFAULT_PLAN
    rate_limit_storage: str = "auto"
    rate_limit_scale: float = 1.0
    ietf_rate_limit_headers: bool = False
    auth: bool = True
    validate_responses: bool = False
    cors: bool = True
    validate_spec: bool = True
    # an invalid spec is served with its problems as warnings unless strict (CI) refuses it
    lenient: bool = True
    strict: bool = False
    spec_cache: str = ".sandbox/cache"
    state: str = ".sandbox/state.sqlite"
    # all shared state in this Redis instead (redis://host:6379/0): sandboxes act as one
    redis: str = ""
    stateful: bool = True
    # off: an unknown id of a stored resource is a 404 even where the operation declares none
    declared_statuses_only: bool = False
    seed_records: int = 25
    # resource name (as `sandbox check` lists it) -> the prefix its new ids start with
    id_prefixes: dict[str, str] = field(default_factory=dict)
    chaos: str = ""
    journal_size: int = 1000
    admin_token: str = ""
    log_format: str = "json"

    @property
    def on_loopback(self) -> bool:
        """Listening where only this machine can reach the sandbox."""
        return is_loopback(self.host)

    @property
    def private_webhooks(self) -> bool:
        """Whether webhooks may go to loopback and private addresses: on loopback the
        receiver is the developer's own; on a shared host it would be someone's service."""
        if self.webhook_allow_private is None:
            return self.on_loopback
        return self.webhook_allow_private

    @property
    def serves_invalid_specs(self) -> bool:
        """Serve a spec that breaks the OpenAPI schema, with warnings (not ``strict``)."""
        return self.lenient and not self.strict

    @property
    def spec_cache_dir(self) -> str | None:
        """Where parsed specs are kept, or None when the cache is off."""
        return None if self.spec_cache.strip().lower() in ("", "off", "none") else self.spec_cache

    @functools.cached_property
    def _instance_secret(self) -> bytes:
        """Read (or made) once per Settings, before any worker forks (the banner asks)."""
        return load_or_create(self.state, self.redis)

    def _derived(self, purpose: str) -> str:
        return derive(self._instance_secret, purpose, self.spec.name)

    @property
    def default_api_key(self) -> str:
        """Stable across restarts so clients need no change; derived from the sandbox's own
        random secret (``sandbox.config.secret``), so nobody can compute it."""
        if self.api_keys:
            return self.api_keys[0]
        return f"sk_test_{self._derived('api-key')[:24]}"

    @property
    def default_oauth_client(self) -> tuple[str, str]:
        """(client_id, client_secret) of the banner's OAuth client, stable like the key."""
        digest = self._derived("oauth-client")
        return f"client_test_{digest[:16]}", f"cs_test_{digest[16:48]}"

    @property
    def signing_secret_for_callbacks(self) -> str:
        """Callbacks have no subscription to hold a secret: one per sandbox, stable."""
        if self.callback_secret:
            return self.callback_secret
        digest = bytes.fromhex(self._derived("callbacks"))
        return "whsec_" + base64.b64encode(digest[:24]).decode()

    def fixed_keys(self) -> dict[str, str]:
        """Every key the settings declare, with its plan (created keys live in the state)."""
        fixed = {self.default_api_key: self.default_plan}
        fixed.update(dict.fromkeys(self.api_keys, self.default_plan))
        for entry in self.keys:
            if not isinstance(entry, dict) or not entry.get("key"):
                raise ConfigError(f"each of 'keys' needs a 'key' (and a 'plan'): got {entry!r}")
            fixed[str(entry["key"])] = str(entry.get("plan", self.default_plan))
        return fixed

    def all_plans(self) -> dict[str, str]:
        """Plan name -> windows: the seed guides' plans, ``default`` (= ``rate_limits``), and
        the settings' own plans over both."""
        return {**PLANS, DEFAULT_PLAN: self.rate_limits, **self.plans}


def default_threads(server: str) -> int:
    """Threads per worker where none are set: 2 on granian, whose threads wait only on the
    writers' lock (reads of local state run on the event loop, a client's body and a
    scenario's wait are held there too), 4 on gunicorn, whose threads also read the clients
    and sleep the waits. On granian 2 x 2 served 7-20 % more creates than 2 x 4 and the same
    reads (``bench/serve_bench.py`` settings, two interleaved rounds each: tuned 3,162 / 3,076
    against 2,723 / 2,556 req/s; as ``make run`` has it 2,311 / 2,413 against 2,159 / 2,198),
    and the same on Redis (``bench/redis_bench.py --threads 2`` against 4)."""
    return 2 if server == "granian" else 4


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_TYPES = get_type_hints(Settings)


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    text = str(value).strip()
    try:
        if kind == bool | None and (value is None or text.lower() in ("", "auto")):
            return None
        if kind in (bool, bool | None):
            if isinstance(value, bool):
                return value
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        if kind in (dict[str, str], list[dict[str, str]], list[dict[str, Any]]):
            loaded = json.loads(value) if isinstance(value, str) else value
            if not isinstance(loaded, dict if kind == dict[str, str] else list):
                raise ValueError(text)
            return loaded
        if kind == int | None:
            return None if value is None or text == "" else int(value)
        if kind is Path:
            return Path(text)
        if kind == list[str]:
            return list(value) if isinstance(value, list) else [v for v in text.split(",") if v]
        return text
    except ValueError:
        raise ConfigError(f"setting {name!r} cannot be {value!r}: expected {kind}") from None


def _apply(settings: Settings, values: Mapping[str, Any], source: str) -> None:
    for raw_name, value in values.items():
        name = raw_name.replace("-", "_")
        if name not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ConfigError(f"unknown setting {raw_name!r} in {source}; known settings: {known}")
        setattr(settings, name, _coerce(name, value))


def _file_settings(path: Path) -> Mapping[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path} must be a mapping of settings")
    return loaded


def load_settings(
    spec: Path | str | None = None,
    *,
    config_file: Path | None = None,
    spec_extension: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    settings = Settings()
    if spec is not None:
        settings.spec = Path(spec)
    if spec_extension:
        _apply(settings, spec_extension, "the spec's x-sandbox")
    file = config_file or Path("sandbox.yaml")
    if config_file is not None or file.exists():
        _apply(settings, _file_settings(file), str(file))
    environ = os.environ if environ is None else environ
    from_env = {
        key[len("SANDBOX_") :].lower(): value
        for key, value in environ.items()
        if key.startswith("SANDBOX_") and key[len("SANDBOX_") :].lower() in _FIELDS
    }
    _apply(settings, from_env, "the environment")
    _apply(settings, {k: v for k, v in (overrides or {}).items() if v is not None}, "flags")
    if settings.threads <= 0:
        settings.threads = default_threads(settings.server)
    return settings
