"""The parsed-spec cache: a second start reuses the work, any edited file is a miss, and a
cache that is broken or cannot be written never stops the sandbox."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from sandbox import SpecError, load_spec
from sandbox.spec.cache import SpecCache

ROOT_SPEC = textwrap.dedent(
    """\
    openapi: 3.0.3
    info: {title: Cached, version: "1"}
    paths:
      /things:
        get:
          responses:
            "200":
              description: ok
              content:
                application/json:
                  schema: {$ref: "thing.yaml"}
    """
)
THING = "type: object\nproperties:\n  name: {type: string}\n"


def write_spec(tmp_path: Path) -> Path:
    (tmp_path / "thing.yaml").write_text(THING)
    root = tmp_path / "api.yaml"
    root.write_text(ROOT_SPEC)
    return root


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.pickle"))


def thing_schema(spec_document: dict) -> dict:
    bundled = spec_document["x-sandbox-bundled"]
    return next(iter(bundled.values()))


def test_a_second_load_comes_from_the_cache(tmp_path: Path) -> None:
    root, cache = write_spec(tmp_path), tmp_path / "cache"
    first = load_spec(root, cache_dir=cache)
    assert len(entries(cache)) == 1
    hit = SpecCache(cache).get(root, validated=True)
    assert hit is not None
    assert hit.document == first.document
    assert [p.name for p in hit.files] == ["api.yaml", "thing.yaml"]
    second = load_spec(root, cache_dir=cache)
    assert second.document == first.document
    assert [op.key for op in second.operations] == ["GET /things"]


def test_an_edit_to_any_file_of_the_spec_is_a_miss(tmp_path: Path) -> None:
    root, cache = write_spec(tmp_path), tmp_path / "cache"
    load_spec(root, cache_dir=cache)
    (tmp_path / "thing.yaml").write_text(THING.replace("name", "title"))
    assert SpecCache(cache).get(root, validated=True) is None
    reloaded = load_spec(root, cache_dir=cache)
    assert "title" in thing_schema(reloaded.document)["properties"]


def test_an_invalid_spec_is_refused_from_the_cache_too(tmp_path: Path) -> None:
    root, cache = write_spec(tmp_path), tmp_path / "cache"
    root.write_text(ROOT_SPEC.replace("description: ok", "x-note: ok"))  # needs a description
    for _ in range(2):
        with pytest.raises(SpecError, match=r"invalid OpenAPI 3\.0\.3 document") as caught:
            load_spec(root, cache_dir=cache)
        assert caught.value.pointer.startswith("/paths/~1things/get/responses/200")
    assert len(entries(cache)) == 1
    lenient = load_spec(root, cache_dir=cache, lenient=True)
    assert len(lenient.warnings) == 1
    assert "/paths/~1things/get/responses/200" in lenient.warnings[0]


def test_a_corrupt_entry_is_rebuilt(tmp_path: Path) -> None:
    root, cache = write_spec(tmp_path), tmp_path / "cache"
    load_spec(root, cache_dir=cache)
    (entry,) = entries(cache)
    entry.write_bytes(b"\x80\x05not a pickle")
    assert [op.key for op in load_spec(root, cache_dir=cache).operations] == ["GET /things"]
    assert SpecCache(cache).get(root, validated=True) is not None


def test_a_cache_that_cannot_be_written_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_spec(tmp_path)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory would go")
    with caplog.at_level(logging.WARNING, logger="sandbox.spec.cache"):
        spec = load_spec(root, cache_dir=blocked / "cache")
    assert [op.key for op in spec.operations] == ["GET /things"]
    assert "spec cache not written" in caplog.text


def test_the_cli_uses_the_cache_directory_it_is_given(tmp_path: Path) -> None:
    root, cache = write_spec(tmp_path), tmp_path / "cli-cache"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", "check", str(root), "--spec-cache", str(cache)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    assert len(entries(cache)) == 1


def test_a_lenient_start_validates_in_the_background_and_caches_the_verdict(
    tmp_path: Path,
) -> None:
    root, cache = write_spec(tmp_path), tmp_path / "cache"
    root.write_text(ROOT_SPEC.replace("description: ok", "x-note: ok"))
    found: list[str] = []
    done = threading.Event()

    def warn(problem: str) -> None:
        found.append(problem)
        done.set()

    spec = load_spec(root, cache_dir=cache, lenient=True, on_warning=warn)
    assert [op.key for op in spec.operations] == ["GET /things"]  # served before the verdict
    # kept at once, unvalidated: a restart before the verdict still skips the parsing
    assert SpecCache(cache).get(root, validated=False) is not None
    assert done.wait(30), "the background validation never reported"
    assert "/paths/~1things/get/responses/200" in found[0]
    for _ in range(50):  # the entry is written just before the warning is reported
        if entries(cache):
            break
        time.sleep(0.05)
    with pytest.raises(SpecError, match=r"invalid OpenAPI 3\.0\.3 document"):
        load_spec(root, cache_dir=cache)  # strict, from the cache
    assert load_spec(root, cache_dir=cache, lenient=True).warnings == found
