"""Rebuild tests/data/corpus.tar.xz (and tests/data/CORPUS.md) from a checkout of the corpus.

The real-world corpus is test data the project needs, so the repo carries it: one xz archive
(about 1 MB for 25 MB of specs) that tests/corpus.py unpacks into a temporary folder. The
corpus itself is kept beside the repo, in ../shared/corpus, and gains files from time to time;
this script copies what is there into the archive.

    python3 scripts/refresh_corpus.py                 # from ../shared/corpus
    python3 scripts/refresh_corpus.py --source DIR    # or CORPUS_SOURCE=DIR

The archive is deterministic (names sorted, one fixed mtime, owner 0:0 without names, mode
0644, one xz preset), so refreshing an unchanged corpus rewrites nothing and git shows no
change. It lives in scripts/, not tests/, because it is a maintainer's tool: it runs with the
standard library alone (no venv needed), and pytest has no reason to see it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import lzma
import os
import re
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("..") / "shared" / "corpus"  # relative to the repo root
DATA = ROOT / "tests" / "data"
ARCHIVE = DATA / "corpus.tar.xz"
NOTES = DATA / "CORPUS.md"
TOP = "corpus"  # the archive unpacks into one folder of this name
MTIME = 946684800  # 2000-01-01T00:00:00Z: every member gets it, so only content matters
XZ_PRESET = 6  # xz's default; -9 saves 0.2 % and takes twice as long
REQUIRED = ("README.md", "INDEX.tsv")  # what the tests and CORPUS.md read


class RefreshError(Exception):
    """A problem with the source that leaves the archive as it was."""


def source_files(source: Path) -> list[str]:
    """Every file under ``source`` as a sorted POSIX path; anything but plain files refused,
    since a symlink or device would unpack differently (or not at all) elsewhere."""
    found = []
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                raise RefreshError(f"{path} is not a plain file; the corpus holds only files")
            found.append(path.relative_to(source).as_posix())
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise RefreshError(f"{source} has no {', '.join(missing)}: is it the corpus?")
    return sorted(found)


def build(source: Path, names: list[str]) -> bytes:
    """The archive's bytes: the same files with the same contents give the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in names:
            data = (source / name).read_bytes()
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return lzma.compress(raw.getvalue(), format=lzma.FORMAT_XZ, preset=XZ_PRESET)


def digests(archive: bytes) -> dict[str, str]:
    """Member name (without the top folder) -> sha256 of its content, to report what changed."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:xz") as tar:
        for member in tar:
            if member.isfile():
                content = tar.extractfile(member)
                name = member.name.removeprefix(f"{TOP}/")
                out[name] = hashlib.sha256(content.read()).hexdigest() if content else ""
    return out


def notes(source: Path, names: list[str], archive: bytes) -> str:
    """CORPUS.md: where each spec comes from (the corpus README), when it was taken, and the
    root documents the tests serve. Only derived from the source, so it is deterministic too."""
    newest = max((source / name).stat().st_mtime for name in names)
    taken = datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%d")
    total = sum((source / name).stat().st_size for name in names)
    readme = (source / "README.md").read_text(encoding="utf-8").strip()
    readme = re.sub(r"^#", "###", readme, flags=re.MULTILINE)  # its headings go under ours
    roots = []
    for index in ("INDEX.tsv", "INDEX-added.tsv"):
        if index in names:
            for line in (source / index).read_text(encoding="utf-8").splitlines()[1:]:
                if line.strip():
                    file, version, *_, operations, _features = line.split("\t")
                    roots.append(f"| `{file}` | {version} | {operations} | `{index}` |")
    return "\n".join(
        [
            "# The real-world corpus in tests/data/corpus.tar.xz",
            "",
            "Written by `scripts/refresh_corpus.py` with the archive; do not edit by hand.",
            "",
            f"- taken on {taken} (the date of the corpus's newest file)",
            f"- {len(names)} files, {total / 1e6:.1f} MB unpacked, {len(archive) / 1e6:.2f} MB"
            f" as xz; sha256 {hashlib.sha256(archive).hexdigest()}",
            "- tests and bench scripts unpack it into a temporary folder through"
            " `tests/corpus.py` (`corpus_dir()`, or the `corpus` fixture)",
            "- to take in new files: `python3 scripts/refresh_corpus.py` with the corpus at"
            " `../shared/corpus` (or `--source DIR`), then commit both files",
            "",
            "## Sources (the corpus's README.md, also in the archive)",
            "",
            readme,
            "",
            "## Root documents",
            "",
            "| file | version | operations | listed in |",
            "| --- | --- | --- | --- |",
            *roots,
            "",
        ]
    )


def report_changes(old: dict[str, str], new: dict[str, str]) -> None:
    """Print what the refresh added, removed and changed, a few names of each."""
    kinds = {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(n for n in new.keys() & old.keys() if new[n] != old[n]),
    }
    for kind, names in kinds.items():
        if names:
            more = f", … ({len(names) - 8} more)" if len(names) > 8 else ""
            shown = ", ".join(names[:8]) + more
            print(f"  {kind} {len(names)}: {shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(os.environ.get("CORPUS_SOURCE") or ROOT / DEFAULT_SOURCE),
        help="the corpus folder (default: $CORPUS_SOURCE, else ../shared/corpus beside the repo)",
    )
    source = parser.parse_args(argv).source.resolve()
    if not source.is_dir():
        print(
            f"refresh_corpus: no corpus at {source}; the archive is left as it is.\n"
            "Point --source (or CORPUS_SOURCE) at a corpus folder to refresh it.",
            file=sys.stderr,
        )
        return 2
    try:
        names = source_files(source)
    except RefreshError as problem:
        print(f"refresh_corpus: {problem}; the archive is left as it is.", file=sys.stderr)
        return 2
    archive = build(source, names)
    text = notes(source, names, archive)
    shown = ARCHIVE.relative_to(ROOT)
    old = ARCHIVE.read_bytes() if ARCHIVE.is_file() else None
    # unchanged content keeps its notes too: a fresh checkout of the corpus has new mtimes,
    # which would move the "taken on" date of files that did not change
    if old == archive and NOTES.is_file():
        print(f"{shown} is up to date: {len(names)} files from {source}; nothing written.")
        return 0
    DATA.mkdir(parents=True, exist_ok=True)
    for path, content in ((ARCHIVE, archive), (NOTES, text.encode())):
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(content)
        partial.replace(path)  # never a half-written archive, even if interrupted
    verb = "wrote" if old is None else "refreshed"
    print(f"{verb} {shown}: {len(names)} files from {source}, {len(archive) / 1e6:.2f} MB")
    if old is not None:
        try:
            report_changes(digests(old), digests(archive))
        except (tarfile.TarError, lzma.LZMAError, EOFError) as unreadable:
            print(f"  (the archive it replaced was unreadable: {unreadable})")
    print(f"and {NOTES.relative_to(ROOT)}; commit both.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
