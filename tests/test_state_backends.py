"""Every state protocol, one contract, both backends: the SQLite state file and a real Redis.

Each test runs once per backend with the same assertions, so a new backend (or a change to
one) meets exactly what the rest of the sandbox relies on, the atomic steps included (threads
race for a counted scenario's last use, two stores for one signing key)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from limits.storage import MemoryStorage

from sandbox.errors import Conflict, GrantRejected
from sandbox.resources.inference import Resource
from sandbox.state.protocols import (
    ApiKey,
    Attempt,
    Backend,
    Grant,
    JournalFilter,
    Kept,
    ListQuery,
    NewDelivery,
    Record,
    StoredScenario,
    Subscription,
)
from sandbox.state.redis import RedisBackend
from sandbox.state.redis.connection import RedisState
from sandbox.state.sqlite import SQLiteBackend
from sandbox.webhooks.bridge import StoredSubscriptions


@pytest.fixture(params=["sqlite", "redis"])
def make_backend(request, tmp_path: Path) -> Iterator:
    """A factory: every call opens another backend object on the same state, as another
    worker process would."""

    def make() -> Backend:
        if request.param == "sqlite":
            return SQLiteBackend(str(tmp_path / "state.sqlite"), MemoryStorage)
        url = request.getfixturevalue("redis_url")
        return RedisBackend(RedisState(url, "unused"), MemoryStorage)

    yield make


@pytest.fixture
def backend(make_backend) -> Backend:
    return make_backend()


def test_keys(backend: Backend) -> None:
    keys = backend.keys()
    keys.add(ApiKey("sk_test_a", "free", "first", 100))
    keys.add(ApiKey("sk_test_b", "pro", "", 200))
    assert keys.plan_of("sk_test_b") == "pro" and keys.plan_of("sk_test_c") is None
    assert [k.key for k in keys.all()] == ["sk_test_a", "sk_test_b"]  # oldest first
    assert keys.all()[0] == ApiKey("sk_test_a", "free", "first", 100)
    assert keys.remove("sk_test_a") is True and keys.remove("sk_test_a") is False


def _entry(n: int, **extra) -> dict:
    return {"at": float(n), "method": "GET", "path": f"/v1/things/{n}", "status": 200, **extra}


def test_journal_keeps_the_newest_and_filters(backend: Backend) -> None:
    journal = backend.journal()
    journal.append([_entry(n) for n in range(5)], capacity=3)
    journal.append([_entry(5, status=429, operation="listThings", problems=[{"f": 1}]),
                    _entry(6, method="POST", status=404, key="sk_1")], capacity=3)  # fmt: skip
    everything = journal.read(JournalFilter(), limit=10)
    assert [e["path"] for e in everything] == ["/v1/things/6", "/v1/things/5", "/v1/things/4"]
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    assert [e["path"] for e in journal.read(JournalFilter(status="4xx"), 10)] == [
        "/v1/things/6", "/v1/things/5"]  # fmt: skip
    assert len(journal.read(JournalFilter(status="429", operation="listThings"), 10)) == 1
    assert len(journal.read(JournalFilter(method="post", key="sk_1"), 10)) == 1
    assert len(journal.read(JournalFilter(problems=True), 10)) == 1
    assert len(journal.read(JournalFilter(path="things/4"), 10)) == 1
    assert [e["id"] for e in journal.read(JournalFilter(since=ids[1]), 10)] == [ids[0]]
    assert len(journal.read(JournalFilter(), limit=1)) == 1
    journal.clear()
    assert journal.read(JournalFilter(), 10) == []


def test_journal_keeps_the_newest_across_batches_workers_and_a_smaller_capacity(
    make_backend,
) -> None:
    """Batches from two workers wrap round the kept entries many times; a later start with
    a smaller journal keeps the newest of those; ids only grow, as the dashboard polls."""
    one, two = make_backend().journal(), make_backend().journal()
    for batch in range(7):
        (one if batch % 2 else two).append([_entry(batch * 3 + n) for n in range(3)], 4)
    kept = one.read(JournalFilter(), limit=10)
    assert [e["path"] for e in kept] == [f"/v1/things/{n}" for n in (20, 19, 18, 17)]
    two.append([_entry(21)], capacity=2)
    kept = two.read(JournalFilter(), limit=10)
    assert [e["path"] for e in kept] == ["/v1/things/21", "/v1/things/20"]
    assert kept[0]["id"] > kept[1]["id"]
    assert [e["path"] for e in one.read(JournalFilter(since=kept[1]["id"]), 10)] == [
        "/v1/things/21"]  # fmt: skip


def test_a_journal_entry_comes_back_whole(backend: Backend) -> None:
    """Bodies (kept beside the entry by the SQLite journal) and everything else, as sent."""
    journal = backend.journal()
    sent = _entry(
        1, request={"headers": {"Accept": "*/*"}, "body": '{"a": "\\"q\\""}'},
        response={"headers": {"X": "1"}, "body": "é…"}, problems=[{"field": "a"}],
    )  # fmt: skip
    journal.append([sent, _entry(2, request={"headers": {}}), _entry(3)], capacity=5)
    back = {e["path"]: e for e in journal.read(JournalFilter(), 10)}
    assert {k: v for k, v in back["/v1/things/1"].items() if k != "id"} == sent
    assert back["/v1/things/2"]["request"] == {"headers": {}}
    assert "request" not in back["/v1/things/3"]


def test_a_worker_hands_its_store_no_more_entries_than_the_journal_keeps(tmp_path: Path) -> None:
    """Between two flushes a busy worker answers more requests than the journal keeps: the
    older ones would only be written over, so they are never written (nor encoded)."""
    from sandbox.observe.journal import Journal

    store = SQLiteBackend(str(tmp_path / "state.sqlite"), MemoryStorage).journal()
    handed: list[int] = []
    append = store.append
    store.append = lambda entries, capacity: (handed.append(len(entries)),  # type: ignore[method-assign]
                                              append(entries, capacity))  # fmt: skip
    journal = Journal(store, capacity=3)
    for n in range(10):
        journal.record(_entry(n))
    kept = journal.entries(JournalFilter())
    assert [e["path"] for e in kept] == [f"/v1/things/{n}" for n in (9, 8, 7)]
    assert handed and max(handed) <= 3


def test_a_state_file_s_journal_from_before_the_ring_goes_on_counting(tmp_path: Path) -> None:
    """A state file whose journal was the older append-and-delete table: its ids go on from
    where that one stopped, so an open dashboard polling ``since`` sees what comes next."""
    import sqlite3

    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE request_journal (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT "
            "NULL, method TEXT NOT NULL, path TEXT NOT NULL, operation TEXT, status INTEGER NOT "
            "NULL, key TEXT, scenario TEXT, problems INTEGER NOT NULL, entry TEXT NOT NULL)"
        )
        old.execute(
            "INSERT INTO request_journal VALUES (41, 1, 'GET', '/', NULL, 200, NULL, NULL, 0, '{}')"
        )
    journal = SQLiteBackend(str(path), MemoryStorage).journal()
    journal.append([_entry(1)], capacity=10)
    assert [e["id"] for e in journal.read(JournalFilter(since=41), 10)] == [42]


def test_idempotency_claims_are_exclusive(backend: Backend) -> None:
    store = backend.idempotency()
    claim = {"keep_for": 3600.0, "abandoned_after": 60.0}
    assert store.claim("t", "k", "print-1", **claim).conflict is None  # runs
    assert store.claim("t", "k", "print-1", **claim).conflict == "in_progress"
    assert store.claim("t", "k", "print-2", **claim).conflict == "reused"
    assert store.claim("other", "k", "print-2", **claim).conflict is None  # per tenant
    kept = Kept(201, [("Location", "/v1/x/1")], b'{"id": 1}')
    store.keep("t", "k", kept)
    assert store.claim("t", "k", "print-1", **claim).kept == kept
    store.forget("t", "k")
    assert store.claim("t", "k", "print-2", **claim).conflict is None  # gone: runs again
    assert store.claim("t", "k", "print-2", keep_for=3600.0, abandoned_after=0.0).conflict is None
    store.clear()
    assert store.claim("t", "k", "print-3", **claim).conflict is None


def test_scenarios_count_their_uses_exactly_under_a_race(make_backend) -> None:
    store = make_backend().scenarios()
    store.add(StoredScenario("scn_a", "slow", {"latency": "1ms"}, None, None, 5, 1.0))
    store.add(StoredScenario("scn_b", "not_found", {}, "sk_1", "listThings", None, 2.0))
    snapshot = store.snapshot()
    assert [s.id for s in snapshot.active] == ["scn_a", "scn_b"] and snapshot.chaos is None
    assert snapshot.active[0].params == {"latency": "1ms"}
    workers = [make_backend().scenarios() for _ in range(8)]  # as eight processes would
    taken: list[bool] = []
    lock = threading.Lock()

    def race(mine) -> None:
        for _ in range(3):
            used = mine.use("scn_a")
            with lock:
                taken.append(used)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 5  # of 24 tries
    assert [s.id for s in store.snapshot().active] == ["scn_b"]  # used up: gone
    store.set_chaos('{"error_rate": 0.5}')
    assert store.snapshot().chaos == '{"error_rate": 0.5}'
    store.set_chaos(None)
    assert store.snapshot().chaos is None
    assert [store.flaky_attempt("c|k", 2) for _ in range(4)] == [True, True, False, True]
    assert store.remove("scn_b") == 1 and store.remove(None) == 0
    store.set_chaos("{}")
    store.clear()
    assert store.snapshot().active == [] and store.snapshot().chaos is None


def _grant(token: str, family: str, kind: str = "code", client: str = "app") -> Grant:
    return Grant(token, kind, client, "ada", "read", None, None, None, family)


def test_grants_redeem_once_and_a_replay_revokes_the_family(backend: Backend) -> None:
    grants = backend.grants()
    grants.add(_grant("ac_1", "fam1"), ttl=600)
    grants.add(_grant("rt_1", "fam1", kind="refresh"), ttl=600)
    grants.add(_grant("ac_2", "fam2"), ttl=600)
    assert grants.redeem("ac_1", "code", "app").family == "fam1"
    with pytest.raises(GrantRejected, match="already used"):
        grants.redeem("ac_1", "code", "app")
    with pytest.raises(GrantRejected, match="unknown, revoked"):
        grants.redeem("rt_1", "refresh", "app")  # revoked with its family
    with pytest.raises(GrantRejected, match="another client"):
        grants.redeem("ac_2", "code", "someone-else")
    with pytest.raises(GrantRejected, match="unknown"):
        grants.redeem("ac_2", "refresh", "app")  # a code is not a refresh token
    grants.add(_grant("ac_3", "fam3"), ttl=0)
    time.sleep(0.01)
    with pytest.raises(GrantRejected, match="expired"):
        grants.redeem("ac_3", "code", "app")


def test_one_signing_key_however_many_ask(make_backend) -> None:
    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return b"-----PEM-----"

    first = make_backend().signing_keys().load_or_create("RS256", make)
    second = make_backend().signing_keys().load_or_create("RS256", make)
    assert first == second and first[1] == b"-----PEM-----" and len(made) == 1
    other = make_backend().signing_keys().load_or_create("ES256", lambda: b"-----EC-----")
    assert other[1] == b"-----EC-----" and other[0] != first[0]


def test_subscriptions(backend: Backend) -> None:
    store = backend.subscriptions()
    first = Subscription("whk_1", "http://127.0.0.1:9/a", ("user.*",), "whsec_a", None,
                         created_at=1.0)  # fmt: skip
    store.add(first)
    store.add(Subscription("whk_2", "http://127.0.0.1:9/b", ("*",), "whsec_b", "stripe",
                           created_at=2.0))  # fmt: skip
    assert [s.id for s in store.all()] == ["whk_1", "whk_2"]
    assert store.get("whk_1") == first and store.get("whk_9") is None
    rotated = store.rotate("whk_1", "whsec_new", until=time.time() + 60)
    assert rotated is not None and rotated.secret == "whsec_new"
    assert rotated.signing_secrets(time.time()) == ["whsec_new", "whsec_a"]
    assert store.rotate("whk_9", "x", until=0.0) is None
    assert store.remove("whk_2") is True and store.remove("whk_2") is False


def _new(subscription: str, event: str = "evt_1") -> NewDelivery:
    return NewDelivery(event, "user.created", "t", subscription, "http://127.0.0.1:9/h",
                       "hmac-sha256-hex", ["whsec_x"], b'{"n": 1}')  # fmt: skip


def _attempt(status: int | None) -> Attempt:
    return Attempt(time.time(), {"X-Signature": "s"}, status, "ok", 1.5, "" if status else "down")


def test_the_outbox_leases_records_and_retries(make_backend) -> None:
    outbox = make_backend().outbox(ordered=False)
    ids = outbox.enqueue([_new("whk_1"), _new("whk_1", "evt_2"), _new("whk_2", "evt_3")], 3)
    assert len(ids) == 3 and outbox.counts()["pending"] == 3
    assert outbox.next_due() is not None and outbox.next_due() <= time.time()
    first = outbox.claim(2, lease_seconds=60)
    other_worker = make_backend().outbox(ordered=False)
    rest = other_worker.claim(10, lease_seconds=60)
    assert len(first) == 2 and len(rest) == 1  # leased: nobody takes the same one
    assert {d.id for d in first + rest} == set(ids)
    assert outbox.claim(10, lease_seconds=60) == []
    delivered, retried, failed = first + rest
    outbox.record(delivered, _attempt(200), retry_at=None)
    outbox.record(retried, _attempt(503), retry_at=time.time() + 3600)
    outbox.record(failed, _attempt(None), retry_at=None)
    assert outbox.counts() == {"pending": 1, "delivered": 1, "failed": 1}
    assert outbox.attempt_counts() == {"success": 1, "failure": 2}
    logged = outbox.get(retried.id)
    assert logged is not None and logged.attempts == 1 and logged.log[0]["status"] == 503
    assert [d.id for d in outbox.find(status="delivered")] == [delivered.id]
    assert [d.id for d in outbox.find(event_id="evt_3")] == [ids[2]]
    assert len(outbox.find(limit=2)) == 2
    again = outbox.redeliver(failed.id, 3)
    assert again is not None and again.status == "pending"
    assert [d.id for d in outbox.claim(10, lease_seconds=60)] == [failed.id]
    assert outbox.redeliver("dlv_missing", 3) is None
    outbox.clear()
    assert outbox.find() == [] and outbox.counts()["pending"] == 0


def test_an_ordered_outbox_hands_out_one_delivery_per_subscription(backend: Backend) -> None:
    outbox = backend.outbox(ordered=True)
    outbox.enqueue([_new("whk_1", "e1"), _new("whk_1", "e2"), _new("whk_2", "e3")], 3)
    claimed = outbox.claim(10, lease_seconds=0.01)
    assert sorted(d.event_id for d in claimed) == ["e1", "e3"]
    by_event = {d.event_id: d for d in claimed}
    outbox.record(by_event["e1"], _attempt(200), retry_at=None)
    time.sleep(0.02)  # the lease of e3 ran out: due again
    assert sorted(d.event_id for d in outbox.claim(10, lease_seconds=60)) == ["e2", "e3"]


def test_records_basics(backend: Backend) -> None:
    records = backend.records()
    records.ensure_seeded("t", lambda: {"things": [Record("s1", {"id": "s1", "n": 1})]})
    records.insert("t", "things", [Record("r1", {"id": "r1", "n": 2}, "", {"email": "a@b"})])
    assert records.get("t", "things", "r1") == {"id": "r1", "n": 2}
    assert records.query("t", "things", ListQuery(limit=10))[1] == 2
    assert records.delete("t", "things", "r1") is True
    assert records.get("t", "things", "r1") is None
    records.reset()
    records.ensure_seeded("t", lambda: {"things": []})
    assert records.query("t", "things", ListQuery(limit=10))[1] == 0


def test_a_change_and_its_events_are_one_transaction_on_sqlite(tmp_path: Path) -> None:
    """Both kept, or neither: the store and the outbox share the state file's transaction."""
    backend = SQLiteBackend(str(tmp_path / "state.sqlite"), MemoryStorage)
    records, outbox = backend.records(), backend.outbox(ordered=False)
    records.ensure_seeded("t", lambda: {"things": []})
    with pytest.raises(RuntimeError), backend.transaction():
        records.insert("t", "things", [Record("r1", {"id": "r1"})])
        outbox.enqueue([_new("whk_1")], 3)
        raise RuntimeError("the process dies before the commit")
    assert records.get("t", "things", "r1") is None and outbox.find() == []
    with backend.transaction():
        records.insert("t", "things", [Record("r1", {"id": "r1"})])
        outbox.enqueue([_new("whk_1")], 3)
    assert records.get("t", "things", "r1") is not None and len(outbox.find()) == 1


