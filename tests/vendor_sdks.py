"""Vendors' official SDKs against their own specs served by the sandbox (issue 18).

A developer who points OpenAI's, Twilio's, Spotify's or Stripe's Python SDK at that vendor's
spec under `sandbox serve` makes a handful of ordinary calls in order: create, read back,
page through the list, update, delete, ask for an unknown id, and use the SDK's special
feature. Each scenario here is that sequence, as named calls sharing one dict of state, so
the bench (bench/vendor_sdks.py) can say which calls work today and the e2e suite
(tests/e2e/test_vendor_sdks.py) can hold the ones that do.

Every call asserts what a developer relies on (the id read back is the one created, the
values sent are kept, the auto-pager sees each stored record once, the SDK raises its own
not-found error), never what happens to be generated. SDKs are configured only through their
public options (base URL, API key, HTTP client or session), and every HTTP client here
refuses any host but the sandbox's, since a generated `next` link may point anywhere.

A call that fails leaves later calls that need its result failing too (they say which value
is missing); that is what a developer would see. A call joins the e2e suite by being listed
in its scenario's ``passing`` set, once the bench shows it passes.
"""

from __future__ import annotations

import itertools
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from tests.corpus import corpus_dir
from tests.e2e.server import start

Shared = dict[str, Any]
CallFunction = Callable[[Any, Shared], None]

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
PAGER_CAP = 300  # more items than this from one auto-pager means it does not end
JOURNAL_FLUSH = 1.3  # seconds: the sandbox's workers flush their journals once a second
TIMEOUT = 20.0  # seconds per HTTP request, so a hung answer fails one call, not the run


class ScenarioFailure(AssertionError):
    """A call got an answer a developer could not rely on."""


@dataclass(frozen=True)
class Call:
    """One step a developer takes with the SDK, named for the report and the test id."""

    name: str
    run: CallFunction


def named(prefix: str, *functions: CallFunction) -> tuple[Call, ...]:
    """Calls named after their functions less the scenario's prefix (``openai_file_upload``
    is ``file_upload``), so a name in a report or a test id finds its code."""
    return tuple(Call(function.__name__.removeprefix(prefix), function) for function in functions)


@dataclass(frozen=True)
class Scenario:
    """One SDK's ordered calls against its vendor's spec, and how to serve and connect."""

    name: str
    spec: str  # relative to the corpus folder
    serve_args: tuple[str, ...]
    key: str  # passed with --api-key, in the vendor's own key format
    connect: Callable[[str, str], Any]  # (sandbox origin, key) -> the SDK's client
    calls: tuple[Call, ...]
    passing: frozenset[str]  # the calls that pass today: the e2e suite runs these

    def __post_init__(self) -> None:
        names = [call.name for call in self.calls]
        unknown = self.passing - set(names)
        if len(set(names)) != len(names) or unknown:
            raise ValueError(f"{self.name}: duplicate call names or unknown passing {unknown}")


@dataclass
class Outcome:
    """What one call did: no error, or the error and the exchanges that led to it."""

    call: str
    error: str | None = None
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None


# --- checks -------------------------------------------------------------------------------


def check(condition: object, message: str) -> None:
    """Raise with a message a developer would understand (asserts vanish under -O)."""
    if not condition:
        raise ScenarioFailure(message)


def same(got: object, sent: object, what: str) -> None:
    check(got == sent, f"{what}: sent {sent!r}, got {got!r}")


def kept(
    got: Any, sent: dict[str, Any], what: str, read: Callable[[Any, str], Any] = getattr
) -> None:
    """Every field sent reads back unchanged from ``got`` (an SDK object, or a dict with
    ``read`` given)."""
    for name, value in sent.items():
        same(read(got, name), value, f"{what} -> {name}")


def remember(
    shared: Shared,
    name: str,
    got: Any,
    sent: dict[str, Any],
    what: str,
    id_field: str = "id",
    read: Callable[[Any, str], Any] = getattr,
) -> None:
    """A create's answer: it has an id, keeps what was sent; later calls find the id as ``name``."""
    ident = getattr(got, id_field, None)
    check(ident, f"{what} gave no {id_field}")
    kept(got, sent, what, read)
    shared[name] = ident


def needs(shared: Shared, name: str) -> Any:
    """A value an earlier call left, or a failure saying which call did not leave it."""
    if name not in shared:
        raise ScenarioFailure(f"no {name!r}: the earlier call that makes it failed")
    return shared[name]


