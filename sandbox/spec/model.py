"""Loading an OpenAPI document into the operation table the sandbox serves.

The table is built once at start-up so that no request ever walks the spec.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.errors import SpecError
from sandbox.spec.cache import LoadedSpec, SpecCache
from sandbox.spec.documents import (
    Bundler,
    check_local_refs,
    escape_pointer_token,
    follow_pointer,
    read_document,
)
from sandbox.spec.gcpause import paused_gc
from sandbox.spec.repair import mend_scalars, skip_stray_media
from sandbox.spec.structure import check_structure, locate
from sandbox.spec.swagger2 import convert as convert_swagger2
from sandbox.spec.swagger2 import is_swagger2

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json(?:;.*)?$|^\*/\*$", re.I)


def is_json_media(media_type: str) -> bool:
    return bool(JSON_MEDIA.match(media_type.strip()))


@dataclass(frozen=True)
class Parameter:
    """One request parameter with its ``$ref`` resolved."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    raw: dict[str, Any]


@dataclass
class Operation:
    """Everything the pipeline needs to know about one method on one path."""

    operation_id: str
    method: str
    path: str
    pointer: str
    raw: dict[str, Any]
    path_item: dict[str, Any]
    parameters: list[Parameter]
    request_body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    security: list[dict[str, list[str]]]
    tags: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @cached_property
    def route_path(self) -> str:
        """The path a request names: the key without a query string some specs put in it
        (OpenAI's ``/responses?beta=true`` beside ``/responses``)."""
        return self.path.split("?", 1)[0]

    @cached_property
    def query_selector(self) -> tuple[tuple[str, str], ...]:
        """The query pairs the path key holds, which a request must carry to mean this
        operation rather than the plain path's. OpenAPI keys are paths only, yet real specs
        tell operations apart this way; a templated value (``?type={kind}``) selects nothing."""
        if "?" not in self.path:
            return ()
        query = self.path.split("?", 1)[1]
        return tuple(
            (name, value)
            for name, value in parse_qsl(query, keep_blank_values=True)
            if "{" not in value and "{" not in name
        )

    def response_for(self, status: int) -> tuple[str, dict[str, Any]] | None:
        """The declared response that covers ``status``: exact, then ``4XX``, then default."""
        for candidate in (str(status), f"{str(status)[0]}XX", "default"):
            response = self.responses.get(candidate)
            if response is not None:
                return candidate, response
        return None

    @cached_property
    def success_statuses(self) -> list[int]:
        codes = [int(code) for code in self.responses if code.isdigit() and 200 <= int(code) < 300]
        if not codes and "2XX" in self.responses:
            codes = [200]
        return sorted(codes)


