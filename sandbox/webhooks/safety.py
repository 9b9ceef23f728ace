"""Where the sandbox may send webhooks.

A sandbox that POSTs to any URL a client names is a request-forgery tool. Loopback and
private ranges are allowed by default (receivers run on the developer's machine);
link-local addresses, where cloud metadata services live (169.254.169.254), never are.
The check runs when a subscription is made and again before each attempt, since a name
can resolve elsewhere by then.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class DestinationRefused(Exception):
    """Why a webhook URL may not be used, in words the subscriber can act on."""


@dataclass(frozen=True)
class DestinationPolicy:
    allow_private: bool = True
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)  # empty: any host

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DestinationRefused(f"{url!r} is not an http(s) URL with a host.")
        host = parts.hostname
        if self.allowed_hosts and host not in self.allowed_hosts:
            raise DestinationRefused(
                f"{host} is not in webhook_allowed_hosts ({', '.join(sorted(self.allowed_hosts))})."
            )
        for address in _addresses(host, parts.port or (443 if parts.scheme == "https" else 80)):
            if address.is_link_local or address.is_multicast or address.is_unspecified:
                raise DestinationRefused(
                    f"{host} resolves to {address}, a link-local or reserved address "
                    "(cloud metadata lives there); webhooks are never sent to it."
                )
            if (address.is_private or address.is_loopback) and not self.allow_private:
                raise DestinationRefused(
                    f"{host} resolves to the private address {address}; set "
                    "webhook_allow_private to send webhooks inside your network."
                )


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise DestinationRefused(f"cannot resolve {host}: {exc.strerror or exc}") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