def each_once(items: Iterable[str], wanted: Iterable[str], pager: str) -> None:
    """Walk an auto-pager to its end: every wanted id exactly once, no id twice."""
    counts = Counter(itertools.islice(items, PAGER_CAP + 1))
    check(sum(counts.values()) <= PAGER_CAP, f"{pager} did not end after {PAGER_CAP} items")
    repeated = sorted(key for key, count in counts.items() if count > 1)
    check(not repeated, f"{pager} gave the same record more than once: {repeated[:5]}")
    missing = [key for key in wanted if key not in counts]
    check(not missing, f"{pager} never gave the stored records {missing}")


def raises(
    action: Callable[[], object], error: type[Exception], fits: Callable[[Any], bool], what: str
) -> None:
    """``action`` must raise the SDK's ``error`` that ``fits`` (the not-found an app catches)."""
    try:
        action()
    except error as raised:
        check(fits(raised), f"{what}: {type(raised).__name__} of the wrong kind: {raised}")
        return
    except Exception as raised:
        raise ScenarioFailure(
            f"{what}: expected {error.__name__}, got {type(raised).__name__}: {raised}"
        ) from raised
    raise ScenarioFailure(f"{what}: expected {error.__name__}, the call succeeded")


# --- HTTP clients that reach only the sandbox ----------------------------------------------


def refuse_beyond_loopback(url: str) -> None:
    """Stop an SDK following a generated link off this machine (only 127.0.0.1 is allowed)."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ConnectionRefusedError(f"the SDK tried to leave the sandbox for {url}")


class LoopbackAdapter(HTTPAdapter):
    """A requests adapter that sends only to loopback."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        refuse_beyond_loopback(request.url or "")
        return super().send(request, *args, **kwargs)


def loopback_session() -> requests.Session:
    """A requests session for SDKs that take one (spotipy, stripe's RequestsClient)."""
    session = requests.Session()
    session.mount("http://", LoopbackAdapter())
    session.mount("https://", LoopbackAdapter())
    return session


# --- serving and running --------------------------------------------------------------------


@contextmanager
def serving(scenario: Scenario, workdir: Path) -> Iterator[str]:
    """`sandbox serve` on the scenario's spec as a real subprocess; yields its origin."""
    spec = corpus_dir() / scenario.spec
    args = ("--host", "127.0.0.1", "--state", str(workdir / "state.sqlite"), "--seed", "1")
    args += ("--api-key", scenario.key, *scenario.serve_args)
    process, origin, _log = start(workdir, *args, spec=spec, boot_seconds=90)
    try:
        yield origin
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def exchanges_between(origin: str, start: float, end: float) -> list[dict[str, Any]]:
    """The exchanges the sandbox journaled between two instants, oldest first, bodies trimmed.

    Workers flush their journal entries once a second, each on its own, so entries are picked
    by their time rather than by id, after waiting for the last flush.
    """
    time.sleep(JOURNAL_FLUSH)
    answer = requests.get(origin + "/__sandbox/requests", params={"limit": 200}, timeout=5)
    entries = [
        entry
        for entry in answer.json().get("requests", [])
        if start <= entry["at"] <= end and not entry["path"].startswith("/__sandbox")
    ]
    return [
        {
            "method": entry["method"],
            "path": entry["path"] + ("?" + entry["query"] if entry.get("query") else ""),
            "status": entry["status"],
            "operation": entry.get("operation"),
            "problems": entry.get("problems") or [],
            "request": (entry.get("request") or {}).get("body", "")[:600],
            "response": (entry.get("response") or {}).get("body", "")[:900],
        }
        for entry in sorted(entries, key=lambda entry: entry["at"])
    ]


def first_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_calls(scenario: Scenario, origin: str, journal: bool = True) -> list[Outcome]:
    """Every call of the scenario in order against a running sandbox; nothing raises."""
    client = scenario.connect(origin, scenario.key)
    shared: Shared = {}
    outcomes = []
    for call in scenario.calls:
        outcome = Outcome(call.name)
        start = time.time()
        try:
            call.run(client, shared)
        except Exception as error:
            outcome.error = first_line(error)
            if journal:
                outcome.exchanges = exchanges_between(origin, start, time.time())
        outcomes.append(outcome)
    return outcomes


