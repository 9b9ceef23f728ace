"""Server-Sent Events where an operation declares text/event-stream and the client asks for
a stream (sandbox.http.streaming, issue 18 item 6)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sandbox.app.wsgi import create_app
from sandbox.config.settings import load_settings
from sandbox.http import streaming
from tests.spec_helpers import served_text

SPEC = """\
openapi: 3.1.0
info: {title: Chat, version: "1"}
paths:
  /completions:
    post:
      operationId: complete
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                prompt: {type: string}
                stream:
                  type: boolean
                  description: "Stream tokens as server-sent events, ended by `data: [DONE]`."
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/CompletionResponse"}
            text/event-stream:
              schema: {$ref: "#/components/schemas/Chunk"}
  /speech:
    post:
      operationId: speak
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/SpeechResponse"}
            text/event-stream: {}
  /runs:
    post:
      operationId: run
      responses:
        "200":
          description: ok
          content:
            text/event-stream:
              schema:
                oneOf:
                  - type: object
                    required: [event, data]
                    properties:
                      event: {const: run.created}
                      data: {type: object, required: [id], properties: {id: {type: string}}}
components:
  schemas:
    CompletionResponse:
      type: object
      required: [object]
      properties: {object: {const: completion}}
    Chunk:
      type: object
      required: [object, delta]
      properties: {object: {const: completion.chunk}, delta: {type: string}}
    SpeechResponse:
      type: object
      required: [object]
      properties: {object: {const: speech}}
    SpeechStreamEvent:
      type: object
      required: [object]
      properties: {object: {const: speech.delta}}
"""


@pytest.fixture
def client(tmp_path: Path) -> Any:
    return served_text(tmp_path, textwrap.dedent(SPEC), "chat.yaml", auth=False)[0]


def events(response: Any) -> list[dict[str, str]]:
    """The SSE events of a body: each one's fields (``data`` lines joined)."""
    found = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = fields[name] + "\n" + value if name in fields else value
        if fields:
            found.append(fields)
    return found


