"""Authorization codes and refresh-token families in Redis, so a code issued by one machine
is redeemed at another."""

from __future__ import annotations

import time

from sandbox.errors import GrantRejected
from sandbox.state.protocols import Grant
from sandbox.state.redis.connection import RedisState, part

_LINGER = 600  # seconds a grant is kept past its life, so a late replay is still recognised
_FAMILY_TTL = 31 * 24 * 3600  # longer than any grant the sandbox issues (refresh: 30 days)

_FIELDS = ("token", "kind", "client_id", "subject", "scope", "redirect_uri", "challenge",
           "challenge_method", "family")  # fmt: skip

# KEYS: the grant. ARGV: kind, client id, now, family key prefix, grant key prefix.
# The grant's fields when it may be used (and it is marked used), else why not. A used one
# presented again revokes every token of its family (those keys are named from the grant, so
# this needs a single Redis, not a Cluster).
_REDEEM = """
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then
  return {'unknown'}
end
local g = {}
for i = 1, #flat, 2 do g[flat[i]] = flat[i + 1] end
if g.kind ~= ARGV[1] then
  return {'unknown'}
end
if g.client_id ~= ARGV[2] then
  return {'other_client'}
end
if g.used == '1' then
  local family = ARGV[4] .. g.family
  for _, token in ipairs(redis.call('SMEMBERS', family)) do
    redis.call('DEL', ARGV[5] .. token)
  end
  redis.call('DEL', family)
  return {'used'}
end
if tonumber(g.expires_at) <= tonumber(ARGV[3]) then
  return {'expired'}
end
redis.call('HSET', KEYS[1], 'used', '1')
local out = {'ok'}
for i = 1, #flat do out[#out + 1] = flat[i] end
return out
"""


class RedisGrants:
    """``<prefix>:oauth:grant:<token>`` (a hash that expires a code's lifetime after the
    grant does, so replays are still recognised meanwhile) and ``<prefix>:oauth:family:<id>``
    (the tokens issued from one grant)."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._grant_base = redis.key("oauth", "grant") + ":"
        self._family_base = redis.key("oauth", "family") + ":"
        self._redeem = redis.script(_REDEEM)

    def add(self, grant: Grant, ttl: float) -> None:
        key = self._grant_base + part(grant.token)
        family = self._family_base + part(grant.family)
        fields = {name: getattr(grant, name) for name in _FIELDS}
        fields = {name: value for name, value in fields.items() if value is not None}
        fields.update(expires_at=repr(time.time() + ttl), used="0")
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, int(ttl) + _LINGER)
            pipe.sadd(family, part(grant.token))
            pipe.expire(family, _FAMILY_TTL)
            pipe.execute()

    def redeem(self, token: str, kind: str, client_id: str) -> Grant:
        """Use a code or refresh token once; a second use revokes its whole family."""
        noun = "authorization code" if kind == "code" else "refresh token"
        args = [kind, client_id, repr(time.time()), self._family_base, self._grant_base]
        with self.redis.guard():
            answer = self._redeem(keys=[self._grant_base + part(token)], args=args)
        verdict = answer[0].decode()
        if verdict == "ok":
            flat = [item.decode() for item in answer[1:]]
            stored = dict(zip(flat[::2], flat[1::2], strict=True))
            return Grant(*(stored.get(name) for name in _FIELDS))  # type: ignore[arg-type]
        raise GrantRejected({
            "unknown": f"The {noun} is unknown, revoked or expired.",
            "other_client": f"The {noun} was issued to another client.",
            "used": f"The {noun} was already used; every token issued from it is now "
                    "revoked. Start the flow again.",
            "expired": f"The {noun} expired. Start the flow again.",
        }[verdict])  # fmt: skip