def test_what_one_worker_changes_the_next_read_of_another_sees(make_backend) -> None:
    """A worker keeps copies of rarely changed state (subscriptions, the scenario board,
    which tenants are seeded, a tenant's subscription records), read on every request: a
    change made by any other worker must show in its very next read, never a stale copy."""
    mine, other = make_backend(), make_backend()
    subscriptions, theirs = mine.subscriptions(), other.subscriptions()
    assert subscriptions.all() == []  # a copy is kept now
    theirs.add(Subscription("whk_1", "http://127.0.0.1:9/a", ("*",), "a", None, created_at=1.0))
    assert [s.secret for s in subscriptions.all()] == ["a"]
    theirs.rotate("whk_1", "b", until=0.0)
    assert [s.secret for s in subscriptions.all()] == ["b"]
    theirs.remove("whk_1")
    assert subscriptions.all() == []

    board, their_board = mine.scenarios(), other.scenarios()
    assert board.snapshot().active == []
    their_board.add(StoredScenario("scn_1", "slow", {}, None, None, 1, 1.0))
    assert [s.remaining for s in board.snapshot().active] == [1]
    assert their_board.use("scn_1")
    assert board.snapshot().active == []  # used up by the other worker
    their_board.set_chaos('{"error_rate": 1}')
    assert board.snapshot().chaos == '{"error_rate": 1}'

    records, their_records = mine.records(), other.records()
    seeded: list[str] = []

    def seed() -> dict[str, list[Record]]:
        seeded.append("once")
        return {"things": [Record("s1", {"id": "s1"})]}

    records.ensure_seeded("t", seed, "things")
    records.ensure_seeded("t", seed, "things")
    assert seeded == ["once"]
    their_records.reset()
    records.ensure_seeded("t", seed, "things")  # seeded again after the other's reset
    assert records.get("t", "things", "s1") == {"id": "s1"} and len(seeded) == 2

    schema = {"type": "object", "properties": {"url": {}, "events": {}}}
    hooks = Resource("webhooks", "webhook", "/hooks", item_schema=schema)
    listed = StoredSubscriptions(records, hooks)
    before = records.version("webhooks")
    assert listed("t") == []
    their_records.insert("t", "webhooks", [Record("w1", {"id": "w1", "url": "http://x/",
                                                         "events": ["*"]})])  # fmt: skip
    assert before is None or records.version("webhooks") != before
    assert [s.id for s in listed("t")] == ["w1"]
    their_records.delete("t", "webhooks", "w1")
    assert listed("t") == []

    # pages and records read (the SQLite store keeps their text while nothing changes)
    page = ListQuery(limit=10)
    assert [r["id"] for r in records.query("t", "things", page)[0]] == ["s1"]
    assert records.get("t", "things", "s1") == {"id": "s1"}
    their_records.insert("t", "things", [Record("s2", {"id": "s2"})])
    their_records.replace("t", "things", Record("s1", {"id": "s1", "n": 2}))
    assert [r["id"] for r in records.query("t", "things", page)[0]] == ["s1", "s2"]
    assert records.query("t", "things", page)[1] == 2
    assert records.get("t", "things", "s1") == {"id": "s1", "n": 2}
    records.query("t", "things", page)[0][0]["n"] = 99  # each read is the reader's own
    assert records.query("t", "things", page)[0][0] == {"id": "s1", "n": 2}
    their_records.delete("t", "things", "s1")
    assert records.get("t", "things", "s1") is None
    assert [r["id"] for r in records.query("t", "things", page)[0]] == ["s2"]