def run_scenario(scenario: Scenario, journal: bool = True) -> list[Outcome]:
    """Serve the scenario's spec in a fresh folder, run every call, stop the server."""
    with (
        tempfile.TemporaryDirectory(prefix=f"sdk-{scenario.name}-") as folder,
        serving(scenario, Path(folder)) as origin,
    ):
        return run_calls(scenario, origin, journal)


# --- OpenAI ---------------------------------------------------------------------------------


def openai_client(origin: str, key: str) -> Any:
    """The documented set-up: ``base_url`` and ``api_key``; no retries, so one call is seen once."""
    import openai

    def guard(request: Any) -> None:
        refuse_beyond_loopback(str(request.url))

    http = openai.DefaultHttpxClient(event_hooks={"request": [guard]})
    return openai.OpenAI(
        api_key=key, base_url=origin + "/v1", max_retries=0, timeout=TIMEOUT, http_client=http
    )


def openai_models_list(client: Any, shared: Shared) -> None:
    models = list(itertools.islice(client.models.list(), PAGER_CAP))
    check(models, "models.list() gave no models")
    check(all(model.id for model in models), "a listed model has no id")
    shared["model"] = models[0].id


def openai_model_retrieve(client: Any, shared: Shared) -> None:
    model = needs(shared, "model")
    same(client.models.retrieve(model).id, model, "models.retrieve(id).id")


STORE = {"name": "Harness notes", "metadata": {"team": "sdk"}}


def openai_vector_store_create(client: Any, shared: Shared) -> None:
    remember(shared, "store", client.vector_stores.create(**STORE), STORE, "vector_stores.create")


def openai_vector_store_retrieve(client: Any, shared: Shared) -> None:
    ident = needs(shared, "store")
    got = client.vector_stores.retrieve(ident)
    same(got.id, ident, "vector_stores.retrieve(id).id")
    kept(got, STORE, "vector_stores.retrieve")


def openai_vector_stores_autopage(client: Any, shared: Shared) -> None:
    ident = needs(shared, "store")
    more = [client.vector_stores.create(name=f"Page {n}").id for n in (1, 2)]
    pager = (store.id for store in client.vector_stores.list(limit=2))
    each_once(pager, [ident, *more], "vector_stores.list(limit=2) auto-pager")


def openai_vector_store_update(client: Any, shared: Shared) -> None:
    ident = needs(shared, "store")
    updated = client.vector_stores.update(ident, name="Harness notes v2")
    same(updated.id, ident, "vector_stores.update(id).id")
    same(updated.name, "Harness notes v2", "vector_stores.update -> name")


def openai_vector_store_read_after_update(client: Any, shared: Shared) -> None:
    got = client.vector_stores.retrieve(needs(shared, "store"))
    same(got.name, "Harness notes v2", "name read back after update")
    same(got.metadata, STORE["metadata"], "metadata kept by the update")


def openai_vector_store_delete(client: Any, shared: Shared) -> None:
    ident = needs(shared, "store")
    deleted = client.vector_stores.delete(ident)
    same(deleted.id, ident, "vector_stores.delete(id).id")
    same(deleted.deleted, True, "vector_stores.delete -> deleted")


def openai_vector_store_gone(client: Any, shared: Shared) -> None:
    import openai

    ident = needs(shared, "store")
    raises(
        lambda: client.vector_stores.retrieve(ident),
        openai.NotFoundError,
        lambda error: error.status_code == 404,
        "retrieving a deleted vector store",
    )


UPLOAD = b'{"messages": [{"role": "user", "content": "hi"}]}\n'


def openai_file_upload(client: Any, shared: Shared) -> None:
    uploaded = client.files.create(
        file=("notes.jsonl", UPLOAD, "application/jsonl"), purpose="assistants"
    )
    check(uploaded.id, "files.create gave no id")
    same(uploaded.filename, "notes.jsonl", "files.create -> filename")
    same(uploaded.bytes, len(UPLOAD), "files.create -> bytes")
    same(uploaded.purpose, "assistants", "files.create -> purpose")
    shared["file"] = uploaded.id


def openai_file_retrieve(client: Any, shared: Shared) -> None:
    ident = needs(shared, "file")
    got = client.files.retrieve(ident)
    same(got.id, ident, "files.retrieve(id).id")
    same(got.filename, "notes.jsonl", "files.retrieve -> filename")


def openai_files_autopage(client: Any, shared: Shared) -> None:
    ident = needs(shared, "file")
    each_once((f.id for f in client.files.list(limit=2)), [ident], "files.list auto-pager")


