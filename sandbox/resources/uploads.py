"""What an uploaded file fills in the item a multipart create makes.

A file part is not a field of the created object: a server keeps facts about the file.
Its name fills the item's field meaning a file name (``filename``, ``file_name``,
``originalName``; ``name`` where the item has no such field), its size the field meaning
its size in bytes (``bytes``, ``size``, ``size_bytes``, ``length``), its content type a
``content_type``, ``mime_type`` or ``media_type`` field: matched by meaning against the item
schema's properties (case and separators aside), never by one vendor's names. What the
client sent for such a field itself wins. The part itself is left out of the record unless
the item declares a property of that name as something other than binary (then it keeps
the string the part was checked as, the file's name).
"""

from __future__ import annotations

from typing import Any

from sandbox.http.uploads import Upload
from sandbox.resources.shapes import ItemShape
from sandbox.spec.schemas import schema_types
from sandbox.spec.words import norm

# the field meaning each fact, best first, by norm()
FILE_NAMES = ("filename", "originalfilename", "originalname", "uploadfilename")
SIZES = ("bytes", "size", "sizebytes", "sizeinbytes", "filesize", "bytesize", "length")
CONTENT_TYPES = ("contenttype", "mimetype", "mediatype", "mime")


def without_parts(body: Any, uploads: tuple[Upload, ...], shape: ItemShape) -> Any:
    """``body`` less the file parts the item does not declare as a non-binary field."""
    if not uploads or not isinstance(body, dict):
        return body
    parts = {upload.part for upload in uploads}
    return {k: v for k, v in body.items() if k not in parts or _kept(str(k), shape)}


def file_facts(
    uploads: tuple[Upload, ...], shape: ItemShape, sent: dict[str, Any], id_field: str
) -> dict[str, Any]:
    """The item's fields the first file fills (``sent``: the client's own fields, which win)."""
    if not uploads:
        return {}
    upload = uploads[0]
    facts: list[tuple[tuple[str, ...], Any]] = [(SIZES, upload.size)]
    if upload.filename:
        names = FILE_NAMES if _field(shape, FILE_NAMES) else ("name",)
        facts.append((names, upload.filename))
    if upload.content_type:
        facts.append((CONTENT_TYPES, upload.content_type))
    filled: dict[str, Any] = {}
    for meanings, value in facts:
        name = _field(shape, meanings)
        if name is None or name == id_field or name in sent:
            continue
        filled[name] = _typed(value, shape.properties.get(name))
    return filled


def _field(shape: ItemShape, meanings: tuple[str, ...]) -> str | None:
    return next((shape.by_norm[m] for m in meanings if m in shape.by_norm), None)


def _kept(part: str, shape: ItemShape) -> bool:
    name = part if part in shape.properties else shape.by_norm.get(norm(part))
    return name is not None and not _binary(shape.properties.get(name))


def _binary(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("format") in ("binary", "byte") or "contentMediaType" in schema:
        return True
    items = schema.get("items")
    return "array" in schema_types(schema) and isinstance(items, dict) and _binary(items)


def _typed(value: Any, schema: Any) -> Any:
    """A size as the field types it (a number, or its digits where the field is a string)."""
    kinds = schema_types(schema) if isinstance(schema, dict) else set()
    if isinstance(value, int) and kinds and not kinds & {"integer", "number"} and "string" in kinds:
        return str(value)
    return value
