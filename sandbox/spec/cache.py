"""A cache of parsed, bundled and validated specs, keyed by the content of every file read.

Parsing a 3 MB YAML spec and validating it against the OpenAPI schema takes seconds (openai's
spec: about 8 s, almost all of it validation); the result only changes when a file does. An
entry records the hash of each file the spec was built from, so an edit to any of them (a
DigitalOcean-style spec spreads over thousands) is a miss. Entries are pickles written by this
process's own user into its own directory; a corrupt or unreadable entry is a miss, and a
cache that cannot be written is skipped, never an error: the cache only ever saves time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.errors import SpecError

FORMAT = 3  # bump when what an entry holds changes
# the code that turns files into a document: an entry made by other code is not reused
_LOADERS = ("documents.py", "model.py", "cache.py", "swagger2.py", "yamlread.py", "repair.py")
log = logging.getLogger("sandbox.spec.cache")


@dataclass
class LoadedSpec:
    """What loading a spec produced, before the operation table is built."""

    document: dict[str, Any]
    origins: dict[str, tuple[Path, str]]
    problem: SpecError | None = None  # why validation refused the document, if it did
    files: list[Path] = field(default_factory=list)  # every file read, the root first
    notes: list[SpecError] = field(default_factory=list)  # what was mended (spec.repair)


class SpecCache:
    """One file per spec: a small header (the files it was built from, the validation
    verdict) and then the document, so the header can be checked before the body is read."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def get(self, root: Path, validated: bool) -> LoadedSpec | None:
        try:
            with open(self._path(root, validated), "rb") as stream:
                header = pickle.load(stream)
                if not all(_unchanged(n, seen) for n, seen in header["files"].items()):
                    return None
                document, origins = pickle.load(stream)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a truncated or foreign file: rebuild it
            log.debug("spec cache entry for %s unreadable: %s", root, exc)
            return None
        problem = header["problem"]
        return LoadedSpec(
            document=document,
            origins=origins,
            problem=SpecError(**problem) if problem else None,
            files=[Path(name) for name in header["files"]],
            notes=[SpecError(**note) for note in header["notes"]],
        )

    def put(self, root: Path, validated: bool, loaded: LoadedSpec) -> None:
        self.writer(root, validated, loaded)(loaded.problem)

    def writer(
        self, root: Path, validated: bool, loaded: LoadedSpec
    ) -> Callable[[SpecError | None], None]:
        """Serialise the document now (before anyone can change it) and return a function
        that writes the entry once the validation verdict is known (possibly from another
        thread)."""
        try:
            body = pickle.dumps((loaded.document, loaded.origins), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, RecursionError) as exc:
            log.warning("spec cache not written (%s): the next start will not be faster", exc)
            return lambda _problem: None
        files = {str(path): _fingerprint(path) for path in loaded.files}
        notes = [_problem_fields(note) for note in loaded.notes]
        target = self._path(root, validated)

        def write(problem: SpecError | None) -> None:
            header = {"files": files, "problem": _problem_fields(problem), "notes": notes}
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as stream:
                        pickle.dump(header, stream, protocol=pickle.HIGHEST_PROTOCOL)
                        stream.write(body)
                    os.replace(temporary, target)  # readers see the old entry or the new one
                except BaseException:
                    Path(temporary).unlink(missing_ok=True)
                    raise
            except OSError as exc:
                log.warning("spec cache not written (%s): the next start will not be faster", exc)

        return write

    def _path(self, root: Path, validated: bool) -> Path:
        digest = hashlib.sha256(f"{FORMAT}:{sys.version_info[:2]}:{validated}".encode())
        digest.update(_loader_digest())
        digest.update(str(root.absolute()).encode())
        digest.update(root.read_bytes())
        return self.directory / f"{digest.hexdigest()[:32]}.pickle"


def _problem_fields(problem: SpecError | None) -> dict[str, Any] | None:
    if problem is None:
        return None
    return {
        "message": problem.message,
        "file": problem.file,
        "pointer": problem.pointer,
        "line": problem.line,
        "hint": problem.hint,
    }


def _fingerprint(path: Path) -> tuple[int, int, str | None]:
    """Size, modification time and content hash: the first two settle most checks without
    reading the file (a split spec has thousands), the hash settles the rest."""
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1, None)
    return (stat.st_size, stat.st_mtime_ns, _digest(path))


def _unchanged(path: str, seen: tuple[int, int, str | None]) -> bool:
    """``path`` a string: a split spec checks thousands, and a ``Path`` made for each cost
    DigitalOcean's warm start 0.01 s."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    size, mtime, digest = seen
    if stat.st_size != size:
        return False
    return stat.st_mtime_ns == mtime or _digest(Path(path)) == digest


@functools.cache
def _loader_digest() -> bytes:
    digest = hashlib.sha256()
    for name in _LOADERS:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.digest()


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
