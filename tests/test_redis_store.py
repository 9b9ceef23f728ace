"""The Redis StateStore against a real redis-server: the same answers as the SQLite store for
the same operations, all-or-nothing writes, unique values and ids taken once under races,
and a reset that touches only its own prefix."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from sandbox.errors import Conflict
from sandbox.jsonio import dumps
from sandbox.state.protocols import ListQuery, Record
from sandbox.state.redis.connection import RedisState
from sandbox.state.redis.records import RedisRecords
from sandbox.state.sqlite.file import SQLiteFile
from sandbox.state.sqlite.records import SQLiteRecords

NAMES = ["ada", "Bob", "carol", "dave", "Éve", "frank", None]


@pytest.fixture
def pair(redis_url: str, tmp_path: Path) -> tuple[SQLiteRecords, RedisRecords]:
    sqlite = SQLiteRecords(SQLiteFile(tmp_path / "s.sqlite", ""))
    return sqlite, RedisRecords(RedisState(redis_url, "unused"))


def random_body(rng: random.Random, index: int) -> dict:
    body: dict = {"id": f"r{index}", "n": rng.choice([1, 2, 2.5, 3, 10, -1, None])}
    name = rng.choice(NAMES)
    if name is not None:
        body["name"] = name
    body["active"] = rng.choice([True, False])
    body["tags"] = rng.choice([["a"], ["a", "b"], [], {"k": 1}])
    body["kind"] = rng.choice(["x", "y", 3, True])
    return body


def test_same_answers_as_sqlite_for_random_operations(pair) -> None:
    sqlite, redis = pair
    rng = random.Random(7)
    for store in pair:
        store.ensure_seeded("t", lambda: {"things": []})
    live: list[str] = []
    for step in range(400):
        action = rng.random()
        if action < 0.45 or not live:
            record = Record(f"r{step}", random_body(rng, step), rng.choice(["", "p1", "p2"]))
            for store in pair:
                store.insert("t", "things", [Record(record.id, dict(record.body), record.parent)])
            live.append(record.id)
        elif action < 0.65:
            record_id = rng.choice(live)
            body = random_body(rng, step)
            body["id"] = record_id
            assert sqlite.replace("t", "things", Record(record_id, body)) == redis.replace(
                "t", "things", Record(record_id, body)
            )
        elif action < 0.75:
            record_id = rng.choice(live)
            parent = rng.choice(["", "p1", "p2"])
            deleted = sqlite.delete("t", "things", record_id, parent)
            assert redis.delete("t", "things", record_id, parent) == deleted
            if deleted:
                live.remove(record_id)
        else:
            record_id = rng.choice([*live, "missing"])
            parent = rng.choice(["", "p1"])
            assert sqlite.get("t", "things", record_id, parent) == redis.get(
                "t", "things", record_id, parent
            )
        query = ListQuery(
            parent=rng.choice(["", "p1", "p2"]),
            offset=rng.choice([0, 0, 1, 3, 50]),
            limit=rng.choice([1, 5, 20]),
        )
        shape = rng.random()
        if shape < 0.3:
            field = rng.choice(["n", "name", "active", "tags", "kind"])
            query.filters = {field: rng.choice([1, 2.5, "ada", True, False, ["a"], {"k": 1}, 3])}
        if 0.2 < shape < 0.7:
            query.sort = [(rng.choice(["n", "name", "kind", "tags"]), rng.random() < 0.5)]
            if rng.random() < 0.3:
                query.sort.append(("active", rng.random() < 0.5))
        if rng.random() < 0.2:
            query.after_id = rng.choice([*live, "nope"]) if live else "nope"
        assert redis.query("t", "things", query) == sqlite.query("t", "things", query), query


def test_unique_values_and_ids_conflict_like_sqlite(pair) -> None:
    for store in pair:
        store.insert("t", "users", [Record("u1", {"email": "a@x"}, unique={"email": "a@x"})])
        with pytest.raises(Conflict) as taken:
            store.insert("t", "users", [Record("u2", {"email": "A@x"}, unique={"email": "a@x"})])
        assert (taken.value.field, taken.value.value, taken.value.existing_id) == (
            "email", "a@x", "u1",
        )  # fmt: skip
        with pytest.raises(Conflict) as same_id:
            store.insert("t", "users", [Record("u1", {"email": "b@x"}, unique={"email": "b@x"})])
        assert same_id.value.field == "id"
        # a batch is all or nothing: the second record's clash keeps the first out too
        with pytest.raises(Conflict):
            store.insert("t", "users", [
                Record("u3", {"email": "c@x"}, unique={"email": "c@x"}),
                Record("u4", {"email": "c@x"}, unique={"email": "c@x"}),
            ])  # fmt: skip
        assert store.get("t", "users", "u3") is None
        # replacing frees the old value and takes the new one; a taken one is a conflict
        store.insert("t", "users", [Record("u5", {"email": "d@x"}, unique={"email": "d@x"})])
        assert store.replace("t", "users", Record("u5", {"email": "e@x"}, unique={"email": "e@x"}))
        store.insert("t", "users", [Record("u6", {"email": "d@x"}, unique={"email": "d@x"})])
        with pytest.raises(Conflict):
            store.replace("t", "users", Record("u6", {"email": "a@x"}, unique={"email": "a@x"}))
        assert not store.replace("t", "users", Record("nope", {}))
        # deleting frees the value
        assert store.delete("t", "users", "u1")
        store.insert("t", "users", [Record("u7", {"email": "a@x"}, unique={"email": "a@x"})])
        assert store.query("t", "users", ListQuery(limit=50))[1] == 3


def test_racing_inserts_take_a_unique_value_once(redis_url: str) -> None:
    """Eight stores (eight processes' worth of connections) race for one email."""
    stores = [RedisRecords(RedisState(redis_url, "unused")) for _ in range(8)]
    won, lost = [], []
    barrier = threading.Barrier(len(stores))

    def race(index: int, store: RedisRecords) -> None:
        barrier.wait()
        try:
            store.insert("t", "users", [Record(f"u{index}", {}, unique={"email": "same@x"})])
            won.append(index)
        except Conflict:
            lost.append(index)

    threads = [threading.Thread(target=race, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 7


def test_a_tenant_is_seeded_exactly_once(redis_url: str) -> None:
    stores = [RedisRecords(RedisState(redis_url, "unused")) for _ in range(6)]
    seeded = []
    barrier = threading.Barrier(len(stores))

    def seed(index: int, store: RedisRecords) -> None:
        def records() -> dict[str, list[Record]]:
            seeded.append(index)
            return {"items": [Record(f"i{index}-{n}", {"n": n}) for n in range(25)]}

        barrier.wait()
        store.ensure_seeded("tenant", records)

    threads = [threading.Thread(target=seed, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items, total, _ = stores[0].query("tenant", "items", ListQuery(limit=100))
    assert total == 25 and len(items) == 25  # one seeder's records, not several
    stores[0].ensure_seeded("tenant", lambda: pytest.fail("seeded twice"))


def test_reset_clears_only_its_own_prefix(redis_server) -> None:
    mine = RedisRecords(RedisState(redis_server.url(prefix="reset-mine"), "unused"))
    theirs = RedisRecords(RedisState(redis_server.url(prefix="reset-mine-not"), "unused"))
    for store in (mine, theirs):
        store.insert("t", "users", [Record("u1", {"name": "x"}, unique={"email": "a@x"})])
    mine.reset()
    assert mine.get("t", "users", "u1") is None
    assert theirs.get("t", "users", "u1") == {"name": "x"}
    assert not redis_server.client().keys("reset-mine:*")
    assert redis_server.client().keys("reset-mine-not:*")


def test_key_components_cannot_run_into_each_other(redis_url: str) -> None:
    """Tenant 'a:b' with resource 'c' is not tenant 'a' with resource 'b:c'."""
    store = RedisRecords(RedisState(redis_url, "unused"))
    store.insert("a:b", "c", [Record("1", {"who": "first"})])
    store.insert("a", "b:c", [Record("1", {"who": "second"})])
    assert store.get("a:b", "c", "1") == {"who": "first"}
    assert store.get("a", "b:c", "1") == {"who": "second"}


def test_a_page_of_thousands_reads_only_the_page(redis_url: str) -> None:
    store = RedisRecords(RedisState(redis_url, "unused"))
    store.insert("t", "rows", [Record(f"r{n:05}", {"n": n}) for n in range(12_000)])
    items, total, offset = store.query("t", "rows", ListQuery(offset=11_990, limit=20))
    assert (
        total == 12_000
        and offset == 11_990
        and [i["n"] for i in items] == list(range(11_990, 12_000))
    )
    everything, total, _ = store.query("t", "rows", ListQuery(limit=10_000))
    assert len(everything) == 10_000
    after, _, offset = store.query("t", "rows", ListQuery(limit=2, after_id="r00100"))
    assert offset == 101 and [i["n"] for i in after] == [101, 102]
    filtered, total, _ = store.query("t", "rows", ListQuery(filters={"n": 11_999}, limit=5))
    assert total == 1 and filtered == [{"n": 11_999}]


def test_a_reset_elsewhere_reseeds_a_tenant_this_process_saw_seeded(redis_url: str) -> None:
    """Each store remembers which tenants it has seen seeded; a reset by another process
    must still be noticed by every kind of operation, and the tenant seeded again first."""
    mine, other = (RedisRecords(RedisState(redis_url, "unused")) for _ in range(2))

    def seed() -> dict[str, list[Record]]:
        return {"items": [Record(f"seed{n}", {"n": n}) for n in range(3)]}

    operations = {
        "get": lambda: mine.get("t", "items", "seed0"),
        "query": lambda: mine.query("t", "items", ListQuery(limit=10))[1],
        "sorted query": lambda: mine.query("t", "items", ListQuery(sort=[("n", True)]))[1],
        "insert": lambda: mine.insert("t", "items", [Record("new", {"n": 9})]),
        "replace": lambda: mine.replace("t", "items", Record("seed1", {"n": 1, "x": True})),
        "delete": lambda: mine.delete("t", "items", "seed2"),
    }
    for name, operation in operations.items():
        other.reset()
        mine.ensure_seeded("t", seed)  # seeds, and remembers
        mine.insert("t", "items", [Record("before", {"n": 0})])
        other.reset()  # the other process resets: the tenant is gone
        operation()
        items, total, _ = other.query("t", "items", ListQuery(limit=10))
        ids = {item.get("n") for item in items}
        assert other.get("t", "items", "before") is None, name  # the reset stands
        assert {0, 1} <= ids, (name, items)  # seeded again first
        assert total >= 2, (name, total)


def test_who_listens_to_a_change_is_told_by_the_change_itself(redis_url: str) -> None:
    """A stored change asks who listens (the admin API's subscriptions and the spec's own
    webhook records). Inside the change's transaction the counters its script returned
    answer that: no round trip of its own while nothing changed, and a change made by
    another process, a reset included, is still seen at once (state.redis.versions)."""
    from limits.storage import MemoryStorage

    from sandbox.resources.inference import Resource
    from sandbox.state.protocols import Subscription
    from sandbox.state.redis import RedisBackend
    from sandbox.webhooks.bridge import StoredSubscriptions

    mine = RedisBackend(RedisState(redis_url, "unused"), MemoryStorage)
    theirs = RedisBackend(RedisState(redis_url, "unused"), MemoryStorage)
    records, subscriptions = mine.records(), mine.subscriptions()
    schema = {"type": "object", "properties": {"url": {}, "events": {}}}
    listed = StoredSubscriptions(records, Resource("webhooks", "webhook", "/hooks",
                                                   item_schema=schema))  # fmt: skip
    sent: list[str] = []
    execute = mine.redis.client.execute_command

    def counting(*args, **options):
        sent.append(str(args[0]))
        return execute(*args, **options)

    mine.redis.client.execute_command = counting  # type: ignore[method-assign]

    def create(n: int) -> tuple[list[str], list[str]]:
        sent.clear()
        with mine.transaction():
            records.insert("t", "users", [Record(f"u{n}", {"n": n})])
            return [s.id for s in subscriptions.all()], [s.id for s in listed("t")]

    assert create(0) == ([], [])  # the first asks; the counters are watched from now on
    assert create(1) == ([], []) and sent == ["EVALSHA"]  # the insert, and nothing else
    theirs.subscriptions().add(Subscription("whk_1", "http://127.0.0.1:9/", ("*",), "s"))
    assert create(2) == (["whk_1"], [])
    hook = {"id": "w1", "url": "http://127.0.0.1:9/", "events": ["*"]}
    theirs.records().insert("t", "webhooks", [Record("w1", hook)])
    assert create(3) == (["whk_1"], ["w1"])
    assert create(4) == (["whk_1"], ["w1"]) and sent == ["EVALSHA"]
    theirs.records().reset()  # the counters go with the records: nothing is kept
    with mine.transaction():
        assert [s.id for s in listed("t")] == []
    assert create(5) == (["whk_1"], [])
    assert create(6) == (["whk_1"], []) and sent == ["EVALSHA"]


def _old_layout(state: RedisState) -> None:
    """Records as the release before wrote them: every one under its bare id, whatever its
    parent; its unique values naming that id (raw commands, that release's key layout)."""
    client = state.client

    def key(kind: str, *rest: str) -> str:
        return state.key("store", kind, "t", *rest)

    rows = [("users", "u1", "", {"id": "u1"}),
            ("labels", "bug", "p1", {"id": "bug", "c": "red"}),
            ("labels", "wontfix", "p1", {"id": "wontfix"}),
            ("users", "u2", "", {"id": "u2"}),
            ("teams", "core", "o1", {"id": "core"}),  # teams of orgs, their discussions:
            ("discussions", "d1", "core", {"id": "d1"}),  # under the team's id alone
            ("discussions", "d2", "core", {"id": "d2"}),
            ("comments", "c1", "d1", {"id": "c1"})]  # fmt: skip
    for seq, (resource, record_id, parent, body) in enumerate(rows, 1):
        client.hset(key("rec", resource), record_id, dumps(parent) + b"\n" + dumps(body))
        client.zadd(key("ord", resource, parent), {record_id: seq})
    client.hset(key("uniq", "labels"), "name\nbug", "bug")
    client.hset(key("uidx", "labels"), "bug", dumps(["name\nbug"]))
    client.hset(key("uniq", "users"), "email\na@x", "u1")
    client.hset(key("uniq", "discussions"), "title\nhi", "d2")
    client.hset(key("uidx", "discussions"), "d2", dumps(["title\nhi"]))
    client.hset(key("uidx", "users"), "u1", dumps(["email\na@x"]))
    client.set(state.key("store", "seq"), len(rows))
    client.sadd(state.key("store", "tenants"), "t")


def test_records_written_before_are_moved_to_their_parents_once(redis_url: str) -> None:
    """A store the release before wrote (one record per id, whatever its parent) opened by
    this one: each record found under its parent, in order, its unique values still its
    own; then one id may be under two parents. A second store opening it changes nothing."""
    state = RedisState(redis_url, "unused")
    _old_layout(state)
    store = RedisRecords(state)
    assert store.get("t", "labels", "bug", "p1") == {"id": "bug", "c": "red"}
    assert store.get("t", "labels", "bug") is None
    assert store.get("t", "users", "u1") == {"id": "u1"}
    labels, total, _ = store.query("t", "labels", ListQuery(parent="p1"))
    assert [r["id"] for r in labels] == ["bug", "wontfix"] and total == 2
    assert [r["id"] for r in store.query("t", "users", ListQuery())[0]] == ["u1", "u2"]
    with pytest.raises(Conflict) as taken:
        store.insert("t", "labels", [Record("x", {}, "p2", {"name": "bug"})])
    assert taken.value.existing_id == "bug"
    with pytest.raises(Conflict):
        store.insert("t", "users", [Record("u3", {}, "", {"email": "a@x"})])
    store.insert("t", "labels", [Record("bug", {"id": "bug", "c": "blue"}, "p2")])
    again = RedisRecords(RedisState(redis_url, "unused"))
    assert again.get("t", "labels", "bug", "p1") == {"id": "bug", "c": "red"}
    assert again.get("t", "labels", "bug", "p2") == {"id": "bug", "c": "blue"}
    assert again.delete("t", "labels", "bug", "p1")  # and its unique value freed with it
    store.insert("t", "labels", [Record("x", {}, "p2", {"name": "bug"})])
    assert [r["id"] for r in store.query("t", "labels", ListQuery(parent="p1"))[0]] == ["wontfix"]

    # records three levels deep and more moved under their parent's line, once, top down
    nested = [("discussions", "teams"), ("comments", "discussions")]
    store.reline(nested)
    assert store.get("t", "discussions", "d1", "o1\x1fcore") == {"id": "d1"}
    assert store.get("t", "discussions", "d1", "core") is None
    assert store.get("t", "comments", "c1", "o1\x1fcore\x1fd1") == {"id": "c1"}
    assert store.get("t", "teams", "core", "o1") == {"id": "core"}  # two levels: as it was
    listed = store.query("t", "discussions", ListQuery(parent="o1\x1fcore"))[0]
    assert [r["id"] for r in listed] == ["d1", "d2"]  # in the order they were made
    assert store.query("t", "discussions", ListQuery(parent="core"))[1] == 0
    with pytest.raises(Conflict) as taken:  # its unique value went with it
        store.insert("t", "discussions", [Record("d3", {}, "o1\x1fcore", {"title": "hi"})])
    assert taken.value.existing_id == "d2"
    assert store.delete("t", "discussions", "d2", "o1\x1fcore")
    store.insert("t", "discussions", [Record("d3", {}, "o1\x1fcore", {"title": "hi"})])
    store.insert("t", "discussions", [Record("d1", {"id": "d1", "n": 2}, "o2\x1fcore")])
    again.reline(nested)  # done: nothing moves
    assert store.get("t", "discussions", "d1", "o2\x1fcore") == {"id": "d1", "n": 2}


def test_a_store_this_release_wrote_has_nothing_to_reline(redis_url: str) -> None:
    store = RedisRecords(RedisState(redis_url, "unused"))
    store.insert("t", "discussions", [Record("d1", {"id": "d1"}, "core")])
    store.reline([("discussions", "teams")])
    assert store.get("t", "discussions", "d1", "core") == {"id": "d1"}
