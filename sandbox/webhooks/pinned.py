"""HTTP to the address the policy checked, not to whatever the name resolves to next.

A PoolManager resolves the host again when it connects, so a name with a short TTL could
answer the policy's lookup with a public address and the connection's with the metadata
service (DNS rebinding). Here each pool is opened on the checked address itself; the URL's
host still goes out as the ``Host`` header and, for https, as the TLS server name the
certificate is verified against.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import urllib3

from sandbox.webhooks.safety import Destination

_POOLS = 64  # receivers kept open at once; the least recently used is closed first


class PinnedPools:
    def __init__(self, *, maxsize: int, timeout: float) -> None:
        self._maxsize = maxsize
        self._timeout = urllib3.Timeout(total=timeout)
        self._pools: OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def post(
        self, destination: Destination, body: bytes, headers: dict[str, str]
    ) -> urllib3.BaseHTTPResponse:
        """POST without following redirects; the caller reads and releases the response."""
        pool = self._pool(destination)
        return pool.urlopen(
            "POST", destination.target, body=body,
            headers={**headers, "Host": destination.host_header},
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
        )  # fmt: skip

    def _pool(self, destination: Destination) -> urllib3.HTTPConnectionPool:
        address = str(destination.addresses[0])
        key = (destination.scheme, address, destination.port, destination.host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            pool = self._open(destination, address)
            self._pools[key] = pool
            if len(self._pools) > _POOLS:
                _, oldest = self._pools.popitem(last=False)
                oldest.close()
            return pool

    def _open(self, destination: Destination, address: str) -> urllib3.HTTPConnectionPool:
        if destination.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address, port=destination.port, maxsize=self._maxsize, timeout=self._timeout,
                retries=False, block=False,
                server_hostname=destination.host, assert_hostname=destination.host,
                cert_reqs="CERT_REQUIRED",
            )  # fmt: skip
        return urllib3.HTTPConnectionPool(
            address, port=destination.port, maxsize=self._maxsize, timeout=self._timeout,
            retries=False, block=False,
        )  # fmt: skip

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()