def openai_file_delete(client: Any, shared: Shared) -> None:
    ident = needs(shared, "file")
    deleted = client.files.delete(ident)
    same(deleted.id, ident, "files.delete(id).id")
    same(deleted.deleted, True, "files.delete -> deleted")


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}


def openai_chat_completion(client: Any, shared: Shared) -> None:
    completion = client.chat.completions.create(**CHAT)
    same(completion.object, "chat.completion", "chat.completions.create -> object")
    check(completion.choices, "chat.completions.create gave no choices")
    same(completion.choices[0].message.role, "assistant", "choices[0].message.role")


def openai_chat_stream(client: Any, shared: Shared) -> None:
    chunks = list(itertools.islice(client.chat.completions.create(**CHAT, stream=True), 500))
    check(chunks, "the stream gave no chunks")
    kinds = {chunk.object for chunk in chunks}
    same(kinds, {"chat.completion.chunk"}, "every streamed chunk's object")


OPENAI = Scenario(
    name="openai",
    spec="real/openai.yaml",
    serve_args=("--lenient",),
    key="sk-sandbox-harness-0123456789",
    connect=openai_client,
    calls=named(
        "openai_",
        openai_models_list,
        openai_model_retrieve,
        openai_vector_store_create,
        openai_vector_store_retrieve,
        openai_vector_stores_autopage,
        openai_vector_store_update,
        openai_vector_store_read_after_update,
        openai_vector_store_delete,
        openai_vector_store_gone,
        openai_file_upload,
        openai_file_retrieve,
        openai_files_autopage,
        openai_file_delete,
        openai_chat_completion,
        openai_chat_stream,
    ),
    passing=frozenset(
        {
            "models_list",
            "model_retrieve",
            "vector_store_create",
            "vector_store_retrieve",
            "vector_stores_autopage",
            "vector_store_update",
            "vector_store_read_after_update",
            "vector_store_delete",
            "vector_store_gone",
            "file_upload",
            "file_retrieve",
            "files_autopage",
            "file_delete",
            "chat_completion",
            "chat_stream",
        }
    ),
)


# --- Twilio ---------------------------------------------------------------------------------

TWILIO_SID = "AC" + "0123456789abcdef" * 2  # an account SID in Twilio's format
TWILIO_HOST = "https://api.twilio.com"


