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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.errors import SpecError

FORMAT = 1  # bump when what an entry holds changes
# the code that turns files into a document: an entry made by other code is not reused
_LOADERS = ("documents.py", "spec.py", "spec_cache.py", "swagger2.py")
log = logging.getLogger("sandbox.spec_cache")


@dataclass
class LoadedSpec:
    """What loading a spec produced, before the operation table is built."""

    document: dict[str, Any]
    origins: dict[str, tuple[Path, str]]
    problem: SpecError | None = None  # why validation refused the document, if it did
    files: list[Path] = field(default_factory=list)  # every file read, the root first


class SpecCache:
    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def get(self, root: Path, validated: bool) -> LoadedSpec | None:
        try:
            key = self._key(root, validated)
            with open(self.directory / f"{key}.pickle", "rb") as stream:
                entry = pickle.load(stream)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a truncated or foreign file: rebuild it
            log.debug("spec cache entry for %s unreadable: %s", root, exc)
            return None
        for name, digest in entry["files"].items():
            if _digest(Path(name)) != digest:
                return None
        problem = entry["problem"]
        return LoadedSpec(
            document=entry["document"],
            origins=entry["origins"],
            problem=SpecError(**problem) if problem else None,
            files=[Path(name) for name in entry["files"]],
        )

    def put(self, root: Path, validated: bool, loaded: LoadedSpec) -> None:
        problem = loaded.problem
        entry = {
            "files": {str(path): _digest(path) for path in loaded.files},
            "document": loaded.document,
            "origins": loaded.origins,
            "problem": None
            if problem is None
            else {
                "message": problem.message,
                "file": problem.file,
                "pointer": problem.pointer,
                "line": problem.line,
                "hint": problem.hint,
            },
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / f"{self._key(root, validated)}.pickle"
            fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as stream:
                    pickle.dump(entry, stream, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, target)  # readers see the old entry or the whole new one
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError, RecursionError) as exc:
            log.warning("spec cache not written (%s): starting will not be faster next time", exc)

    def _key(self, root: Path, validated: bool) -> str:
        digest = hashlib.sha256(f"{FORMAT}:{sys.version_info[:2]}:{validated}".encode())
        digest.update(_loader_digest())
        digest.update(str(root.resolve()).encode())
        digest.update(root.read_bytes())
        return digest.hexdigest()[:32]


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
