"""Where the sandbox may send webhooks.

A sandbox that POSTs to any URL a client names is a request-forgery tool. The rules:

- only ``http`` and ``https`` URLs with a host;
- never link-local, multicast, unspecified, reserved or known cloud-metadata addresses
  (169.254.169.254, ``fd00:ec2::254``, 100.100.100.200, 192.0.0.192), however written;
- loopback and private ranges only while ``webhook_allow_private`` is on (the default on
  loopback, where receivers run on the developer's machine; off when listening beyond it);
- with ``webhook_allowed_hosts``, only those hosts;
- with ``webhook_dns`` off, no name is ever looked up: only URLs whose host is written as an
  address get deliveries (for CI and offline demos).

"However written" is the point: every address is normalised before the rules see it. An
IPv4 address hides in IPv6 (``::ffff:169.254.169.254``, IPv4-compatible ``::a9fe:a9fe``,
6to4 ``2002:a9fe:a9fe::``, Teredo, NAT64 ``64:ff9b::a9fe:a9fe``) and in the numeric forms
``inet_aton`` accepts (``2852039166``, ``0xa9fe.0xa9fe``, ``0251.0376.0251.0376``,
``169.254.43518``); a trailing dot names the same host. Both the address and every address
embedded in it must pass. Host names are resolved and every address they resolve to is
checked; the delivery then connects to the checked address (see ``pinned``), so a name
cannot resolve to a harmless address for the check and to the metadata service for the
connection. Redirects are never followed.

A subscription is checked when it is made (at both doors: the admin API and the spec's
own endpoint) and again before every attempt.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sandbox.errors import DestinationRefused, DestinationUnresolved, NamesNotLookedUp

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# metadata services outside the link-local range, refused like it
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


@dataclass(frozen=True)
class Destination:
    """A URL that passed the policy, with the addresses it was checked at: connect to
    ``addresses[0]``, send ``host`` as the Host header and TLS server name."""

    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query
    addresses: tuple[IPAddress, ...]

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == default else f"{shown}:{self.port}"


def system_resolver(host: str, port: int) -> Sequence[str]:
    """The addresses the system resolver gives for a name, as text."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%")[0] for info in found]


Resolver = Callable[[str, int], Sequence[str]]  # raises OSError when the name does not resolve


@dataclass(frozen=True)
class DestinationPolicy:
    allow_private: bool = True
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)  # empty: any host
    resolver: Resolver = system_resolver
    look_up_names: bool = True  # webhook_dns

    def check(self, url: str) -> Destination:
        """The destination to connect to, every address it resolves to checked; raises
        DestinationRefused (DestinationUnresolved when the name does not resolve)."""
        scheme, host, port, target = _parts(url)
        if self.allowed_hosts and host not in {normal_host(h) for h in self.allowed_hosts}:
            raise DestinationRefused(
                f"{host} is not in webhook_allowed_hosts ({', '.join(sorted(self.allowed_hosts))})."
            )
        if not self.look_up_names and literal_address(host) is None:
            raise NamesNotLookedUp(
                f"{host} is a name and webhook_dns is off: only URLs with an address (such as "
                "127.0.0.1) get webhooks."
            )
        addresses = _resolve(host, port, self.resolver)
        for address in addresses:
            self._judge(host, address)
        return Destination(url, scheme, host, port, target, addresses)

    def admit(self, url: str, *, lookup_timeout: float = 2.0) -> None:
        """The subscribe-time check: everything ``check`` refuses, except a name that does
        not resolve yet or not within ``lookup_timeout`` seconds (a machine without working
        DNS waits its resolver's whole timeout, 10 s and more, and a client's request must
        not). Each delivery attempt checks again, without the time limit, and retries."""
        outcome: list[BaseException | None] = []

        def judge() -> None:
            try:
                self.check(url)
                outcome.append(None)
            except BaseException as exc:  # handed to the caller's thread
                outcome.append(exc)

        _parts(url)  # what is wrong with the URL itself is said at once
        lookup = threading.Thread(target=judge, name="webhook-dns", daemon=True)
        lookup.start()
        lookup.join(lookup_timeout)
        if not outcome or isinstance(outcome[0], DestinationUnresolved | NamesNotLookedUp):
            return
        if outcome[0] is not None:
            raise outcome[0]

    def _judge(self, host: str, address: IPAddress) -> None:
        for seen in embedded(address):
            shown = host if str(seen) == host else f"{host} ({seen})"
            if (
                seen in _METADATA
                or seen.is_link_local
                or seen.is_multicast
                or seen.is_unspecified
                or (seen.is_reserved and not seen.is_loopback)
                or (seen.version == 4 and seen in _THIS_NETWORK)
            ):
                raise DestinationRefused(
                    f"{shown} is a link-local, metadata or reserved address "
                    "(cloud metadata lives there); webhooks are never sent to it."
                )
            if not seen.is_global and not self.allow_private:
                raise DestinationRefused(
                    f"{shown} is a loopback or private address; set webhook_allow_private "
                    "to send webhooks inside your network."
                )


def embedded(address: IPAddress) -> Iterator[IPAddress]:
    """What the address means to the rules: an IPv4-mapped or IPv4-compatible address is
    only a way of writing its IPv4 address; a 6to4, Teredo or NAT64 address is itself and
    the IPv4 addresses it carries, each judged."""
    if not isinstance(address, ipaddress.IPv6Address):
        yield address
        return
    packed = address.packed
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
        return
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # ::a.b.c.d, not :: or ::1
        yield ipaddress.IPv4Address(packed[-4:])
        return
    yield address
    if address.sixtofour is not None:
        yield address.sixtofour
    if address.teredo is not None:
        yield from address.teredo
    if any(address in network for network in _NAT64):
        yield ipaddress.IPv4Address(packed[-4:])


def normal_host(host: str) -> str:
    """Lower case, without brackets or the trailing dot that names the same host."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host[:-1] if host.endswith(".") and not host.endswith("..") else host


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number means, in any form ``inet_aton`` reads
    (dotted or not, decimal, octal or hex parts), or an IPv6 literal; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
    if any(v < 0 for v in values) or any(v > 255 for v in values[:-1]):
        return None
    if values[-1] >= 256 ** (5 - len(values)):
        return None
    number = 0
    for value in values[:-1]:
        number = number * 256 + value
    number = number * 256 ** (5 - len(values)) + values[-1]
    return ipaddress.IPv4Address(number)


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"{url!r} is not a usable URL: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(f"{url!r} is not an http(s) URL with a host.")
    host = normal_host(parts.hostname)
    if not host:
        raise DestinationRefused(f"{url!r} has no host.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target


def _resolve(host: str, port: int, resolver: Resolver) -> tuple[IPAddress, ...]:
    literal = literal_address(host)
    if literal is not None:
        return (literal,)
    try:
        found = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise DestinationUnresolved(f"cannot resolve {host}: {reason}") from None
    addresses = tuple(dict.fromkeys(ipaddress.ip_address(text) for text in found))
    if not addresses:
        raise DestinationUnresolved(f"cannot resolve {host}: no addresses")
    return addresses