def twilio_client(origin: str, key: str) -> Any:
    """Twilio's documented custom-HTTP-client hook sends api.twilio.com to the sandbox.

    The SDK has no base-URL option; its docs show subclassing ``HttpClient`` for proxies and
    the like. The account SID is the Basic user name, the sandbox's key the auth token.
    """
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    class SandboxHttpClient(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            check(url.startswith(TWILIO_HOST + "/"), f"twilio asked for {url}")
            return super().request(method, origin + url[len(TWILIO_HOST) :], *args, **kwargs)

    http = SandboxHttpClient(timeout=TIMEOUT, max_retries=0)
    return Client(TWILIO_SID, key, TWILIO_SID, http_client=http)


def twilio_not_found(error: Any) -> bool:
    return bool(error.status == 404)


MESSAGE = {"to": "+15558675310", "from_": "+15017122661", "body": "Hello from the harness"}


def twilio_account_fetch(client: Any, shared: Shared) -> None:
    same(client.api.v2010.accounts(TWILIO_SID).fetch().sid, TWILIO_SID, "accounts(sid).fetch().sid")


def twilio_message_create(client: Any, shared: Shared) -> None:
    message = client.messages.create(**MESSAGE)
    remember(shared, "message", message, MESSAGE, "messages.create", id_field="sid")


def twilio_message_fetch(client: Any, shared: Shared) -> None:
    sid = needs(shared, "message")
    message = client.messages(sid).fetch()
    same(message.sid, sid, "messages(sid).fetch().sid")
    same(message.body, MESSAGE["body"], "messages(sid).fetch().body")
    same(message.to, MESSAGE["to"], "messages(sid).fetch().to")


def twilio_messages_autopage(client: Any, shared: Shared) -> None:
    sid = needs(shared, "message")
    more = [client.messages.create(**MESSAGE).sid for _ in range(2)]
    shared["messages"] = [sid, *more]
    pager = (m.sid for m in client.messages.stream(page_size=2, limit=PAGER_CAP + 1))
    each_once(pager, [sid, *more], "messages.stream(page_size=2)")


def twilio_messages_page_size(client: Any, shared: Shared) -> None:
    needs(shared, "messages")  # at least three stored
    page = client.messages.page(page_size=2)
    same(len(list(page)), 2, "records on messages.page(page_size=2)")
    check(page.next_page() is not None, "messages.page(page_size=2) has no next page")


def twilio_message_update(client: Any, shared: Shared) -> None:
    sid = needs(shared, "message")
    message = client.messages(sid).update(body="")  # redaction: the update Twilio allows
    same(message.sid, sid, "messages(sid).update().sid")
    same(message.body, "", "messages(sid).update(body='') -> body")


def twilio_message_read_after_update(client: Any, shared: Shared) -> None:
    same(client.messages(needs(shared, "message")).fetch().body, "", "body read back")


def twilio_message_delete(client: Any, shared: Shared) -> None:
    same(client.messages(needs(shared, "message")).delete(), True, "messages(sid).delete()")


def twilio_message_gone(client: Any, shared: Shared) -> None:
    from twilio.base.exceptions import TwilioRestException

    sid = needs(shared, "message")
    raises(
        lambda: client.messages(sid).fetch(),
        TwilioRestException,
        twilio_not_found,
        "fetching a deleted message",
    )


NUMBER = {"phone_number": "+15005550006", "friendly_name": "Harness line"}


def twilio_number_create(client: Any, shared: Shared) -> None:
    number = client.incoming_phone_numbers.create(**NUMBER)
    remember(shared, "number", number, NUMBER, "incoming_phone_numbers.create", id_field="sid")


def twilio_number_update(client: Any, shared: Shared) -> None:
    sid = needs(shared, "number")
    number = client.incoming_phone_numbers(sid).update(friendly_name="Harness line 2")
    same(number.sid, sid, "incoming_phone_numbers(sid).update().sid")
    same(number.friendly_name, "Harness line 2", "update -> friendly_name")


def twilio_number_fetch(client: Any, shared: Shared) -> None:
    sid = needs(shared, "number")
    number = client.incoming_phone_numbers(sid).fetch()
    same(number.sid, sid, "incoming_phone_numbers(sid).fetch().sid")
    same(number.friendly_name, "Harness line 2", "friendly_name read back after update")
    same(number.phone_number, NUMBER["phone_number"], "phone_number read back")


def twilio_number_delete(client: Any, shared: Shared) -> None:
    sid = needs(shared, "number")
    same(client.incoming_phone_numbers(sid).delete(), True, "incoming_phone_numbers.delete()")


TWILIO = Scenario(
    name="twilio",
    spec="real/twilio_api_v2010.yaml",
    serve_args=(),
    key="0123456789abcdef0123456789abcdef",  # an auth token in Twilio's format
    connect=twilio_client,
    calls=named(
        "twilio_",
        twilio_account_fetch,
        twilio_message_create,
        twilio_message_fetch,
        twilio_messages_autopage,
        twilio_messages_page_size,
        twilio_message_update,
        twilio_message_read_after_update,
        twilio_message_delete,
        twilio_message_gone,
        twilio_number_create,
        twilio_number_update,
        twilio_number_fetch,
        twilio_number_delete,
    ),
    passing=frozenset(
        {
            "account_fetch",
            "message_create",
            "message_fetch",
            "messages_autopage",
            "messages_page_size",
            "message_update",
            "message_read_after_update",
            "message_delete",
            "message_gone",
            "number_create",
            "number_update",
            "number_fetch",
            "number_delete",
        }
    ),
)


# --- Spotify --------------------------------------------------------------------------------

TRACKS = ["spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "spotify:track:1301WleyT98MSxVHPZCA6M"]


def spotify_client(origin: str, key: str) -> Any:
    """An access token as ``auth``; spotipy's public ``prefix`` attribute is its base URL.

    Retries are off (``retries``, ``status_retries``) so each call is one exchange.
    """
    import spotipy

    client = spotipy.Spotify(
        auth=key,
        requests_session=loopback_session(),
        requests_timeout=TIMEOUT,
        retries=0,
        status_retries=0,
    )
    client.prefix = origin + "/v1/"
    return client


def spotify_walk(client: Any, page: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a paging object, following ``next`` the way spotipy's ``next()`` does."""
    for _ in range(PAGER_CAP):
        yield from page["items"]
        if not page.get("next"):
            return
        page = client.next(page)


def spotify_me(client: Any, shared: Shared) -> None:
    me = client.me()
    check(me.get("id"), "me() has no id")
    shared["user"] = me["id"]


def spotify_playlist_create(client: Any, shared: Shared) -> None:
    playlist = client.current_user_playlist_create(
        "Harness mix", public=False, description="Made by the SDK harness"
    )
    check(playlist.get("id"), "current_user_playlist_create gave no id")
    same(playlist.get("name"), "Harness mix", "created playlist's name")
    same(playlist.get("description"), "Made by the SDK harness", "created playlist's description")
    shared["playlist"] = playlist["id"]


def spotify_playlist_read(client: Any, shared: Shared) -> None:
    ident = needs(shared, "playlist")
    playlist = client.playlist(ident)
    same(playlist.get("id"), ident, "playlist(id)['id']")
    same(playlist.get("name"), "Harness mix", "playlist(id)['name']")


def spotify_playlist_update(client: Any, shared: Shared) -> None:
    ident = needs(shared, "playlist")
    client.playlist_change_details(ident, name="Harness mix v2", description="Renamed")


def spotify_playlist_read_after_update(client: Any, shared: Shared) -> None:
    playlist = client.playlist(needs(shared, "playlist"))
    same(playlist.get("name"), "Harness mix v2", "name read back after the update")
    same(playlist.get("description"), "Renamed", "description read back after the update")


def spotify_playlist_add_items(client: Any, shared: Shared) -> None:
    added = client.playlist_add_items(needs(shared, "playlist"), TRACKS)
    check(isinstance(added.get("snapshot_id"), str), f"no snapshot_id in {added}")


def spotify_track_uris(client: Any, playlist: str) -> list[str | None]:
    """The playlist's track URIs, paged one at a time so paging is exercised too."""
    items = spotify_walk(client, client.playlist_items(playlist, limit=1))
    return [(item.get("track") or {}).get("uri") for item in items]


def spotify_playlist_items(client: Any, shared: Shared) -> None:
    uris = spotify_track_uris(client, needs(shared, "playlist"))
    same(uris, TRACKS, "the playlist's tracks, paged one at a time")


def spotify_my_playlists_autopage(client: Any, shared: Shared) -> None:
    ident = needs(shared, "playlist")
    more = [client.current_user_playlist_create(f"Page {n}")["id"] for n in (1, 2)]
    pager = (p["id"] for p in spotify_walk(client, client.current_user_playlists(limit=2)))
    each_once(pager, [ident, *more], "current_user_playlists(limit=2) with next()")


def spotify_playlist_remove_items(client: Any, shared: Shared) -> None:
    ident = needs(shared, "playlist")
    client.playlist_remove_all_occurrences_of_items(ident, TRACKS[:1])
    uris = spotify_track_uris(client, ident)
    same(uris, TRACKS[1:], "the playlist's tracks after removing the first")


def spotify_playlist_unfollow(client: Any, shared: Shared) -> None:
    client.current_user_unfollow_playlist(needs(shared, "playlist"))


def spotify_playlist_unknown(client: Any, shared: Shared) -> None:
    import spotipy

    raises(
        lambda: client.playlist("0000000000000000000000"),
        spotipy.SpotifyException,
        lambda error: error.http_status == 404,
        "reading a playlist that does not exist",
    )


def spotify_track_echo(client: Any, shared: Shared) -> None:
    track = "4iV5W9uYEdYUVa79Axb7Rh"
    same(client.track(track).get("id"), track, "track(id)['id']")


def spotify_search(client: Any, shared: Shared) -> None:
    found = client.search(q="harness", type="track", limit=2)
    items = (found.get("tracks") or {}).get("items")
    check(isinstance(items, list) and len(items) <= 2, f"search(limit=2) tracks.items: {items}")


SPOTIFY = Scenario(
    name="spotify",
    spec="real/spotify.yaml",
    serve_args=(),
    key="BQD-sandbox-harness-access-token",
    connect=spotify_client,
    calls=named(
        "spotify_",
        spotify_me,
        spotify_playlist_create,
        spotify_playlist_read,
        spotify_playlist_update,
        spotify_playlist_read_after_update,
        spotify_playlist_add_items,
        spotify_playlist_items,
        spotify_my_playlists_autopage,
        spotify_playlist_remove_items,
        spotify_playlist_unfollow,
        spotify_playlist_unknown,
        spotify_track_echo,
        spotify_search,
    ),
    passing=frozenset(
        {
            "me",
            "playlist_create",
            "playlist_read",
            "playlist_read_after_update",
            "playlist_add_items",
            "playlist_items",
            "my_playlists_autopage",
            "playlist_remove_items",
            "playlist_unknown",
            "playlist_update",
            "playlist_unfollow",
            "track_echo",
            "search",
        }
    ),
)


# --- Stripe ---------------------------------------------------------------------------------


def stripe_client(origin: str, key: str) -> Any:
    """``base_addresses`` is Stripe's documented way to reach stripe-mock or a proxy."""
    import stripe

    http = stripe.RequestsClient(session=loopback_session(), timeout=TIMEOUT)
    addresses = {"api": origin, "files": origin, "connect": origin, "meter_events": origin}
    return stripe.StripeClient(
        key, base_addresses=addresses, max_network_retries=0, http_client=http
    )


def plain(value: Any) -> Any:
    """A Stripe object as the plain dict a developer would compare."""
    return value.to_dict() if hasattr(value, "to_dict") else value


def stripe_field(got: Any, name: str) -> Any:
    return plain(got[name])


CUSTOMER = {"email": "ada@example.com", "name": "Ada Lovelace", "metadata": {"plan": "gold"}}


def stripe_customer_create(client: Any, shared: Shared) -> None:
    customer = client.v1.customers.create(params=CUSTOMER)
    same(customer.object, "customer", "customers.create -> object")
    remember(shared, "customer", customer, CUSTOMER, "customers.create", read=stripe_field)


def stripe_customer_retrieve(client: Any, shared: Shared) -> None:
    ident = needs(shared, "customer")
    customer = client.v1.customers.retrieve(ident)
    same(customer.id, ident, "customers.retrieve(id).id")
    kept(customer, CUSTOMER, "customers.retrieve", read=stripe_field)


def stripe_customer_expand(client: Any, shared: Shared) -> None:
    ident = needs(shared, "customer")
    expand = ["default_source", "invoice_settings.default_payment_method"]
    customer = client.v1.customers.retrieve(ident, params={"expand": expand})
    same(customer.id, ident, "customers.retrieve(id, expand=[...]).id")


def stripe_customer_update(client: Any, shared: Shared) -> None:
    ident = needs(shared, "customer")
    update = {"name": "Ada King", "metadata": {"tier": "2"}}
    customer = client.v1.customers.update(ident, params=update)
    same(customer.id, ident, "customers.update(id).id")
    same(customer.name, "Ada King", "customers.update -> name")


def stripe_customer_read_after_update(client: Any, shared: Shared) -> None:
    customer = client.v1.customers.retrieve(needs(shared, "customer"))
    same(customer.name, "Ada King", "name read back after the update")
    same(customer.email, CUSTOMER["email"], "email kept by the update")
    same(plain(customer.metadata), {"plan": "gold", "tier": "2"}, "metadata merged by the update")


def stripe_customers_auto_paging_iter(client: Any, shared: Shared) -> None:
    ident = needs(shared, "customer")
    more = [client.v1.customers.create(params={"name": f"Page {n}"}).id for n in (1, 2)]
    listed = client.v1.customers.list(params={"limit": 2})
    pager = (customer.id for customer in listed.auto_paging_iter())
    each_once(pager, [ident, *more], "customers.list(limit=2).auto_paging_iter()")


PRICE = {
    "currency": "usd",
    "unit_amount": 1200,
    "recurring": {"interval": "month"},
    "product_data": {"name": "Gold plan"},
}


def stripe_price_nested_params(client: Any, shared: Shared) -> None:
    price = client.v1.prices.create(params=PRICE)
    check(price.id, "prices.create gave no id")
    same(price.unit_amount, 1200, "prices.create -> unit_amount")
    same(price.recurring.interval, "month", "prices.create -> recurring.interval")
    shared["price"] = price.id


def stripe_price_expand_product(client: Any, shared: Shared) -> None:
    ident = needs(shared, "price")
    price = client.v1.prices.retrieve(ident, params={"expand": ["product"]})
    same(price.id, ident, "prices.retrieve(id).id")
    same(getattr(price.product, "object", None), "product", "expand=['product'] -> product")


def stripe_payment_intent_arrays(client: Any, shared: Shared) -> None:
    sent = {"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
    intent = client.v1.payment_intents.create(params=sent)
    same(intent.amount, 2000, "payment_intents.create -> amount")
    same(list(intent.payment_method_types), ["card"], "payment_intents.create -> types")


def stripe_customer_delete(client: Any, shared: Shared) -> None:
    ident = needs(shared, "customer")
    deleted = client.v1.customers.delete(ident)
    same(deleted.id, ident, "customers.delete(id).id")
    same(deleted.deleted, True, "customers.delete -> deleted")


def stripe_not_found(error: Any) -> bool:
    return bool(error.http_status == 404)


def stripe_customer_gone(client: Any, shared: Shared) -> None:
    import stripe

    ident = needs(shared, "customer")
    raises(
        lambda: client.v1.customers.retrieve(ident),
        stripe.InvalidRequestError,
        stripe_not_found,
        "retrieving a deleted customer",
    )


STRIPE_KEY = "sk_test_sandboxharness0123456789"
# Stripe's spec shows no example ids, so the prefixes its SDK users expect are a setting
STRIPE_PREFIXES = ("--id-prefix", "customers=cus_", "--id-prefix", "charges=ch_")

STRIPE = Scenario(
    name="stripe",
    spec="real/stripe_spec3.json",
    serve_args=STRIPE_PREFIXES,
    key=STRIPE_KEY,
    connect=stripe_client,
    calls=named(
        "stripe_",
        stripe_customer_create,
        stripe_customer_retrieve,
        stripe_customer_expand,
        stripe_customer_update,
        stripe_customer_read_after_update,
        stripe_customers_auto_paging_iter,
        stripe_price_nested_params,
        stripe_price_expand_product,
        stripe_payment_intent_arrays,
        stripe_customer_delete,
        stripe_customer_gone,
    ),
    passing=frozenset(
        {
            "customer_create",
            "customer_retrieve",
            "customer_expand",
            "customer_update",
            "customer_read_after_update",
            "customers_auto_paging_iter",
            "price_nested_params",
            "price_expand_product",
            "payment_intent_arrays",
            "customer_delete",
            "customer_gone",
        }
    ),
)


# --- Stripe against --stateless, as teams use stripe-mock ----------------------------------


def stateless_retrieve_echoes_id(client: Any, shared: Shared) -> None:
    same(client.v1.customers.retrieve("cus_123").id, "cus_123", "customers.retrieve('cus_123').id")


def stateless_delete_answers_deleted(client: Any, shared: Shared) -> None:
    deleted = client.v1.customers.delete("cus_123")
    same(deleted.id, "cus_123", "customers.delete('cus_123').id")
    same(deleted.deleted, True, "customers.delete('cus_123').deleted")


def stateless_update_echoes_id(client: Any, shared: Shared) -> None:
    updated = client.v1.customers.update("cus_123", params={"metadata": {"k": "v"}})
    same(updated.id, "cus_123", "customers.update('cus_123').id")


def stateless_create_answers_customer(client: Any, shared: Shared) -> None:
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    same(customer.object, "customer", "customers.create -> object")
    check(str(customer.id).startswith("cus_"), f"customers.create -> id {customer.id!r}")


def stateless_list_is_a_list(client: Any, shared: Shared) -> None:
    listed = client.v1.customers.list(params={"limit": 3})
    same(listed.object, "list", "customers.list -> object")
    check(len(listed.data) <= 3, f"customers.list(limit=3) gave {len(listed.data)}")
    same({c.object for c in listed.data} - {"customer"}, set(), "listed objects' kind")


def stateless_charge_echoes_id(client: Any, shared: Shared) -> None:
    same(client.v1.charges.retrieve("ch_123").id, "ch_123", "charges.retrieve('ch_123').id")


STRIPE_STATELESS = Scenario(
    name="stripe-stateless",
    spec="real/stripe_spec3.json",
    serve_args=("--stateless", *STRIPE_PREFIXES),
    key=STRIPE_KEY,
    connect=stripe_client,
    calls=named(
        "stateless_",
        stateless_retrieve_echoes_id,
        stateless_delete_answers_deleted,
        stateless_update_echoes_id,
        stateless_create_answers_customer,
        stateless_list_is_a_list,
        stateless_charge_echoes_id,
    ),
    passing=frozenset(
        {
            "retrieve_echoes_id",
            "delete_answers_deleted",
            "update_echoes_id",
            "create_answers_customer",
            "list_is_a_list",
            "charge_echoes_id",
        }
    ),
)

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario for scenario in (OPENAI, TWILIO, SPOTIFY, STRIPE, STRIPE_STATELESS)
}
