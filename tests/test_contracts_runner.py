"""The contract runner's own promises, on the planted-violation corpus served for real:
our checks never shorten Schemathesis's exploration, and two runs in one process keep
their findings apart."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from contracts.runner import RunOptions, run
from contracts.setup import json_document
from contracts.spec_gaps import conflict_as_declared
from sandbox.observe.journal import _FLUSH_EVERY
from sandbox.spec.model import load_spec
from tests.contract_corpus import SPEC_PATH, TOKEN, make_app
from tests.test_vendor_resources import ATTACHED


def test_failing_checks_of_ours_leave_schemathesis_coverage_as_it_was() -> None:
    """`remaining_above_limit` fails our rate-limit check on every answer: Schemathesis's
    coverage phase must still send exactly what it sends with our checks off, the probes of
    undeclared methods included."""
    options = {"bearer": TOKEN, "max_examples": 5, "seed": 3, "phases": ("coverage",)}
    ours = run(RunOptions(SPEC_PATH, app=make_app("remaining_above_limit"), **options))
    theirs = run(RunOptions(SPEC_PATH, app=make_app("remaining_above_limit"),
                            our_checks=False, **options))  # fmt: skip
    assert any(f.check == "rate_limit_headers" for f in ours.failures)
    assert not any(f.check == "rate_limit_headers" for f in theirs.failures)
    assert ours.requests["coverage"] == theirs.requests["coverage"] > 200
    assert ours.probes == theirs.probes and sum(ours.probes.values()) >= 6


def test_two_runs_in_one_process_keep_their_findings_apart() -> None:
    """Each run's checks find that run's state; nothing is shared through a global."""
    reports = {}

    def one(variant: str) -> None:
        reports[variant] = run(RunOptions(SPEC_PATH, app=make_app(variant), bearer=TOKEN,
                                          max_examples=5, seed=1,
                                          phases=("coverage", "fuzzing")))  # fmt: skip

    threads = [threading.Thread(target=one, args=(v,)) for v in ("correct", "page_not_echoed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert reports["correct"].failures == [], [f.fingerprint for f in reports["correct"].failures]
    broken = reports["page_not_echoed"].failures
    assert broken and {f.check for f in broken} == {"pagination"}


def test_a_yaml_date_in_the_spec_reaches_schemathesis_as_json_would_have_it() -> None:
    """``example: 1981-12-15`` is a date to YAML; to JSON (and so to every validator) it can
    only be the string."""
    import datetime

    document = {"a": [datetime.date(1981, 12, 15)], "b": {"c": datetime.datetime(2020, 1, 2)}}
    assert json_document(document) == {"a": ["1981-12-15"], "b": {"c": "2020-01-02T00:00:00"}}


NULLABLE_31 = """\
openapi: 3.1.0
info: {title: Notes, version: "1"}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [text, tags]
              properties:
                text: {type: string, maxLength: 20}
                tags: {type: object, nullable: true, additionalProperties: {type: string}}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {type: object, properties: {text: {type: string}}}
        "400": {description: refused}
