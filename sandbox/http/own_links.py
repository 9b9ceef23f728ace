"""Links at the API's own servers point at the sandbox.

A spec's examples carry the vendor's own URLs (Spotify's ``href`` and ``next``:
``https://api.spotify.com/v1/me/shows?offset=1&limit=1``); an SDK follows them and leaves the
sandbox for the real API. Every absolute URL at one of the spec's ``servers`` is therefore
answered at the sandbox's own origin, the server's path kept: the rewrite is one
``bytes.replace`` per server on the serialized body (no walk of the value), so it costs
microseconds, and nothing when the spec names no absolute server.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def server_urls(document: dict[str, Any]) -> list[tuple[bytes, str]]:
    """(the server's URL as it appears in a body, its path): every absolute ``servers``
    URL of the document, variables at their defaults, longest first (so a server under
    another's URL is replaced whole)."""
    found: dict[bytes, str] = {}
    for server in document.get("servers") or []:
        if not isinstance(server, dict):
            continue
        url = str(server.get("url") or "")
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc and "{" not in url:
            found[url.rstrip("/").encode()] = parts.path.rstrip("/")
    return sorted(found.items(), key=lambda pair: -len(pair[0]))


class OwnLinks:
    """Rewrites the spec's server URLs in an answer's body to the sandbox's origin."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.servers = server_urls(document)

    def rewrite(self, body: Any, origin: str) -> Any:
        """``body`` (bytes; a stream is left as it is) with each server URL replaced by
        ``origin`` (the request's scheme and host) and that server's path."""
        if not self.servers or not isinstance(body, bytes):
            return body
        base = origin.rstrip("/")
        for url, path in self.servers:
            if url in body:
                body = body.replace(url, (base + path).encode())
        return body
