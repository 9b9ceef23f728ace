"""Resource records in Redis: the ``RecordStore`` for sandboxes that share one Redis.

Keys under ``<prefix>:store:`` (t tenant, r resource, p parent id, each escaped):

    rec:t:r     hash    member -> json(parent) "\\n" json(body)
    ord:t:r:p   zset    ids of one parent, scored by the insertion counter (list order)
    uniq:t:r    hash    field "\\n" value -> member   (x-sandbox-unique values)
    uidx:t:r    hash    member -> json list of the uniq fields it holds (freed on replace, delete)
    tenants     set     tenants already seeded
    seq         string  the insertion counter

A record is named by its id within its parent (a label ``bug`` in two repositories is two
records): its ``member`` is its id where it has no parent, else json(parent) "\\n" id, which
is how its value begins too. A unique value stays unique across the resource and names its
owner by member. Records written before (every member the bare id: one record per id,
whatever its parent) are moved to their members once, when a process first opens the store
(``_MIGRATE``, one script per resource, marked done in ``store:layout``, which a reset
clears with the rest: the next start looks through an empty store).

A scoped line (``RecordStore``) sees the line without its scope too: each script is given
the record's member there as well ('' where the line has no scope), and a page of a scoped
line merges the two order sets by score (the insertion counter), in the script, so a page
costs both sets rather than the page (small: seeds and what clients made in one scope).

and a change counter per resource (``state.redis.versions``), moved by every write of its
records in the same script, so the spec's own webhook subscriptions are read again only
after one has changed.

Every write that must be all or nothing (a batch insert with its unique values, a replace
that moves unique values, seeding a tenant exactly once) is one Lua script, which Redis runs
atomically: two processes can never both take one id or one unique value.

Lists: a page without filters or sort is read from the order set, so it costs the page, not
the table. With filters or a sort, every record of that tenant, resource and parent is loaded
and filtered and sorted in Python, by the rules SQLite's ``json_extract`` comparisons follow
(so both stores answer alike). Sandbox datasets are small (25 seed records per resource plus
what clients create), so this is correct and quick enough; it is not built for millions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from sandbox.errors import Conflict
from sandbox.jsonio import dumps
from sandbox.state.protocols import PARENT_LINE, ListQuery, Record, unscoped
from sandbox.state.redis.connection import RedisState, part
from sandbox.state.redis.versions import records_field

# Lua: the change counters (state.redis.versions). ARGV[at] is m, ARGV[at + 1] the hash's
# incarnation should this write create it, then m counters to return: every write script
# bumps its own and ends with its own answer followed by those.
_COUNTERS = """
local function bump(key, field, at)
  redis.call('HSETNX', key, 'born', ARGV[at + 1])
  redis.call('HINCRBY', key, field, 1)