def test_a_write_not_yet_committed_is_shown_to_no_other_thread(tmp_path: Path) -> None:
    """A thread inside a write transaction reads its own writes; what it read is kept for
    no one, so a rolled-back record never shows, in any thread."""
    backend = SQLiteBackend(str(tmp_path / "state.sqlite"), MemoryStorage)
    records = backend.records()
    records.ensure_seeded("t", lambda: {"things": []})
    seen: list[object] = []
    with pytest.raises(RuntimeError), backend.transaction():
        records.insert("t", "things", [Record("r1", {"id": "r1"})])
        assert records.get("t", "things", "r1") == {"id": "r1"}
        assert records.query("t", "things", ListQuery())[1] == 1
        other = threading.Thread(target=lambda: seen.append(records.get("t", "things", "r1")))
        other.start()
        other.join()
        raise RuntimeError("rolled back")
    assert seen == [None]
    assert records.get("t", "things", "r1") is None
    assert records.query("t", "things", ListQuery())[1] == 0


def test_a_record_s_id_is_its_own_within_its_parent(backend: Backend) -> None:
    """(parent, id) names a record: one id under two parents is two records, each read,
    replaced, listed and deleted on its own; "" is the top level, a parent of its own. A
    unique value stays unique across the resource (no spec scopes it), and belongs to the
    record under its parent: another parent's record with the same id neither frees nor
    shares it."""
    records = backend.records()
    records.ensure_seeded("t", lambda: {"labels": []})
    records.insert("t", "labels", [Record("bug", {"id": "bug", "c": "red"}, "a")])
    records.insert("t", "labels", [Record("bug", {"id": "bug", "c": "blue"}, "b")])
    records.insert("t", "labels", [Record("bug", {"id": "bug", "c": "top"})])
    with pytest.raises(Conflict) as taken:
        records.insert("t", "labels", [Record("bug", {"id": "bug"}, "a")])
    assert taken.value.field == "id"
    assert records.get("t", "labels", "bug", "a") == {"id": "bug", "c": "red"}
    assert records.get("t", "labels", "bug", "b") == {"id": "bug", "c": "blue"}
    assert records.get("t", "labels", "bug") == {"id": "bug", "c": "top"}
    assert records.get("t", "labels", "bug", "c") is None
    assert records.replace("t", "labels", Record("bug", {"id": "bug", "c": "navy"}, "b"))
    assert not records.replace("t", "labels", Record("bug", {"id": "bug"}, "c"))
    assert records.get("t", "labels", "bug", "a") == {"id": "bug", "c": "red"}
    assert records.get("t", "labels", "bug", "b") == {"id": "bug", "c": "navy"}

    def listed(parent: str) -> list[str]:
        return [r["c"] for r in records.query("t", "labels", ListQuery(parent=parent))[0]]

    assert (listed("a"), listed("b"), listed("")) == (["red"], ["navy"], ["top"])
    assert records.delete("t", "labels", "bug", "a") is True
    assert records.delete("t", "labels", "bug", "a") is False
    assert records.get("t", "labels", "bug", "a") is None
    assert records.get("t", "labels", "bug", "b") == {"id": "bug", "c": "navy"}
    assert (listed("a"), listed("b"), listed("")) == ([], ["navy"], ["top"])

    records.insert("t", "tags", [Record("x", {"id": "x"}, "a", {"name": "n"})])
    with pytest.raises(Conflict) as value:
        records.insert("t", "tags", [Record("x", {"id": "x"}, "b", {"name": "n"})])
    assert (value.value.field, value.value.existing_id) == ("name", "x")
    records.insert("t", "tags", [Record("x", {"id": "x"}, "b", {"name": "m"})])
    with pytest.raises(Conflict):  # "n" is a's x's, not b's
        records.replace("t", "tags", Record("x", {"id": "x", "v": 2}, "b", {"name": "n"}))
    assert records.get("t", "tags", "x", "b") == {"id": "x"}
    assert records.delete("t", "tags", "x", "b")  # frees b's "m", not a's "n"
    with pytest.raises(Conflict):
        records.insert("t", "tags", [Record("y", {"id": "y"}, "c", {"name": "n"})])
    records.insert("t", "tags", [Record("y", {"id": "y"}, "c", {"name": "m"})])
    assert records.replace("t", "tags", Record("x", {"id": "x", "v": 3}, "a", {"name": "o"}))
    records.insert("t", "tags", [Record("z", {"id": "z"}, "c", {"name": "n"})])  # freed