"""


def test_a_refused_body_the_specs_own_schema_refuses_is_said_to_be_the_specs(tmp_path) -> None:
    """OpenAPI 3.1 has no ``nullable``: ``type: object`` refuses null whatever it says
    (OpenAI's ``logit_bias``). Schemathesis sends null as valid; the sandbox, keeping to the
    schema, refuses it; the finding says the refusal is the spec's word."""
    refused = found(tmp_path, NULLABLE_31, "positive_data_acceptance", "examples", "coverage")
    assert all("The spec's own" in f.message and "tags" in f.message for f in refused), [
        f.message for f in refused
    ]


FORM_ARRAY = """\
openapi: 3.0.3
info: {title: Domains, version: "1"}
paths:
  /domains:
    post:
      operationId: createDomain
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            encoding:
              expand: {style: deepObject, explode: true}
            schema:
              type: object
              additionalProperties: false
              properties:
                expand: {type: array, items: {type: string, maxLength: 5}}
      responses:
        "200":
          description: made
          content:
            application/json:
              schema: {type: object, properties: {id: {type: string}}}
        "400": {description: refused}
"""


def test_an_invalid_form_that_reads_back_as_a_valid_one_is_not_the_servers(tmp_path) -> None:
    """Made invalid as ``{"expand": "AAA"}``, a form says ``expand=AAA``: also the one-item
    array the schema asks for (Stripe's ``expand``). Accepting it is all a server can do; the
    finding says so."""
    accepted = found(tmp_path, FORM_ARRAY, "negative_data_rejection", "coverage")
    assert all("Not the server's to refuse" in f.message for f in accepted), [
        f.message for f in accepted
    ]


FREE_FORM_QUERY = """\
openapi: 3.1.0
info: {title: Completions, version: "1"}
paths:
  /completions:
    get:
      operationId: listCompletions
      parameters:
        - name: metadata
          in: query
          schema:
            anyOf:
              - {type: object, additionalProperties: {type: string}}
              - {type: "null"}
      responses:
        "200":
          description: listed
          content:
            application/json:
              schema: {type: object, properties: {data: {type: array}}}
        "400": {description: refused}
"""


def test_an_invalid_query_object_that_reads_as_a_valid_one_is_not_the_servers(tmp_path) -> None:
    """An exploded ``form`` object of free-form strings takes every ``name=value`` pair as a
    field: ``metadata=0``, meant as the integer 0, is the object ``{"metadata": "0"}``, and any
    other pair is a valid object too (OpenAI's ``metadata`` filter on ``GET
    /chat/completions``). Accepting it is all a server can do; the finding says so."""
    accepted = found(tmp_path, FREE_FORM_QUERY, "negative_data_rejection", "coverage")
    assert all("Not the server's to refuse" in f.message for f in accepted), [
        f.message for f in accepted
    ]


DEEP_ARRAY = """\
openapi: 3.0.3
info: {title: Previews, version: "1"}
paths:
  /preview:
    get:
      operationId: preview
      parameters:
        - name: lines
          in: query
          required: true
          style: deepObject
          explode: true
          schema:
            type: array
            items:
              type: object
              required: [amount]
              properties: {amount: {type: integer}, memo: {type: string}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object}}}
        "400": {description: refused}
"""


def test_a_refusal_of_a_serialization_openapi_does_not_define_is_said_to_be_the_specs(
    tmp_path: Path,
) -> None:
    """deepObject is defined for objects; on an array (Stripe's ``lines``) Schemathesis sends
    ``lines=amount&lines=memo``, which no schema reading can make the array it meant."""
    refused = found(tmp_path, DEEP_ARRAY, "positive_data_acceptance", "examples", "coverage")
    assert all("style deepObject" in f.message for f in refused), [f.message for f in refused]


def found(tmp_path: Path, text: str, check: str, *phases: str) -> list:
    """The findings of one Schemathesis check on the sandbox serving ``text``; some there."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    report = run(RunOptions(spec, max_examples=30, seed=1, phases=(*phases, "fuzzing")))
    hits = [f for f in report.failures if f.check == check]
    assert hits, [f.fingerprint for f in report.failures]
    return hits


GAPS = """\
openapi: 3.0.3
info: {title: Threads, version: "1"}
components:
  securitySchemes: {key: {type: http, scheme: bearer}}
  schemas:
    Active: {type: object, required: [type], properties: {type: {enum: [active]}}}
    Closed:
      type: object
      required: [type, reason]
      properties: {type: {enum: [closed]}, reason: {type: string}}
    Thread:
      type: object
      required: [id, title, status]
      properties:
        id: {type: string}
        title: {type: string, maxLength: 5}
        status:
          oneOf: [{$ref: "#/components/schemas/Active"}, {$ref: "#/components/schemas/Closed"}]
          discriminator: {propertyName: type}
paths:
  /threads:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [title], properties: {title: {$ref: "#/$title"}}}
      responses:
        "200": {description: made, content: {application/json: {schema: {$ref: "#/$thread"}}}}
  /threads/{thread_id}:
    get:
      parameters: [{name: thread_id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: one, content: {application/json: {schema: {$ref: "#/$thread"}}}}
  /me:
    get:
      security: [{key: []}]
      responses:
        "200": {description: me, content: {application/json: {schema: {type: object}}}}
"""


def test_what_a_spec_cannot_say_is_said_to_be_the_specs_own(tmp_path: Path) -> None:
    """OpenAI's spec declares only 200 (and 429) on most operations: the 404 for an id
    that names nothing, the 400 for a request its schema refuses, the 401 without
    credentials are undeclared, and its discriminators without a mapping name branches
    whose ``type`` cannot be that name. Each finding names the spec's gap, with its pointer."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        GAPS.replace("#/$thread", "#/components/schemas/Thread").replace(
            "#/$title", "#/components/schemas/Thread/properties/title"
        )
    )
    report = run(RunOptions(spec, max_examples=10, seed=1,
                            phases=("examples", "coverage", "fuzzing")))  # fmt: skip
    statuses = [f for f in report.failures if f.check == "status_code_conformance"]
    assert {(f.operation, f.status) for f in statuses} == {
        ("POST /threads", 400),
        ("GET /threads/{thread_id}", 404),
        ("GET /me", 401),
    }, [(f.operation, f.status) for f in statuses]
    assert all("The spec's own: #/paths/" in f.message for f in statuses), [
        f.message for f in statuses
    ]
    mixed = [f for f in report.failures if f.title == "Unknown discriminator value"]
    assert mixed and all(
        "The spec's own: #/components/schemas/Thread/properties/status maps no value to" in
        f.message for f in mixed
    ), [f.message for f in mixed]  # fmt: skip


