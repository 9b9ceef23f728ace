"""The file parts of a multipart body, as facts a server learns of each file.

Validation checks a file part as the string its schema asks for (``format: binary``), and
that string is the file's name. What a real server keeps of an upload is not the part but
the facts about the file: its name, its size in bytes, its content type. ``Upload`` carries
them from validation to the resource engine (``ValidationResult.uploads``), which fills the
created item's fields by meaning (``sandbox.resources.uploads``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Upload:
    """One file part: the form key it came under and what is known of the file."""

    part: str  # the form key (``file``; ``files[0]`` in a bracketed form)
    filename: str  # as the client named it; "" where it named none
    size: int  # bytes
    content_type: str  # the part's own Content-Type; "" where it sent none

    @property
    def stand_in(self) -> str:
        """The string a file is checked as against the body schema: its name."""
        return self.filename or "upload"


def uploads_of(files: Any) -> tuple[Upload, ...]:
    """The facts of every file part in werkzeug's ``files`` multidict, in the body's order."""
    return tuple(upload_of(key, storage) for key, storage in files.items(multi=True))


def upload_of(key: str, storage: Any) -> Upload:
    return Upload(
        part=key,
        filename=storage.filename or "",
        size=_size(storage.stream),
        content_type=storage.content_type or "",
    )


def stand_ins(uploads: Iterable[Upload]) -> list[tuple[str, str]]:
    """Each file part as the (key, string) pair a form is read as."""
    return [(upload.part, upload.stand_in) for upload in uploads]


def _size(stream: Any) -> int:
    try:
        here = stream.tell()
        stream.seek(0, 2)
        size = int(stream.tell())
        stream.seek(here)
        return size
    except (AttributeError, OSError, ValueError):
        return len(stream.read())
