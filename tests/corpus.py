"""The real-world corpus, unpacked from tests/data/corpus.tar.xz: the one place tests and bench
scripts get it from.

The repo carries the corpus (scripts/refresh_corpus.py builds the archive), so a clone with
nothing beside it tests the same specs as a checkout next to ../shared/corpus. Several test
modules parametrise over the corpus at collection time, before any fixture exists, so this is
a plain function: the first call in a process unpacks the archive (about 1 MB of xz, 2,960
files) into a temporary folder, later calls return the same folder, and the folder is removed
when the process exits. Under pytest-xdist each worker unpacks its own copy, which costs less
than coordinating one shared copy would.

A missing or unreadable archive raises CorpusMissing, never an empty folder: a test over the
corpus must fail, not quietly run over fewer specs.
"""

from __future__ import annotations

import atexit
import functools
import lzma
import shutil
import tarfile
import tempfile
from pathlib import Path

ARCHIVE = Path(__file__).resolve().parent / "data" / "corpus.tar.xz"
TOP = "corpus"  # the archive's one top folder (scripts/refresh_corpus.py)
FIX = (
    "Restore it with `git checkout -- tests/data/corpus.tar.xz`, or rebuild it from a corpus "
    "checkout with `python3 scripts/refresh_corpus.py --source DIR`."
)


class CorpusMissing(RuntimeError):
    """The archive is not there, or does not unpack into a corpus."""


@functools.cache
def corpus_dir() -> Path:
    """The unpacked corpus (the folder holding README.md, INDEX.tsv, oai/ and real/)."""
    if not ARCHIVE.is_file():
        raise CorpusMissing(f"the corpus archive {ARCHIVE} is missing. {FIX}")
    folder = Path(tempfile.mkdtemp(prefix="sandbox-corpus-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    try:
        with tarfile.open(ARCHIVE, "r:xz") as archive:
            archive.extractall(folder, filter="data")  # no member lands outside the folder
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as problem:
        unreadable = f"the corpus archive {ARCHIVE} does not unpack: {problem}. {FIX}"
        raise CorpusMissing(unreadable) from problem
    corpus = folder / TOP
    if not (corpus / "INDEX.tsv").is_file():
        raise CorpusMissing(f"the corpus archive {ARCHIVE} has no {TOP}/INDEX.tsv. {FIX}")
    return corpus


def listed_specs(corpus: Path) -> list[str]:
    """The root specs ``corpus`` lists, relative to it: INDEX.tsv, then INDEX-added.tsv (the
    specs added later, Stripe's and GitHub's), so no reader forgets the second file."""
    found = []
    for index in ("INDEX.tsv", "INDEX-added.tsv"):
        path = corpus / index
        if path.exists():
            found += [line.split("\t")[0] for line in path.read_text().splitlines()[1:] if line]
    return found