def test_stream_true_in_the_body_answers_events_of_the_stream_schema(client: Any) -> None:
    response = client.post(
        "/completions", json={"prompt": "hi", "stream": True},
        headers={"Accept": "application/json"},  # what OpenAI's SDK sends for a stream too
    )  # fmt: skip
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    got = events(response)
    assert len(got) > 2
    assert got[-1] == {"data": "[DONE]"}  # the request's stream field says it ends so
    chunks = [json.loads(event["data"]) for event in got[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"completion.chunk"}


def test_without_stream_the_answer_is_json(client: Any) -> None:
    response = client.post("/completions", json={"prompt": "hi"})
    assert response.mimetype == "application/json"
    assert response.json["object"] == "completion"


def test_accept_asks_for_the_stream_and_a_schemaless_stream_uses_the_chunk_component(
    client: Any,
) -> None:
    response = client.post("/speech", headers={"Accept": "text/event-stream"})
    assert response.mimetype == "text/event-stream"
    got = events(response)
    assert got and all(json.loads(e["data"])["object"] == "speech.delta" for e in got)
    assert {"data": "[DONE]"} not in got  # nothing in this spec says so


def test_event_and_data_properties_are_sse_fields(client: Any) -> None:
    got = events(client.post("/runs"))
    assert got and all(e["event"] == "run.created" and json.loads(e["data"])["id"] for e in got)


STORED = """\
openapi: 3.1.0
info: {title: Stored chats, version: "1"}
paths:
  /chats:
    post:
      operationId: createChat
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {prompt: {type: string}, stream: {type: boolean}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Chat"}
            text/event-stream:
              schema: {$ref: "#/components/schemas/ChatChunk"}
  /chats/{id}:
    get:
      operationId: getChat
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Chat"}
components:
  schemas:
    Chat:
      type: object
      required: [id, object, prompt]
      properties:
        id: {type: string}
        object: {const: chat}
        prompt: {type: string}
    ChatChunk:
      type: object
      required: [id, object]
      properties: {id: {type: string}, object: {const: chat.chunk}}
"""


def test_a_stored_create_streams_chunks_that_carry_the_records_id(tmp_path: Path) -> None:
    path = tmp_path / "stored.yaml"
    path.write_text(textwrap.dedent(STORED))
    settings = load_settings(path, overrides={"state": ":memory:", "auth": False})
    client = create_app(settings=settings).test_client()
    response = client.post("/chats", json={"prompt": "hi", "stream": True})
    chunks = [json.loads(event["data"]) for event in events(response)]
    assert {chunk["object"] for chunk in chunks} == {"chat.chunk"}
    (ident,) = {chunk["id"] for chunk in chunks}
    assert client.get(f"/chats/{ident}").json["prompt"] == "hi"


CHUNKS = """\
openapi: 3.0.3
info: {title: Chunks, version: "1"}
paths:
  /chat:
    post:
      operationId: chat
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [stream]
              properties: {stream: {type: boolean, enum: [true]}}
            example: {stream: true}
      responses:
        "200":
          description: "ok; with stream: true, chunks ended by data: [DONE]"
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Chunk"}
            text/event-stream:
              schema: {$ref: "#/components/schemas/Chunk"}
components:
  schemas:
    Chunk:
      type: object
      required: [id, object]
      properties: {id: {type: string}, object: {type: string, enum: [chat.chunk]}}
"""


def schemathesis_on(live: Any, tmp_path: Path) -> str:
    st = Path(sys.executable).parent / "st"
    command = [
        str(st), "run", live.origin + "/docs/openapi.json", "--url", live.base_url,
        "--checks", "response_schema_conformance,content_type_conformance",
        "--phases", "examples", "--no-color",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    return done.stdout + done.stderr


def test_schemathesis_checks_each_events_data_against_the_vendors_event_schema(
    live_server_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before OpenAPI 3.2 a stream's schema is each event's JSON data (OpenAI, DigitalOcean),
    while Schemathesis reads it as the SSE event (its data, event, id and retry fields): the
    served document says which, so the chunks are checked, and pass."""
    path = tmp_path / "chunks.yaml"
    path.write_text(CHUNKS)
    live = live_server_factory(path, auth=False)
    output = schemathesis_on(live, tmp_path)
    assert "1 passed" in output and "failed" not in output, output[-3000:]

    monkeypatch.setattr(streaming, "_frame", lambda value: 'data: {"object": "other"}\n\n')
    output = schemathesis_on(live, tmp_path)
    assert "ST108 SSE event violates schema" in output, output[-3000:]


def test_the_served_document_describes_streams_before_3_2_only() -> None:
    chunk = {"$ref": "#/components/schemas/Chunk"}
    document = {
        "openapi": "3.1.0",
        "paths": {"/c": {"post": {"responses": {"200": {"content": {
            "application/json": {"schema": chunk},
            "text/event-stream": {"schema": chunk},
        }}}}}},
    }  # fmt: skip
    served = streaming.described_streams(document)
    content = served["paths"]["/c"]["post"]["responses"]["200"]["content"]
    data = content["text/event-stream"]["schema"]["properties"]["data"]
    assert {"type": "string", "enum": ["[DONE]"]} in data["anyOf"]
    assert {"type": "string", "contentMediaType": "application/json", "contentSchema": chunk} in (
        data["anyOf"]
    )
    assert (
        content["application/json"]
        is document["paths"]["/c"]["post"]["responses"]["200"]["content"]["application/json"]
    )
    assert document["paths"]["/c"]["post"]["responses"]["200"]["content"]["text/event-stream"] == {
        "schema": chunk
    }  # not modified
    later = streaming.described_streams({**document, "openapi": "3.2.0"})
    assert later["paths"] is document["paths"]  # 3.2 says what a stream's schema means