UPLOAD = """\
openapi: 3.0.3
info: {title: Images, version: "1"}
paths:
  /edits:
    post:
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [prompt, image]
              properties:
                image:
                  anyOf:
                    - {type: string, format: binary}
                    - {type: array, items: {type: string, format: binary}}
                prompt: {type: string, example: an otter}
                size: {type: string, example: 1024x1024}
      responses:
        "200": {description: made, content: {application/json: {schema: {type: object}}}}
"""


def test_a_valid_body_without_a_required_part_is_no_finding(tmp_path: Path) -> None:
    """Schemathesis's example of OpenAI's ``POST /images/edits`` is made of its fields'
    examples and has no ``image``, which the schema requires: refusing it is no finding
    (a real API refuses it too), and the undeclared 400 says why."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(UPLOAD)
    report = run(RunOptions(spec, max_examples=10, seed=1, phases=("examples",)))
    assert not [f for f in report.failures if f.check == "positive_data_acceptance"]
    refused = [f for f in report.failures if f.check == "status_code_conformance"]
    assert refused and all("it lacks image" in f.message for f in refused)


PATH_LINKS = """\
openapi: 3.0.3
info: {title: Messages, version: "1"}
paths:
  /Messages.json:
    get:
      parameters: [{name: PageSize, in: query, schema: {type: integer, minimum: 1}}]
      responses:
        "200":
          description: a page
          content:
            application/json:
              schema:
                type: object
                properties:
                  messages: {type: array, items: {type: object, properties: {sid: {type: string}}}}
                  uri: {type: string, format: uri}
              example: {messages: [{sid: SM1}], uri: /Messages.json?PageSize=50}