class Spec:
    """A loaded, bundled and checked OpenAPI document."""

    def __init__(self, path: Path, document: dict[str, Any], *, origins: dict | None = None):
        self.path = path
        self.document = document
        self.origins = origins or {}
        self.openapi = str(document.get("openapi", ""))
        self.version = "3.0" if self.openapi.startswith("3.0") else "3.1"
        info = document.get("info")
        self.info: dict[str, Any] = info if isinstance(info, dict) else {}
        self.title = str(self.info.get("title") or path.stem)
        self.base_path = _base_path(document)
        schemes = (document.get("components") or {}).get("securitySchemes") or {}
        self.security_schemes: dict[str, dict[str, Any]] = {
            name: self.deref(scheme) for name, scheme in schemes.items()
        }
        self.operations = list(self._build_operations())
        self.by_id = {op.operation_id: op for op in self.operations}
        self.warnings: list[str] = []  # why a lenient load let an invalid document through

    def resolve(self, ref: str) -> Any:
        """Target of a local ``$ref`` (every ref is local once the spec is bundled)."""
        if not ref.startswith("#"):
            raise KeyError(ref)
        return follow_pointer(self.document, ref[1:])

    def deref(self, node: Any) -> Any:
        """Follow a chain of ``$ref`` until a real node (siblings of ``$ref`` are ignored)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise SpecError(f"$ref cycle through {ref}", file=self.path, pointer=ref[1:])
            seen.add(ref)
            node = self.resolve(ref)
        return node

    def _build_operations(self) -> Iterator[Operation]:
        used_ids: set[str] = set()
        global_security = self.document.get("security") or []
        for path, path_item in (self.document.get("paths") or {}).items():
            path_item = self.deref(path_item)
            if not isinstance(path_item, dict):
                continue
            shared = [self.deref(p) for p in path_item.get("parameters") or []]
            for method in HTTP_METHODS:
                raw = path_item.get(method)
                if not isinstance(raw, dict):
                    continue
                pointer = f"/paths/{escape_pointer_token(path)}/{method}"
                operation_id = raw.get("operationId") or _synthetic_id(method, path)
                if operation_id in used_ids:
                    operation_id = _synthetic_id(method, path)
                used_ids.add(operation_id)
                security = raw.get("security", global_security)
                yield Operation(
                    operation_id=operation_id,
                    method=method.upper(),
                    path=path,
                    pointer=pointer,
                    raw=raw,
                    path_item=path_item,
                    parameters=self._parameters(shared, raw.get("parameters") or []),
                    request_body=self.deref(raw.get("requestBody")),
                    responses={
                        _status_key(code): self.deref(response) or {}
                        for code, response in (raw.get("responses") or {}).items()
                    },
                    security=list(security or []),
                    tags=list(raw.get("tags") or []),
                )

    def _parameters(self, shared: list[dict], own: list[dict]) -> list[Parameter]:
        merged: dict[tuple[str, str], dict] = {}
        for raw in [*shared, *(self.deref(p) for p in own)]:
            if isinstance(raw, dict) and "name" in raw and "in" in raw:
                merged[(raw["name"], raw["in"])] = raw
        params = []
        for (name, location), raw in merged.items():
            schema = raw.get("schema")
            if schema is None and isinstance(raw.get("content"), dict) and raw["content"]:
                schema = next(iter(raw["content"].values())).get("schema")
            params.append(
                Parameter(
                    name=name,
                    location=location,
                    required=bool(raw.get("required")) or location == "path",
                    schema=schema if isinstance(schema, dict) else {},
                    raw=raw,
                )
            )
        return params


def _status_key(code: object) -> str:
    """``"4xx"`` -> ``"4XX"``; ``default`` and numbers as they are."""
    text = str(code)
    return "default" if text.lower() == "default" else text.upper()


def _synthetic_id(method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
    return f"{method.lower()}_{words}" if words else method.lower()


def _base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url") or "")
    for name, variable in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
    path = urlsplit(url).path if "://" in url else url
    return "/" + path.strip("/") if path.strip("/") else ""


def _detect_version(document: Any, path: Path) -> str:
    if not isinstance(document, dict):
        raise SpecError("not an OpenAPI document: the top level must be a mapping", file=path)
    if "swagger" in document:
        if is_swagger2(document):
            return "2.0"
        raise SpecError(
            f"unsupported 'swagger' version: {document['swagger']!r}",
            file=path,
            pointer="/swagger",
            hint="the sandbox serves Swagger 2.0 (converted on load) and OpenAPI 3.0 to 3.2",
        )
    version = document.get("openapi")
    if not isinstance(version, str) or not re.match(r"^3\.[012](\.\d+)?", version):
        raise SpecError(
            f"unsupported or missing 'openapi' version: {version!r}",
            file=path,
            pointer="/openapi",
            hint="the sandbox serves OpenAPI 3.0, 3.1 and 3.2 documents",
        )
    return version


def validate_document(document: dict[str, Any], path: Path, origins: dict) -> None:
    """Run openapi-spec-validator and report the first problem with its location."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    openapi = str(document.get("openapi") or document.get("swagger"))
    validator_cls: type = OpenAPIV31SpecValidator
    if is_swagger2(document):
        from openapi_spec_validator import OpenAPIV2SpecValidator

        validator_cls = OpenAPIV2SpecValidator
    elif openapi.startswith("3.0"):
        validator_cls = OpenAPIV30SpecValidator
    if openapi.startswith("3.2"):
        try:
            from openapi_spec_validator import OpenAPIV32SpecValidator
        except ImportError:  # older openapi-spec-validator
            return
        validator_cls = OpenAPIV32SpecValidator
    try:
        errors = list(validator_cls(document).iter_errors())
    except Exception as exc:  # the validator's own failure on an odd document: a problem too
        raise SpecError(
            f"the spec validator could not check this document ({type(exc).__name__}: {exc})",
            file=path,
        ) from None
    if not errors:
        return
    located = [e for e in errors if getattr(e, "path", None)]
    error = located[0] if located else errors[0]
    file, pointer, line = locate(getattr(error, "path", ()) or (), path, origins)
    others = [_first_line(e) for e in errors if e is not error][:2]
    more = "".join(f"\n  also: {text}" for text in others)
    if len(errors) > 3:
        more += f"\n  ... and {len(errors) - 3} more problems"
    kind = "Swagger" if is_swagger2(document) else "OpenAPI"
    raise SpecError(
        f"invalid {kind} {openapi} document: {_first_line(error)}{more}",
        file=file,
        pointer=pointer,
        line=line,
    )


