"""Swagger 2.0 documents, converted to OpenAPI 3.0 on load.

Plenty of APIs still publish Swagger 2.0, and users expect a mock server to take it as it is.
There is no maintained pure-Python converter (the reference one, swagger2openapi, is a Node
package), so this module carries the mapping the OpenAPI 3.0 specification describes:
``host``/``basePath``/``schemes`` become ``servers``, ``definitions`` become
``components/schemas``, body and form parameters become a ``requestBody``, response
``schema``s get a ``content`` per media type the operation ``produces``, security definitions
become security schemes. The input must already be bundled (every ``$ref`` local).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sandbox.spec.documents import BUNDLE_KEY, follow_pointer

OPENAPI_VERSION = "3.0.3"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# keywords a Swagger 2.0 non-body parameter shares with a JSON schema
_PARAM_SCHEMA_KEYS = (
    "type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "enum", "multipleOf",
)  # fmt: skip
_STYLES = {  # collectionFormat -> (style, explode) for query parameters
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
_OAUTH_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}
_REF_PREFIXES = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}


def is_swagger2(document: Any) -> bool:
    return isinstance(document, dict) and str(document.get("swagger", "")).startswith("2.")


def convert(swagger: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 document equivalent to a bundled Swagger 2.0 one (the input is kept)."""
    return _Converter(copy.deepcopy(swagger)).run()


class _Converter:
    def __init__(self, source: dict[str, Any]) -> None:
        self.source = source
        self.consumes: list[str] = source.get("consumes") or ["application/json"]
        self.produces: list[str] = source.get("produces") or ["application/json"]

    def run(self) -> dict[str, Any]:
        src = self.source
        out: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": src.get("info") or {}}
        out["servers"] = _servers(src)
        out.update({k: v for k, v in src.items() if k.startswith("x-")})
        if BUNDLE_KEY in out:  # pieces of other files: schemas, or parameters inlined below
            out[BUNDLE_KEY] = {name: _schema(node) for name, node in out[BUNDLE_KEY].items()}
        for key in ("tags", "externalDocs", "security"):
            if key in src:
                out[key] = src[key]
        out["paths"] = {
            path: self._path_item(item) if isinstance(item, dict) else item
            for path, item in (src.get("paths") or {}).items()
        }
        out["components"] = self._components()
        _walk_refs(out)
        return out

    # -- components -------------------------------------------------------------------------
    def _components(self) -> dict[str, Any]:
        src = self.source
        components: dict[str, Any] = {}
        schemas = {name: _schema(s) for name, s in (src.get("definitions") or {}).items()}
        if schemas:
            components["schemas"] = schemas
        parameters, bodies = {}, {}
        for name, param in (src.get("parameters") or {}).items():
            if param.get("in") == "body":
                bodies[name] = self._request_body([param], self.consumes)
            elif param.get("in") != "formData":  # form fields are inlined where used
                parameters[name] = _parameter(param)
        if parameters:
            components["parameters"] = parameters
        if bodies:
            components["requestBodies"] = bodies
        responses = {
            name: self._response(r, self.produces)
            for name, r in (src.get("responses") or {}).items()
        }
        if responses:
            components["responses"] = responses
        schemes = {
            name: _security_scheme(s) for name, s in (src.get("securityDefinitions") or {}).items()
        }
        if schemes:
            components["securitySchemes"] = schemes
        return components

    # -- paths ------------------------------------------------------------------------------
    def _path_item(self, item: dict[str, Any]) -> dict[str, Any]:
        shared = item.get("parameters") or []
        out: dict[str, Any] = {k: v for k, v in item.items() if k.startswith("x-")}
        kept = [p for p in shared if not self._is_body_like(p)]
        if kept:
            out["parameters"] = [self._parameter_or_ref(p) for p in kept]
        pushed_down = [p for p in shared if self._is_body_like(p)]
        for method in _METHODS:
            if isinstance(item.get(method), dict):
                out[method] = self._operation(item[method], pushed_down)
        return out

    def _operation(self, op: dict[str, Any], inherited: list[Any]) -> dict[str, Any]:
        consumes = op.get("consumes") or self.consumes
        produces = op.get("produces") or self.produces
        out = {k: v for k, v in op.items() if k not in ("parameters", "responses", "consumes",
                                                         "produces", "schemes")}  # fmt: skip
        params: list[Any] = []
        body_like = list(inherited)
        for param in op.get("parameters") or []:
            (body_like if self._is_body_like(param) else params).append(param)
        if params:
            out["parameters"] = [self._parameter_or_ref(p) for p in params]
        if body_like:
            out["requestBody"] = self._request_body([self._deref(p) for p in body_like], consumes)
        out["responses"] = {
            str(code): self._response(r, produces)
            for code, r in (op.get("responses") or {}).items()
        }
        return out

    def _request_body(self, params: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any]:
        body = next((p for p in params if p.get("in") == "body"), None)
        if body is not None:
            media = [m for m in consumes if m not in _FORM_TYPES] or ["application/json"]
            out: dict[str, Any] = {
                "content": {m: {"schema": _schema(body.get("schema") or {})} for m in media}
            }
            if body.get("description"):
                out["description"] = body["description"]
            if body.get("required"):
                out["required"] = True
            return out
        fields = [p for p in params if p.get("in") == "formData"]
        schema: dict[str, Any] = {"type": "object", "properties": {}}
        for field in fields:
            prop = _schema({k: v for k, v in field.items() if k in _PARAM_SCHEMA_KEYS})
            if _refuses_empty(field) and field.get("type") == "string" and "minLength" not in prop:
                prop["minLength"] = 1  # what allowEmptyValue: false (the default) means here
            if field.get("description"):
                prop["description"] = field["description"]
            schema["properties"][field["name"]] = prop
        required = [f["name"] for f in fields if f.get("required")]
        if required:
            schema["required"] = required
        has_file = any(f.get("type") == "file" for f in fields)
        media = [m for m in consumes if m in _FORM_TYPES]
        if has_file or not media:
            media = ["multipart/form-data"] if has_file else ["application/x-www-form-urlencoded"]
        return {"content": {m: {"schema": schema} for m in media}, "required": bool(required)}

    def _response(self, response: dict[str, Any], produces: list[str]) -> dict[str, Any]:
        if "$ref" in response:
            return {"$ref": response["$ref"]}
        out: dict[str, Any] = {"description": response.get("description") or ""}
        out.update({k: v for k, v in response.items() if k.startswith("x-")})
        examples = response.get("examples") or {}
        if "schema" in response:
            schema = _schema(response["schema"])
            media_types = list(produces) + [m for m in examples if m not in produces]
            out["content"] = {m: {"schema": schema} for m in media_types}
            for media, example in examples.items():
                out["content"][media]["example"] = example
        if response.get("headers"):
            out["headers"] = {name: _header(header) for name, header in response["headers"].items()}
        return out

    # -- parameters -------------------------------------------------------------------------
    def _deref(self, node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#"):
                break
            seen.add(ref)
            try:
                node = follow_pointer(self.source, ref[1:])
            except (KeyError, ValueError):
                break  # left for the reference check to report, with its location
        return node

    def _is_body_like(self, param: Any) -> bool:
        return self._deref(param).get("in") in ("body", "formData")

    def _parameter_or_ref(self, param: dict[str, Any]) -> dict[str, Any]:
        ref = param.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/parameters/"):
            return {"$ref": ref}  # kept as a component, rewritten with every other ref
        return _parameter(self._deref(param))


def _servers(src: dict[str, Any]) -> list[dict[str, str]]:
    base = "/" + str(src.get("basePath") or "").strip("/")
    host = src.get("host")
    if not host:
        return [{"url": base}]
    base = "" if base == "/" else base
    return [{"url": f"{scheme}://{host}{base}"} for scheme in src.get("schemes") or ["https"]]


def _refuses_empty(param: dict[str, Any]) -> bool:
    """Swagger 2.0's ``allowEmptyValue`` defaults to false for query and form parameters:
    ``?id=`` sends no value, which such a parameter refuses."""
    return param.get("in") in ("query", "formData") and param.get("allowEmptyValue") is not True


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: param[k] for k in ("name", "in", "description", "required", "allowEmptyValue")
        if k in param
    }  # fmt: skip
    if _refuses_empty(param) and param.get("type") != "array":
        out["allowEmptyValue"] = False  # written out: OpenAPI 3 servers read it as "deprecated"
    out.update({k: v for k, v in param.items() if k.startswith("x-")})
    out["schema"] = _schema({k: v for k, v in param.items() if k in _PARAM_SCHEMA_KEYS})
    if param.get("type") == "array":
        fmt = param.get("collectionFormat", "csv")
        if param.get("in") == "query" and fmt in _STYLES:
            out["style"], out["explode"] = _STYLES[fmt]
        elif fmt == "csv":
            out["style"] = "simple"
    return out


