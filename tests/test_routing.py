"""Routing a request path to its operation and naming the path's values as that operation does."""

from __future__ import annotations

from pathlib import Path

from sandbox import load_spec
from sandbox.http.routing import Match, MethodNotAllowed, NotFound, Router

SPEC = """\
openapi: 3.0.3
info: {title: Routes, version: "1"}
paths:
  /services/{Sid}:
    get: {operationId: getService, responses: {"200": {description: ok}}}
  /services/{ServiceSid}/senders/{Sid}:
    get: {operationId: getSender, responses: {"200": {description: ok}}}
  /services/{ServiceSid}/senders/bulk:
    post: {operationId: bulkSenders, responses: {"200": {description: ok}}}
  /files/{name}.{ext}:
    get: {operationId: getFile, responses: {"200": {description: ok}}}
"""


def router(tmp_path: Path) -> Router:
    path = tmp_path / "routes.yaml"
    path.write_text(SPEC)
    return Router(load_spec(path, validate=False).operations)  # only the paths matter here


def test_each_operation_names_the_values_with_its_own_variables(tmp_path: Path) -> None:
    routes = router(tmp_path)
    service = routes.match("GET", "/services/MG1")
    assert isinstance(service, Match)
    assert (service.operation.operation_id, service.path_params) == ("getService", {"Sid": "MG1"})
    sender = routes.match("GET", "/services/MG1/senders/XE2")
    assert isinstance(sender, Match)
    assert sender.operation.operation_id == "getSender"
    assert sender.path_params == {"ServiceSid": "MG1", "Sid": "XE2"}


def test_literal_segments_win_and_mixed_segments_split(tmp_path: Path) -> None:
    routes = router(tmp_path)
    bulk = routes.match("POST", "/services/MG1/senders/bulk")
    assert isinstance(bulk, Match)
    assert (bulk.operation.operation_id, bulk.path_params) == ("bulkSenders", {"ServiceSid": "MG1"})
    file = routes.match("GET", "/files/report.2024.csv")
    assert isinstance(file, Match)
    assert file.path_params == {"name": "report", "ext": "2024.csv"}


def test_a_wrong_method_lists_the_allowed_ones_with_the_values(tmp_path: Path) -> None:
    wrong = router(tmp_path).match("DELETE", "/services/MG1/senders/XE2")
    assert isinstance(wrong, MethodNotAllowed)
    assert wrong.allowed == ("GET",)
    assert wrong.path_params == {"ServiceSid": "MG1", "Sid": "XE2"}


QUERY_KEYED = """\
openapi: 3.0.3
info: {title: Query keys, version: "1"}
paths:
  /responses:
    post: {operationId: create, responses: {"200": {description: ok}}}
  /responses?beta=true:
    post: {operationId: betaCreate, responses: {"200": {description: ok}}}
  /responses?beta=true&mode=fast:
    post: {operationId: fastBetaCreate, responses: {"200": {description: ok}}}
  /responses/{response_id}?beta=true:
    get: {operationId: betaGet, responses: {"200": {description: ok}}}
  /search?type=user:
    get: {operationId: searchUsers, responses: {"200": {description: ok}}}
"""


def test_a_path_key_holding_a_query_is_chosen_by_the_request_carrying_it(tmp_path: Path) -> None:
    """OpenAI's spec keys six operations as ``/responses?beta=true`` beside ``/responses``:
    the pairs select the operation, the most pairs first; the plain path answers the rest."""
    path = tmp_path / "query.yaml"
    path.write_text(QUERY_KEYED)
    routes = Router(load_spec(path, validate=False).operations)

    def chosen(method: str, target: str, query: dict[str, str]) -> str:
        found = routes.match(method, target, query)
        assert isinstance(found, Match), found
        return found.operation.operation_id

    assert chosen("POST", "/responses", {}) == "create"
    assert chosen("POST", "/responses", {"beta": "false"}) == "create"
    assert chosen("POST", "/responses", {"beta": "true"}) == "betaCreate"
    assert chosen("POST", "/responses", {"beta": "true", "mode": "fast"}) == "fastBetaCreate"
    beta_get = routes.match("GET", "/responses/resp_1", {"beta": "true", "other": "x"})
    assert isinstance(beta_get, Match)
    assert (beta_get.operation.operation_id, beta_get.path_params) == (
        "betaGet", {"response_id": "resp_1"},
    )  # fmt: skip
    # only the query-keyed operation exists: without its query the request names nothing
    missing = routes.match("GET", "/search", {})
    assert isinstance(missing, NotFound) and "?type=user" in missing.reason
    assert chosen("GET", "/search", {"type": "user"}) == "searchUsers"
    assert chosen("HEAD", "/search", {"type": "user"}) == "searchUsers"
    wrong = routes.match("DELETE", "/responses", {"beta": "true"})
    assert isinstance(wrong, MethodNotAllowed) and wrong.allowed == ("POST",)