"""


def test_links_shown_as_paths_where_the_schema_says_uri_are_the_specs_own(tmp_path) -> None:
    """Twilio's examples (and API, and SDK) give ``uri`` as a path, its schema says
    ``format: uri``; the sandbox answers as the examples do, and the finding says that the
    spec contradicts itself, with its pointer."""
    broken = found(tmp_path, PATH_LINKS, "response_schema_conformance", "examples")
    assert all(
        "The spec's own: the examples of #/paths/~1Messages.json/get/responses show uri as "
        "paths" in f.message
        for f in broken
    ), [f.message for f in broken]


EMPTY_IMAGE = """\
openapi: 3.0.3
info: {title: Covers, version: "1"}
paths:
  /covers/{cover_id}:
    put:
      parameters: [{name: cover_id, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          image/jpeg:
            schema: {type: string, format: base64, example: /9j/2wCEABoZ}
      responses:
        "202": {description: accepted}
        "400": {description: refused}
"""


def test_a_required_body_whose_schema_accepts_nothing_is_the_specs_own(tmp_path) -> None:
    """Spotify's ``PUT /playlists/{playlist_id}/images`` body is a required string with no
    minLength: Schemathesis sends it empty, which on the wire is no body, and a server
    refuses the missing body; the finding says where the spec allows it."""
    refused = found(tmp_path, EMPTY_IMAGE, "positive_data_acceptance", "coverage")
    assert all(
        "The spec's own: #/paths/~1covers~1{cover_id}/put/requestBody is required" in f.message
        for f in refused
    ), [f.message for f in refused]


NO_RESPONSES = """\
openapi: 3.1.0
info: {title: Flights, version: "1"}
paths:
  /flights:
    get:
      summary: every flight, its answer not described
"""


def test_an_operation_that_declares_no_responses_is_the_specs_own_gap(tmp_path) -> None:
    """OpenAPI 3.1 lets an operation leave out its responses (the 3.2 tags example does);
    every status a server answers is then undocumented, and the finding says why."""
    undocumented = found(tmp_path, NO_RESPONSES, "status_code_conformance", "coverage")
    assert all(
        "The spec's own: #/paths/~1flights/get declares no responses at all" in f.message
        for f in undocumented
    ), [f.message for f in undocumented]


TWO_SCHEMES = """\
openapi: 3.1.0
info: {title: Board, version: "1"}
components:
  securitySchemes:
    apiKey: {type: apiKey, name: api-key, in: header}
    bearer: {type: http, scheme: bearer}
paths:
  /board:
    get:
      security: [{apiKey: []}]
      responses:
        "200": {description: the board, content: {application/json: {schema: {type: object}}}}
        "401": {description: no key}
  /board/{row}:
    get:
      security: [{bearer: []}]
      parameters: [{name: row, in: path, required: true, schema: {type: integer, minimum: 1}}]
      responses:
        "200": {description: a row, content: {application/json: {schema: {type: object}}}}
        "400": {description: a bad row}
        "401": {description: no token}
        "404": {description: no such row}
"""


def test_each_operation_gets_the_key_where_its_own_security_scheme_expects_it(
    tmp_path: Path,
) -> None:
    """The tic-tac-toe example reads its board with an api-key header and its squares with
    a bearer token: the run sends the key the way each operation asks, so no 401 for a
    credential sent where the operation does not look (a false alarm of ours)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(TWO_SCHEMES)
    report = run(RunOptions(spec, max_examples=10, seed=1))
    assert not [f.fingerprint for f in report.failures if f.status == 401]
    for label in ("GET /board", "GET /board/{row}"):
        statuses = report.operations[label].statuses
        assert statuses[200], (label, statuses)  # answered, not only refused


def test_an_empty_id_sent_by_the_name_its_path_reads_is_not_judged_as_kept(tmp_path) -> None:
    """OpenAI's ``POST /vector_stores/{id}/files`` with ``{"file_id": ""}``: the item is
    read by ``/files/{file_id}``, and ``""`` names nothing a path can read back, so the
    server chooses the id; that it does not keep ``""`` is no finding of ours."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(ATTACHED)
    report = run(RunOptions(spec, max_examples=10, seed=1, phases=("coverage", "fuzzing")))
    kept = [f.message for f in report.failures if f.check == "identity_and_persistence"]
    assert kept == []
    assert report.operations["POST /stores/{store_id}/files"].statuses[200] > 0


NULLABLE_PART = """\
openapi: 3.1.0
info: {title: Variations, version: "1"}
paths:
  /variations:
    post:
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image: {type: string, format: binary}
                model: {type: string, nullable: true}
      responses:
        "200": {description: made, content: {application/json: {schema: {type: object}}}}
        "400": {description: refused}
"""


def test_a_refused_multipart_body_the_specs_own_schema_refuses_is_the_specs(tmp_path) -> None:
    """OpenAI's ``POST /images/variations`` sends its ``model`` in a multipart body, with
    3.1's ignored ``nullable``: the null Schemathesis sends as valid is refused by the
    spec's own schema, judged on the text parts (a file part is not JSON)."""
    refused = found(tmp_path, NULLABLE_PART, "positive_data_acceptance", "examples", "coverage")
    assert all("The spec's own" in f.message and "model" in f.message for f in refused), [
        f.message for f in refused
    ]


def test_the_sandbox_s_journal_is_written_before_its_scratch_state_goes(tmp_path, caplog) -> None:
    """The journal writes once a second; the run's own sandbox keeps its state in a scratch
    folder removed when the run ends. Its last entries are written before that, not after
    (they were, and each run warned "journal entries not kept")."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(FREE_FORM_QUERY)
    with caplog.at_level(logging.WARNING):
        run(RunOptions(spec, max_examples=5, seed=1, phases=("examples", "fuzzing")))
        time.sleep(_FLUSH_EVERY * 1.5)  # the flushing thread's next turn
    assert not [r.getMessage() for r in caplog.records if "not kept" in r.getMessage()]


DUPLICATES = """\
openapi: 3.0.3
info: {title: Duplicates, version: "1"}
paths:
  /labels:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, enum: [bug]}
                color: {type: string, enum: [red, blue]}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/$label"}}}}
        "422": {description: "invalid, or already exists"}
  /labels/{name}:
    get:
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: it, content: {application/json: {schema: {$ref: "#/$label"}}}}
        "404": {description: none}
  /senders:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [sid]
              properties:
                sid: {type: string, enum: [XE1]}
                note: {type: string, enum: [a, b]}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/$sender"}}}}
        "400": {description: invalid}
  /senders/{sid}:
    get:
      parameters: [{name: sid, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: it, content: {application/json: {schema: {$ref: "#/$sender"}}}}
        "404": {description: none}
components:
  schemas:
    Label: {type: object, properties: {id: {type: integer}, name: {type: string}}}
    Sender: {type: object, properties: {sid: {type: string}}}
"""


def _duplicates(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        DUPLICATES.replace("#/$label", "#/components/schemas/Label").replace(
            "#/$sender", "#/components/schemas/Sender"
        )
    )
    return spec


def test_a_duplicate_create_answered_as_the_spec_declares_is_no_false_alarm(tmp_path) -> None:
    """The same label sent twice: where the create declares 422 and no 409 (GitHub's
    labels, refs, repositories), the 422 "already exists" is the refusal it declares, as a
    409 is elsewhere; where it declares no conflict answer at all (Twilio's ChannelSenders
    declares only 201), the 409 for a taken sid is the spec's gap, and said to be."""
    spec = _duplicates(tmp_path)
    report = run(RunOptions(spec, max_examples=10, seed=1,
                            phases=("examples", "coverage", "fuzzing")))  # fmt: skip
    assert report.operations["POST /labels"].statuses[422] > 0
    assert [f.fingerprint for f in report.failures if f.operation == "POST /labels"] == []
    taken = [f for f in report.failures if f.operation == "POST /senders"]
    assert [f.status for f in taken] == [409], [f.fingerprint for f in taken]
    assert "The spec's own: #/paths/~1senders/post/responses declares no 409" in taken[0].message


def test_only_a_422_that_says_the_thing_exists_is_taken_for_a_duplicate(tmp_path) -> None:
    """A 422 for anything else (a sha that names no object) is still valid data refused."""
    spec = load_spec(_duplicates(tmp_path))
    labels = next(op for op in spec.operations if op.path == "/labels")
    senders = next(op for op in spec.operations if op.path == "/senders")
    assert conflict_as_declared(labels, 422, '{"message": "Reference already exists"}')
    assert not conflict_as_declared(labels, 422, '{"message": "Object does not exist"}')
    assert not conflict_as_declared(senders, 422, '{"message": "Reference already exists"}')


MEMBERS = """\
openapi: 3.0.3
info: {title: Members, version: "1"}
paths:
  /members:
    get:
      responses:
        "200":
          description: all
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Member"}}
  /members/{user_id}:
    get:
      parameters: [{name: user_id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: it
          content: {application/json: {schema: {$ref: "#/components/schemas/Member"}}}
        "404": {description: none}
components:
  schemas:
    Member:
      type: object
      required: [id, user_id]
      properties: {id: {type: string}, user_id: {type: string}, role: {type: string}}
"""


def test_an_item_is_judged_by_the_field_its_path_parameter_names(tmp_path) -> None:
    """``/members/{user_id}`` names a membership by its ``user_id``; its own ``id`` is
    another thing, and no promise of the path."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(MEMBERS)
    report = run(RunOptions(spec, max_examples=10, seed=1,
                            phases=("examples", "coverage", "fuzzing")))  # fmt: skip
    assert report.operations["GET /members/{user_id}"].statuses[200] > 0
    found = [f.message for f in report.failures if f.check == "identity_and_persistence"]
    assert found == []


MULTIPART_TEXT = """\
openapi: 3.0.3
info: {title: Consents, version: "1"}
paths:
  /consents:
    post:
      operationId: createConsent
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              additionalProperties: false
              required: [recording, language]
              properties:
                recording: {type: string, format: binary}
                language: {type: string}
                labels: {type: array, items: {type: string}}
      responses:
        "200":
          description: made
          content:
            application/json:
              schema: {type: object, properties: {id: {type: string}}}
        "400": {description: refused}
"""


def test_an_invalid_multipart_body_whose_parts_read_as_valid_text_is_not_the_servers(
    tmp_path,
) -> None:
    """Every part of a multipart body is text: ``language`` made invalid as the integer 5
    is sent as the part ``5``, which is the string "5" the schema asks for (OpenAI's
    ``POST /audio/voice_consents``); ``labels`` made a string is one part, a one-item
    array. Accepting them is all a server can do; the findings say so."""
    accepted = found(tmp_path, MULTIPART_TEXT, "negative_data_rejection", "coverage")
    assert all("Not the server's to refuse" in f.message for f in accepted), [
        f.message for f in accepted
    ]


NULL_ID = """\
openapi: 3.1.0
info: {title: Projects, version: "1"}
components:
  schemas:
    ProjectUser:
      type: object
      required: [id, role]
      properties: {id: {type: string}, role: {type: string}}
paths:
  /projects/{project_id}/users:
    parameters: [{name: project_id, in: path, required: true, schema: {type: string}}]
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [role]
              properties:
                user_id: {anyOf: [{type: string}, {type: "null"}]}
                role: {type: string}
      responses:
        "200":
          description: added
          content: {application/json: {schema: {$ref: "#/components/schemas/ProjectUser"}}}
        "400": {description: refused}
  /projects/{project_id}/users/{user_id}:
    parameters:
      - {name: project_id, in: path, required: true, schema: {type: string}}
      - {name: user_id, in: path, required: true, schema: {type: string}}
    get:
      responses:
        "200":
          description: one
          content: {application/json: {schema: {$ref: "#/components/schemas/ProjectUser"}}}
        "404": {description: none}
"""


def test_a_null_id_sent_by_the_name_its_path_reads_is_not_judged_as_kept(tmp_path) -> None:
    """OpenAI's ``POST /organization/projects/{id}/users`` lets ``user_id`` be null: null
    names nothing ``/users/{user_id}`` can read back, so the server chooses the id."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(NULL_ID)
    report = run(RunOptions(spec, max_examples=10, seed=1, phases=("coverage", "fuzzing")))
    kept = [f.message for f in report.failures if f.check == "identity_and_persistence"]
    assert kept == []
    assert report.operations["POST /projects/{project_id}/users"].statuses[200] > 0


def test_a_text_part_is_read_as_any_value_it_can_stand_for() -> None:
    """A part ``null`` of a field that is ``"auto"`` or null is null, as a server may read
    it (OpenAI's ``chunking_strategy``); one that reads no valid way stays as sent."""
    from contracts.collect import _read_as_valid
    from sandbox.spec.schemas import SchemaChecks

    schema = {"type": "object", "properties": {
        "chunking": {"anyOf": [{"type": "string", "enum": ["auto"]}, {"type": "null"}]},
        "size": {"type": "integer"}}}  # fmt: skip
    checks = SchemaChecks({"openapi": "3.1.0"}, "3.1", mode="request")
    pairs = [("chunking", "null"), ("size", "big")]
    read = _read_as_valid({"chunking": "null", "size": "big"}, pairs, schema, checks)
    assert read == {"chunking": None, "size": "big"}