def _first_line(error: Exception) -> str:
    return str(getattr(error, "message", error)).splitlines()[0]


@paused_gc()  # a spec read allocates millions of objects that all stay alive (gcpause)
def load_spec(
    path: str | Path,
    *,
    validate: bool = True,
    lenient: bool = False,
    cache_dir: str | Path | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Spec:
    """Read, bundle, check and index a spec; every failure is a SpecError.

    ``lenient``: a document that breaks the OpenAPI schema is still served, its problems (and
    what ``sandbox.spec.repair`` mended) kept in ``Spec.warnings``, as peers do with the specs
    people actually have. What cannot be served (unreadable files, unresolvable references,
    no paths) still fails. Not lenient, any problem or mend fails.
    ``cache_dir``: reuse the parsed and validated document while no file of it changes.
    ``on_warning`` (lenient only): validate in a background thread instead of before serving,
    since the document is served either way; problems are reported through it when found
    (validating openai's spec takes longer than everything else at start-up together)."""
    path = Path(path)
    cache = SpecCache(cache_dir) if cache_dir else None
    loaded = cache.get(path, validate) if cache is not None else None
    later = validate and lenient and on_warning is not None and loaded is None
    if later and cache is not None:  # parsed before, never validated to the end (stopped early)
        unchecked = cache.get(path, False)
        if unchecked is not None:
            assert on_warning is not None
            _validate_later(
                unchecked.document, path, unchecked.origins,
                cache.writer(path, True, unchecked), on_warning,
            )  # fmt: skip
            loaded = unchecked
    if loaded is None and cache is not None and not later:
        loaded = _loaded_apart(path, validate, cache)
    if loaded is None:
        loaded, source = _load_fresh(path, validate and not later, check=validate)
        if later:
            assert on_warning is not None
            if cache is not None:  # a restart before the verdict still skips the parsing
                cache.put(path, False, loaded)
            write = cache.writer(path, True, loaded) if cache is not None else None
            _validate_later(source, path, loaded.origins, write, on_warning)
        elif cache is not None:
            cache.put(path, validate, loaded)
    if not lenient and loaded.notes:
        raise loaded.notes[0]
    if loaded.problem is not None and not lenient:
        raise loaded.problem
    spec = Spec(path, loaded.document, origins=loaded.origins)
    spec.warnings = [str(note) for note in loaded.notes]
    if loaded.problem is not None:
        spec.warnings.append(str(loaded.problem))
    return spec


def _load_fresh(
    path: Path, validate: bool, *, check: bool = True
) -> tuple[LoadedSpec, dict[str, Any]]:
    """The loaded spec, and the bundled document as written (before any Swagger conversion,
    so that validation reports locations in the user's own file). ``check``: refuse what
    cannot be served (``structure``) even when full validation comes later or never."""
    notes: list[SpecError] = []
    document = read_document(path, notes)
    if isinstance(document, dict):
        notes += mend_scalars(document, path)
    _detect_version(document, path)
    bundler = Bundler(path, document, notes)
    source = bundler.bundle()
    check_local_refs(source, path)
    if not is_swagger2(source):
        notes += skip_stray_media(source, path)
    if check:
        check_structure(source, path, bundler.origins)
    problem = None
    if validate:  # a Swagger document is checked as written, so errors point into the file
        problem = _problem_apart(source, path, bundler.origins)
    document = convert_swagger2(source) if is_swagger2(source) else source
    if not document.get("paths") and not document.get("webhooks"):
        raise SpecError("the document declares no paths and no webhooks", file=path)
    loaded = LoadedSpec(
        document, bundler.origins, problem, files=list(bundler.documents), notes=notes
    )
    return loaded, source


def _loaded_apart(path: Path, validate: bool, cache: SpecCache) -> LoadedSpec | None:
    """A spec no cache holds, read and checked by a forked child into the cache, then read
    from there: reading a YAML document leaves this process's heap fragmented (about 9 MB of
    freed but held memory on openapi.yaml, 77 MB after a fresh read against 68 MB after a
    cached one), and a server hands its heap to every worker it forks. The same SpecError
    as reading it here when the child finds one; None (read it here) when fork is missing
    or the child left nothing in the cache."""

    def read_into_cache() -> dict[str, Any]:
        try:
            loaded, _source = _load_fresh(path, validate, check=validate)
            cache.put(path, validate, loaded)
        except SpecError as exc:
            return {"error": _problem_fields(exc)}
        return {"error": None}

    said = _in_child(read_into_cache)
    if said is None or "error" not in said:
        return None  # no fork, or the child failed some other way: reading it here says how
    if said["error"] is not None:
        raise SpecError(**said["error"])
    return cache.get(path, validate)


def _problem_apart(source: dict[str, Any], path: Path, origins: dict) -> SpecError | None:
    """``validate_document``'s verdict, found in a forked child that the caller waits for.

    openapi-spec-validator brings jsonschema-path, requests and their kin with it: 14-15 MB
    that a server validating in its own process kept, and handed to every worker it forked
    (measured on openapi.yaml: 82 MB against 68 MB once the spec was cached). Where fork is
    missing, or the child leaves no verdict (killed), the document is checked here."""

    def verdict() -> dict[str, Any]:
        problem = _problem_here(source, path, origins)
        return {"problem": None if problem is None else _problem_fields(problem)}

    said = _in_child(verdict)
    if said is None or "problem" not in said:
        return _problem_here(source, path, origins)
    return None if said["problem"] is None else SpecError(**said["problem"])


def _in_child(work: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """What ``work`` returns, run in a forked child this process waits for (its memory
    goes with it); None where fork may not be used (``_may_fork``) or the child said
    nothing readable (killed, or failed outside what ``work`` answers for)."""
    if not _may_fork():
        return None
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # the child: work, say the result, leave without cleanup
        os.close(readable)
        try:
            said = work()
            with os.fdopen(writable, "wb") as out:
                out.write(json.dumps(said).encode())
        finally:
            os._exit(0)
    os.close(writable)
    with os.fdopen(readable, "rb") as stream:
        answer = stream.read()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child, 0)
    try:
        found = json.loads(answer)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _may_fork() -> bool:
    """Whether a child forked here to read or check a spec can be waited for safely: only in
    a process with one thread (the CLI before it serves). A lock another thread holds at the
    fork (the import lock, a logging handler's) stays held in the child forever, and the
    caller would wait on it; an app built inside a busy process (a test run, an embedding
    server) reads the spec itself instead."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _problem_here(source: dict[str, Any], path: Path, origins: dict) -> SpecError | None:
    try:
        validate_document(source, path, origins)
    except SpecError as exc:
        return exc
    return None


def _problem_fields(problem: SpecError) -> dict[str, Any]:
    return {
        "message": problem.message,
        "file": str(problem.file),
        "pointer": problem.pointer,
        "line": problem.line,
        "hint": problem.hint,
    }


def _validate_later(
    source: dict[str, Any],
    path: Path,
    origins: dict,
    write: Callable[[SpecError | None], None] | None,
    on_warning: Callable[[str], None],
) -> None:
    """Validate in a forked process, so start-up and serving keep the GIL to themselves; a
    thread of this process waits (idle) for the verdict and reports it. The child runs at a
    lower priority: on two cores it took a core from the rest of the start-up (DigitalOcean's
    app was built in 0.6-1.1 s beside it against 0.25 s)."""
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # the child: validate, keep the verdict, say it, leave without cleanup
        os.close(readable)
        with contextlib.suppress(OSError):  # behind start-up and serving for the CPU, not beside
            os.nice(10)
        try:
            os.write(writable, _verdict(source, path, origins, write).encode())
        finally:
            os._exit(0)
    os.close(writable)

    def relay() -> None:
        with os.fdopen(readable, "rb") as stream:
            message = stream.read().decode()
        with contextlib.suppress(ChildProcessError):  # a server may have reaped it already
            os.waitpid(child, 0)
        if message:
            on_warning(message)

    threading.Thread(target=relay, name="sandbox-spec-validation", daemon=True).start()


def _verdict(
    source: dict[str, Any],
    path: Path,
    origins: dict,
    write: Callable[[SpecError | None], None] | None,
) -> str:
    """The problem found, or "" for a valid spec; the cache gets the verdict either way."""
    try:
        validate_document(source, path, origins)
        problem = None
    except SpecError as exc:
        problem = exc
    except Exception as exc:  # a validator crash must not go unseen, nor stop serving
        return f"{path}: the spec could not be validated ({exc!r})"
    if write is not None:
        write(problem)
    return "" if problem is None else str(problem)