def _header(header: dict[str, Any]) -> dict[str, Any]:
    out = {"schema": _schema({k: v for k, v in header.items() if k in _PARAM_SCHEMA_KEYS})}
    if header.get("description"):
        out["description"] = header["description"]
    return out


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    out: dict[str, Any] = {k: v for k, v in scheme.items() if k == "description"}
    if kind == "basic":
        return {**out, "type": "http", "scheme": "basic"}
    if kind == "apiKey":
        return {**out, "type": "apiKey", "name": scheme.get("name"), "in": scheme.get("in")}
    if kind == "oauth2":
        flow_name = _OAUTH_FLOWS.get(scheme.get("flow", ""), "implicit")
        flow: dict[str, Any] = {"scopes": scheme.get("scopes") or {}}
        if flow_name in ("implicit", "authorizationCode"):
            flow["authorizationUrl"] = scheme.get("authorizationUrl", "")
        if flow_name != "implicit":
            flow["tokenUrl"] = scheme.get("tokenUrl", "")
        return {**out, "type": "oauth2", "flows": {flow_name: flow}}
    return dict(scheme)


def _schema(schema: Any) -> Any:
    """A Swagger schema as an OpenAPI 3.0 one: ``x-nullable``, ``type: file``, a discriminator
    given as a property name."""
    return _map_dicts(schema, _schema_node)


def _schema_node(node: dict[str, Any]) -> dict[str, Any]:
    if "x-nullable" in node:
        node["nullable"] = bool(node.pop("x-nullable"))
    if isinstance(node.get("discriminator"), str):
        node["discriminator"] = {"propertyName": node["discriminator"]}
    if node.get("type") == "file":
        node["type"], node["format"] = "string", "binary"
    return node


def _map_dicts(node: Any, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(node, dict):
        return change({k: _map_dicts(v, change) for k, v in node.items()})
    if isinstance(node, list):
        return [_map_dicts(v, change) for v in node]
    return node


def _walk_refs(node: Any) -> None:
    """Point ``#/definitions/...`` and friends at their new homes under ``components``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                for old, new in _REF_PREFIXES.items():
                    if ref.startswith(old):
                        current["$ref"] = new + ref[len(old) :]
                        break
            stack.extend(v for v in current.values() if isinstance(v, dict | list))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, dict | list))