end
local function answer(head, key, at)
  local n = tonumber(ARGV[at])
  if n > 0 then
    for _, v in ipairs(redis.call('HMGET', key, unpack(ARGV, at + 2, at + 1 + n))) do
      head[#head + 1] = v
    end
  end
  return head
end
"""

# Lua: check every record of the batch (unique values first, then the id, as SQLite does),
# then write them all. KEYS: seq, tenants, versions, then rec, uniq, uidx, ord per record.
# ARGV: the tenant, the mode, the counters (m, incarnation, m names), then per record: member,
# id, value, its counter, the member its id has under the line without its scope ('' where
# the line has none: RecordStore), n, n x (field, value). Mode 'seed': write and mark the
# tenant seeded, unless it is already (then write nothing). Mode 'check': refuse if the
# tenant is not seeded (another process reset the store). Mode 'plain': just write.
_INSERT = (
    _COUNTERS
    + """
local tenant, mode = ARGV[1], ARGV[2]
local seeded = mode ~= 'plain' and redis.call('SISMEMBER', KEYS[2], tenant) == 1
if mode == 'seed' and seeded then
  return {'seeded'}
end
if mode == 'check' and not seeded then
  return {'unseeded'}
end
local records, a, k = {}, 5 + tonumber(ARGV[3]), 4
while a <= #ARGV do
  local r = {rec = KEYS[k], uniq = KEYS[k + 1], uidx = KEYS[k + 2], ord = KEYS[k + 3],
             member = ARGV[a], id = ARGV[a + 1], value = ARGV[a + 2], counter = ARGV[a + 3],
             shared = ARGV[a + 4], uniques = {}}
  local n = tonumber(ARGV[a + 5])
  a = a + 6
  for _ = 1, n do
    r.uniques[#r.uniques + 1] = {ARGV[a], ARGV[a + 1]}
    a = a + 2
  end
  k = k + 4
  records[#records + 1] = r
end
local claimed, taken = {}, {}
for _, r in ipairs(records) do
  for _, u in ipairs(r.uniques) do
    local f = u[1] .. '\\n' .. u[2]
    local pending = r.uniq .. '\\0' .. f
    local owner = claimed[pending] or redis.call('HGET', r.uniq, f)
    if owner and owner ~= r.member then
      return {'conflict', u[1], u[2], owner}
    end
    claimed[pending] = r.member
  end
  local slot = r.rec .. '\\0' .. r.member
  if taken[slot] or redis.call('HEXISTS', r.rec, r.member) == 1
      or (r.shared ~= '' and redis.call('HEXISTS', r.rec, r.shared) == 1) then
    return {'conflict', 'id', r.id, r.id}
  end
  taken[slot] = true
end
local seq = 0
if #records > 0 then
  seq = redis.call('INCRBY', KEYS[1], #records) - #records
end
for i, r in ipairs(records) do
  redis.call('HSET', r.rec, r.member, r.value)
  redis.call('ZADD', r.ord, seq + i, r.id)
  bump(KEYS[3], r.counter, 3)
  if #r.uniques > 0 then
    local fields = {}
    for _, u in ipairs(r.uniques) do
      local f = u[1] .. '\\n' .. u[2]
      redis.call('HSET', r.uniq, f, r.member)
      fields[#fields + 1] = f
    end
    redis.call('HSET', r.uidx, r.member, cjson.encode(fields))
  end
end
if mode == 'seed' then
  redis.call('SADD', KEYS[2], tenant)
end
return answer({'ok'}, KEYS[3], 3)
"""
)

# Lua: free the unique values a member holds. Shared by replace and delete.
_FREE = """
local function free(uniq, uidx, id)
  local held = redis.call('HGET', uidx, id)
  if held then
    for _, f in ipairs(cjson.decode(held)) do
      if redis.call('HGET', uniq, f) == id then
        redis.call('HDEL', uniq, f)
      end
    end
    redis.call('HDEL', uidx, id)
  end
end
"""

# KEYS: rec, uniq, uidx, tenants, versions. ARGV: member, body json, tenant, check ('1': refuse if
# the tenant is not seeded), its counter, the counters (m, incarnation, m names), n, n x
# (field, value), and last the member under the line without its scope ('' for none), which
# is replaced where the member is absent. The stored parent stays.
_REPLACE = (
    _FREE
    + _COUNTERS
    + """
local id, shared = ARGV[1], ARGV[#ARGV]
if ARGV[4] == '1' and redis.call('SISMEMBER', KEYS[4], ARGV[3]) == 0 then
  return {'unseeded'}
end
local old = redis.call('HGET', KEYS[1], id)
if not old and shared ~= '' then
  id = shared
  old = redis.call('HGET', KEYS[1], id)
end
if not old then
  return {'missing'}
end
local at = 8 + tonumber(ARGV[6])
local uniques, a = {}, at + 1
for _ = 1, tonumber(ARGV[at]) do
  uniques[#uniques + 1] = {ARGV[a], ARGV[a + 1]}
  a = a + 2
end
for _, u in ipairs(uniques) do
  local owner = redis.call('HGET', KEYS[2], u[1] .. '\\n' .. u[2])
  if owner and owner ~= id then
    return {'conflict', u[1], u[2], owner}
  end
end
free(KEYS[2], KEYS[3], id)
if #uniques > 0 then
  local fields = {}
  for _, u in ipairs(uniques) do
    local f = u[1] .. '\\n' .. u[2]
    redis.call('HSET', KEYS[2], f, id)
    fields[#fields + 1] = f
  end
  redis.call('HSET', KEYS[3], id, cjson.encode(fields))
end
local head = string.sub(old, 1, string.find(old, '\\n', 1, true))
redis.call('HSET', KEYS[1], id, head .. ARGV[2])
bump(KEYS[5], ARGV[5], 6)
return answer({'ok'}, KEYS[5], 6)
"""
)

# KEYS: rec, uniq, uidx, ord of the parent, tenants, versions, ord of the line without its
# scope. ARGV: member, id, tenant, check, its counter, the counters (m, incarnation, m names),
# the member under the line without its scope ('' for none: deleted where the member is
# absent). {1, counters...} deleted, {0} absent, {-2} the tenant is not seeded (another
# process reset the store)
_DELETE = (
    _FREE
    + _COUNTERS
    + """
if ARGV[4] == '1' and redis.call('SISMEMBER', KEYS[5], ARGV[3]) == 0 then
  return {-2}
end
local member, order, shared = ARGV[1], KEYS[4], ARGV[#ARGV]
if redis.call('HDEL', KEYS[1], member) == 0 then
  if shared == '' or redis.call('HDEL', KEYS[1], shared) == 0 then
    return {0}
  end
  member, order = shared, KEYS[7]
end
redis.call('ZREM', order, ARGV[2])
free(KEYS[2], KEYS[3], member)
bump(KEYS[6], ARGV[5], 6)
return answer({1}, KEYS[6], 6)
"""
)

# KEYS: tenants, rec. ARGV: tenant, check, member, the member under the line without its
# scope ('' for none), read where the first is absent. -> {0} unseeded, {1} absent, {1, value}
_GET = """
if ARGV[2] == '1' and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return {0}
end
local value = redis.call('HGET', KEYS[2], ARGV[3])
if not value and ARGV[4] ~= '' then
  value = redis.call('HGET', KEYS[2], ARGV[4])
end
return {1, value}
"""

_UNSEEDED = """
if ARGV[2] == '1' and redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 0 then
  return {-1}
end
"""

_HMGET_ALL = """
local function hmget_all(key, ids, prefix)
  local out, members = {}, ids
  if prefix ~= '' then  -- a parent's members: its json and a newline before each id
    members = {}
    for i = 1, #ids do members[i] = prefix .. ids[i] end
  end
  for i = 1, #members, 1000 do  -- unpack has a stack limit of a few thousand values
    local chunk = redis.call('HMGET', key, unpack(members, i, math.min(i + 999, #members)))
    for j = 1, #chunk do
      out[#out + 1] = chunk[j]
    end
  end
  return out
end

-- the ids of two order sets (a scoped line's and the line's without its scope) in insertion
-- order (their scores), and each one's member in the records' hash
local function merged(one, other, prefix, shared_prefix)
  local a = redis.call('ZRANGE', one, 0, -1, 'WITHSCORES')
  local b = redis.call('ZRANGE', other, 0, -1, 'WITHSCORES')
  local ids, members, i, j = {}, {}, 1, 1
  while i <= #a or j <= #b do
    if j > #b or (i <= #a and tonumber(a[i + 1]) <= tonumber(b[j + 1])) then
      ids[#ids + 1], members[#members + 1] = a[i], prefix .. a[i]
      i = i + 2
    else
      ids[#ids + 1], members[#members + 1] = b[j], shared_prefix .. b[j]
      j = j + 2
    end
  end
  return ids, members
end
"""

# KEYS: ord, rec, tenants, ord of the line without its scope. ARGV: tenant, check, offset,
# limit, after id, '1' when after id is given, the members' prefix, '1' where the line has a
# scope, the prefix of the members under the line without it. -> {total, offset, values in
# order}, or {-1} when the tenant is not seeded
_PAGE = (
    _HMGET_ALL
    + _UNSEEDED
    + """
if ARGV[8] == '1' then
  local ids, members = merged(KEYS[1], KEYS[4], ARGV[7], ARGV[9])
  local total, offset = #ids, tonumber(ARGV[3])
  if ARGV[6] == '1' then
    offset = total
    for i = 1, total do
      if ids[i] == ARGV[5] then offset = i break end
    end
  end
  local page = {}
  for i = offset + 1, math.min(offset + tonumber(ARGV[4]), total) do
    page[#page + 1] = members[i]
  end
  local values = {}
  if #page > 0 then values = hmget_all(KEYS[2], page, '') end
  return {total, offset, values}
end
local total = redis.call('ZCARD', KEYS[1])
local offset = tonumber(ARGV[3])
if ARGV[6] == '1' then
  local rank = redis.call('ZRANK', KEYS[1], ARGV[5])
  if rank then offset = rank + 1 else offset = total end
end
local ids = redis.call('ZRANGE', KEYS[1], offset, offset + tonumber(ARGV[4]) - 1)
local values = {}
if #ids > 0 then values = hmget_all(KEYS[2], ids, ARGV[7]) end
return {total, offset, values}
"""
)

# KEYS: ord, rec, tenants, ord of the line without its scope. ARGV: tenant, check, the
# members' prefix, '1' where the line has a scope, the prefix of the members under the line
# without it. -> {ids, values}, in insertion order, or {-1}
_ALL = (
    _HMGET_ALL
    + _UNSEEDED
    + """
if ARGV[4] == '1' then
  local ids, members = merged(KEYS[1], KEYS[4], ARGV[3], ARGV[5])
  local values = {}
  if #ids > 0 then values = hmget_all(KEYS[2], members, '') end
  return {ids, values}
end
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local values = {}
if #ids > 0 then values = hmget_all(KEYS[2], ids, ARGV[3]) end
return {ids, values}
"""
)

# KEYS: rec, uniq, uidx of one resource. Each record a release before wrote under its bare id
# though it has a parent (its value's head is not ""), moved to its member, with what its
# unique values name. A record already moved (its field begins as its value does) is left.
_MIGRATE = """
local moved, cursor = 0, '0'
repeat
  local scan = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 500)
  cursor = scan[1]
  local found = scan[2]
  for i = 1, #found, 2 do
    local field, value = found[i], found[i + 1]
    local cut = string.find(value, '\\n', 1, true)
    local head = string.sub(value, 1, cut)
    if head ~= '""\\n' and string.sub(field, 1, #head) ~= head then
      local member = head .. field
      redis.call('HSET', KEYS[1], member, value)
      redis.call('HDEL', KEYS[1], field)
      local held = redis.call('HGET', KEYS[3], field)
      if held then
        for _, f in ipairs(cjson.decode(held)) do
          if redis.call('HGET', KEYS[2], f) == field then
            redis.call('HSET', KEYS[2], f, member)
          end
        end
        redis.call('HSET', KEYS[3], member, held)
        redis.call('HDEL', KEYS[3], field)
      end
      moved = moved + 1
    end
  end
until cursor == '0'
return moved
"""


class RedisRecords:
    """The ``RecordStore`` protocol on Redis (see the module docstring for the layout).

    A process remembers the tenants it has seen seeded, so a request does not ask Redis
    again; every script it runs for such a tenant checks the seeded mark in the same atomic
    step, and if another process reset the store meanwhile, the tenant is seeded again and
    the step repeated, just as it would have been had the process asked first."""

    versions_are_local = False  # a counter is a round trip (HMGET)

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._client = redis.client
        self._versions = redis.versions
        self._tenants = redis.key("store", "tenants")
        # tenant -> scope -> seed: what this process has seen seeded
        self._seeders: dict[str, dict[str, Callable[[], dict[str, list[Record]]]]] = {}
        self._insert_script = redis.script(_INSERT)
        self._replace_script = redis.script(_REPLACE)
        self._delete_script = redis.script(_DELETE)
        self._get_script = redis.script(_GET)
        self._page_script = redis.script(_PAGE)
        self._all_script = redis.script(_ALL)
        self._migrate()

    def _migrate(self) -> None:
        """Records written before a record was named within its parent, moved to their
        members (``_MIGRATE``) once: later starts read one key. Each resource is moved in
        one atomic script, so two processes starting at once move each record once."""
        done = self.redis.key("store", "layout")
        with self.redis.guard():
            if self._client.get(done) == b"2":
                return
            script = self.redis.script(_MIGRATE)
            found = self._stored_resources()
            for rest in found:
                kinds = ("rec", "uniq", "uidx")
                script(keys=[self.redis.key("store", kind) + ":" + rest for kind in kinds])
            self._client.set(done, b"1" if found else b"2")  # 1: ``reline`` is still to run

    def _stored_resources(self) -> list[str]:
        """ "t:r" (each escaped) of every tenant and resource with records."""
        base = self.redis.key("store", "rec") + ":"
        found = self._client.scan_iter(match=base + "*", count=1000)
        return [(k.decode() if isinstance(k, bytes) else k)[len(base) :] for k in found]

    def reline(self, nested: list[tuple[str, str]]) -> None:
        """Only in a store ``_migrate`` found records in (marked "1"), for each tenant that
        has the resource: its records under their parent's id alone moved under the line of
        the parent record with that id, in one transaction per tenant and resource (a few
        round trips each, once)."""
        done = self.redis.key("store", "layout")
        with self.redis.guard():
            if self._client.get(done) != b"1":
                return
            tenants = {rest.partition(":")[0] for rest in self._stored_resources()}
            for resource, parent in nested:
                for tenant in sorted(tenants):
                    self._reline(tenant, resource, parent)
            self._client.set(done, b"2")

    def _reline(self, tenant: str, resource: str, parent: str) -> None:
        """``reline`` for one tenant (as escaped in its keys) and resource."""

        def key(kind: str, name: str) -> str:
            return self.redis.key("store", kind, tenant, part(name))

        lines: dict[str, str] = {}
        for field, value in self._client.hgetall(key("rec", parent)).items():
            above = _stored(value.partition(b"\n")[0])
            if above:
                lines.setdefault(_id_of(field), above)
        records, uniq, uidx = key("rec", resource), key("uniq", resource), key("uidx", resource)
        pipe = self._client.pipeline(transaction=True)
        for field, value in self._client.hgetall(records).items():
            head, _, body = value.partition(b"\n")
            old = _stored(head)
            if not old or PARENT_LINE in old or old not in lines:
                continue
            record_id, line = _id_of(field), f"{lines[old]}{PARENT_LINE}{old}"
            member = _member(line, record_id)
            pipe.hset(records, member, _value_raw(line, body))
            pipe.hdel(records, field)
            was, now = (
                key("ord", resource) + ":" + part(old),
                key("ord", resource) + ":" + part(line),
            )
            score = self._client.zscore(was, record_id)
            pipe.zadd(now, {record_id: score if score is not None else 0})
            pipe.zrem(was, record_id)
            held = self._client.hget(uidx, field)
            if held:
                for name in _stored(held):
                    if self._client.hget(uniq, name) == field:
                        pipe.hset(uniq, name, member)
                pipe.hset(uidx, member, held)
                pipe.hdel(uidx, field)
        pipe.execute()

    # -- key names ------------------------------------------------------------------------
    def _key(self, kind: str, tenant: str, resource: str) -> str:
        return self.redis.key("store", kind, part(tenant), part(resource))

    def _order(self, tenant: str, resource: str, parent: str) -> str:
        return self._key("ord", tenant, resource) + ":" + part(parent)

    # -- seeding ----------------------------------------------------------------------------
    def ensure_seeded(
        self, tenant: str, seed: Callable[[], dict[str, list[Record]]], scope: str = ""
    ) -> None:
        scopes = self._seeders.get(tenant)
        if scopes is not None and scope in scopes:
            return
        marker = f"{tenant}\x1f{scope}" if scope else tenant
        with self.redis.guard():
            seeded = self._client.sismember(self._tenants, marker)
        if not seeded:
            records = seed()  # outside any lock: another process may seed meanwhile, and wins
            batch = [(name, record) for name, items in records.items() for record in items]
            self._run_insert(tenant, batch, mode="seed", member=marker)
        with self.redis.guard():  # the tenant itself is marked, so later steps notice a reset
            self._client.sadd(self._tenants, tenant)
        if len(self._seeders) >= 10_000:
            self._seeders.clear()
        self._seeders.setdefault(tenant, {})[scope] = seed

    def _checked(self, tenant: str) -> str:
        """'1' when this process believes the tenant seeded: the script must make sure."""
        return "1" if tenant in self._seeders else "0"

    def _seed_again(self, tenant: str) -> None:
        """Another process reset the store after this one saw the tenant seeded."""
        for scope, seed in (self._seeders.pop(tenant, None) or {}).items():
            self.ensure_seeded(tenant, seed, scope)

    # -- the interface ----------------------------------------------------------------------
    def get(self, tenant: str, resource: str, record_id: str, parent: str = "") -> dict | None:
        keys = [self._tenants, self._key("rec", tenant, resource)]
        member, shared = _member(parent, record_id), _shared_member(parent, record_id)
        for _ in range(3):
            with self.redis.guard():
                args = [tenant, self._checked(tenant), member, shared]
                answer = self._get_script(keys=keys, args=args)
            if answer[0] == 1:
                break
            self._seed_again(tenant)
        if len(answer) < 2 or answer[1] is None:
            return None
        return _split(answer[1])[1]

    def insert(self, tenant: str, resource: str, records: list[Record]) -> None:
        batch = [(resource, record) for record in records]
        for _ in range(3):
            mode = "check" if tenant in self._seeders else "plain"
            if self._run_insert(tenant, batch, mode=mode):
                return
            self._seed_again(tenant)

    def _run_insert(
        self, tenant: str, batch: list[tuple[str, Record]], *, mode: str, member: str = ""
    ) -> bool:
        """False when the tenant turned out not to be seeded (mode 'check'). ``member``: the
        seeded mark to test and set in mode 'seed' (the tenant and the scope seeded)."""
        keys = [self.redis.key("store", "seq"), self._tenants, self._versions.key]
        watched = self._versions.watched()
        args: list[Any] = [member or tenant, mode, *self._versions.arguments(watched)]
        for resource, record in batch:
            keys += [
                self._key("rec", tenant, resource),
                self._key("uniq", tenant, resource),
                self._key("uidx", tenant, resource),
                self._order(tenant, resource, record.parent),
            ]
            args += [_member(record.parent, record.id), record.id,
                     _value(record.parent, record.body), records_field(resource),
                     _shared_member(record.parent, record.id), len(record.unique)]  # fmt: skip
            for field, value in record.unique.items():
                args += [field, value]
        with self.redis.guard():
            answer = self._insert_script(keys=keys, args=args)
        _raise_conflict(answer)
        if answer[0] == b"ok":
            self._versions.note(watched, answer[1:])
        return answer[0] != b"unseeded"

    def replace(self, tenant: str, resource: str, record: Record) -> bool:
        keys = [*(self._key(kind, tenant, resource) for kind in ("rec", "uniq", "uidx")),
                self._tenants, self._versions.key]  # fmt: skip
        for _ in range(3):
            watched = self._versions.watched()
            args: list[Any] = [_member(record.parent, record.id), dumps(record.body), tenant,
                               self._checked(tenant),
                               records_field(resource), *self._versions.arguments(watched),
                               len(record.unique)]  # fmt: skip
            for field, value in record.unique.items():
                args += [field, value]
            args.append(_shared_member(record.parent, record.id))
            with self.redis.guard():
                answer = self._replace_script(keys=keys, args=args)
            if answer[0] != b"unseeded":
                break
            self._seed_again(tenant)
        if answer[0] in (b"missing", b"unseeded"):
            return False
        _raise_conflict(answer)
        self._versions.note(watched, answer[1:])
        return True

    def delete(self, tenant: str, resource: str, record_id: str, parent: str = "") -> bool:
        shared = unscoped(parent)
        keys = [*(self._key(kind, tenant, resource) for kind in ("rec", "uniq", "uidx")),
                self._order(tenant, resource, parent), self._tenants, self._versions.key,
                self._order(tenant, resource, parent if shared is None else shared)]  # fmt: skip
        for _ in range(3):
            watched = self._versions.watched()
            args = [_member(parent, record_id), record_id, tenant, self._checked(tenant),
                    records_field(resource), *self._versions.arguments(watched),
                    _shared_member(parent, record_id)]  # fmt: skip
            with self.redis.guard():
                answer = self._delete_script(keys=keys, args=args)
            done = int(answer[0])
            if done != -2:
                break
            self._seed_again(tenant)
        if done == 1:
            self._versions.note(watched, answer[1:])
        return done == 1

    def query(self, tenant: str, resource: str, query: ListQuery) -> tuple[list[dict], int, int]:
        shared = unscoped(query.parent)
        keys = [self._order(tenant, resource, query.parent), self._key("rec", tenant, resource),
                self._tenants, self._order(tenant, resource, query.parent if shared is None
                                           else shared)]  # fmt: skip
        scoped = ["0", b""] if shared is None else ["1", _member(shared, "")]
        simple = not query.filters and not query.sort
        if not simple:
            for field in (*query.filters, *(name for name, _ in query.sort)):
                _check_field(field)
        after = query.after_id is not None
        prefix = _member(query.parent, "")
        for _ in range(3):
            with self.redis.guard():
                if simple:
                    args = [tenant, self._checked(tenant), query.offset, query.limit,
                            query.after_id or "", "1" if after else "0", prefix,
                            *scoped]  # fmt: skip
                    answer = self._page_script(keys=keys, args=args)
                else:
                    args = [tenant, self._checked(tenant), prefix, *scoped]
                    answer = self._all_script(keys=keys, args=args)
            if answer[0] != -1:
                break
            self._seed_again(tenant)
        if answer[0] == -1:
            return [], 0, query.offset
        if simple:
            total, offset, values = answer
            return [_split(raw)[1] for raw in values if raw is not None], total, offset
        ids, values = answer
        rows = [
            (record_id.decode(), _split(raw)[1])
            for record_id, raw in zip(ids, values, strict=True)
            if raw is not None
        ]
        wanted = {field: _sql_value(value) for field, value in query.filters.items()}
        rows = [row for row in rows if _matches(row[1], wanted)]
        for field, descending in reversed(query.sort):  # stable: ties keep insertion order
            rows.sort(key=_ranked_by(field), reverse=descending)
        offset = query.offset
        if query.after_id is not None:
            found = [record_id for record_id, _ in rows]
            offset = found.index(query.after_id) + 1 if query.after_id in found else len(found)
        return [body for _, body in rows[offset : offset + query.limit]], len(rows), offset

    def version(self, resource: str) -> int | None:
        """A number that moves whenever any process writes a record of ``resource``; None
        while there are no counters (none written since a reset: read every time)."""
        return self._versions.read(records_field(resource))

    def reset(self) -> None:
        self._seeders.clear()
        self.redis.clear("store")  # the counters too (state.redis.versions says why)


def _member(parent: str, record_id: str) -> bytes:
    """The record's field in its resource's hash: its id, after its parent's json and a
    newline where it has one (json never holds a raw newline: the first one ends it)."""
    if not parent:
        return record_id.encode()
    return dumps(parent) + b"\n" + record_id.encode()


def _shared_member(parent: str, record_id: str) -> bytes:
    """The record's member under ``parent`` without its scope (``RecordStore``), or b""
    where ``parent`` has none."""
    shared = unscoped(parent)
    return b"" if shared is None else _member(shared, record_id)


def _id_of(member: bytes) -> str:
    """The id in a member (``_member``): a bare id, or what follows its parent's json."""
    head, newline, rest = member.partition(b"\n")
    if newline and head[:1] == b'"' and head[-1:] == b'"':
        return rest.decode()
    return member.decode()


def _value(parent: str, body: dict[str, Any]) -> bytes:
    """What a record's hash field holds; dumps never writes a raw newline, so the first one
    ends the parent."""
    return _value_raw(parent, dumps(body))


def _value_raw(parent: str, body: bytes) -> bytes:
    return dumps(parent) + b"\n" + body


# what _value wrote from a record already made valid: the strict reader is for clients' text
_stored = orjson.loads


def _split(raw: bytes) -> tuple[str, dict[str, Any]]:
    head, _, body = raw.partition(b"\n")
    return _stored(head), _stored(body)


def _raise_conflict(answer: list[Any]) -> None:
    if answer and answer[0] == b"conflict":
        field, value = (item.decode() for item in answer[1:3])
        raise Conflict(field, value, _id_of(answer[3]))


def _check_field(field: str) -> None:
    """The names SQLite's store accepts in a JSON path, and no others (same ValueError)."""
    if not all(ch.isalnum() or ch in "_-" for ch in field):
        raise ValueError(f"not a field name: {field!r}")


def _sql_value(value: Any) -> Any:
    """A JSON value as SQLite's json_extract gives it: booleans are 1/0, objects and arrays
    their compact JSON text, null is NULL."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return dumps(value).decode()
    return value


def _matches(body: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """``json_extract(body, field) = value`` for every filter; NULL equals nothing."""
    for field, value in wanted.items():
        have = _sql_value(body.get(field))
        if have is None or value is None or have != value:
            return False
        if isinstance(have, str) != isinstance(value, str):
            return False  # SQLite: TEXT never equals a number
    return True


def _ranked_by(field: str) -> Callable[[tuple[str, dict[str, Any]]], tuple[int, Any]]:
    return lambda row: _rank(row[1].get(field))


def _rank(value: Any) -> tuple[int, Any]:
    """SQLite's ORDER BY: NULL, then numbers by value, then text byte by byte."""
    value = _sql_value(value)
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value).encode())
