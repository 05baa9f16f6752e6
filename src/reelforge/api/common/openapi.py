"""The OpenAPI document: helpers shared by the dialect routers, and the finishing pass that
`install_openapi` runs once over FastAPI's generated document.

The finishing pass works by path, not by editing routes:

- **Security.** `components.securitySchemes` has `bearerAuth` (`Authorization: Bearer <key>`)
  and `apiKeyAuth` (`X-API-Key: <key>`). Every operation whose dependencies include
  `api.deps.current_key` (every `ReadKey`, `GenerateKey`, `AdminKey`, `AnyKey`) requires one of
  them; an operation that reads the key store without requiring a key (the downloads, which
  also take a signed link) lists them as optional.
- **Errors.** Each operation documents the errors it can answer (400, 401, 402, 403, 404, 409,
  413, 415, 422, 429, 5XX) with the body of the dialect that owns its path: the renderer
  registered for the longest matching prefix (`api.errors.register_error_renderer`), the
  native body elsewhere. The schema is derived from the renderer's own output for sample
  errors, and each status has a real example, so the document cannot drift from what is sent.
- **Request bodies.** Fields without a description get one (`api.schemas.REQUEST_DOCS`, or
  the JSON body's for a form's field), and each media type an example.
- **Bodies.** The success answers of the routes in `api.schemas.RESPONSES` get their typed
  model (or their media types), with field descriptions and an example.
- FastAPI's default 422 `HTTPValidationError` is removed: a request that fails validation is
  answered by our 400 (`api.errors.validation_error`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from reelforge import codes
from reelforge.api.deps import current_key
from reelforge.api.errors import ErrorRenderer, native_error_body
from reelforge.errors import (
    AuthenticationFailed,
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ReelforgeError,
    ServiceUnavailable,
    UnprocessableMedia,
    UnsupportedMediaType,
)
from reelforge.logs import request_id_var

if TYPE_CHECKING:
    from reelforge.api.schemas import RequestDoc, ResponseSpec


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema with its `$defs` inlined, for `openapi_extra` (a `#/$defs/...`
    reference would point into the OpenAPI document's root and dangle there)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items() if k != "discriminator"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "rf_<key>",
        "description": "`Authorization: Bearer rf_...` (an API key; `Authorization: Key rf_...` "
        "is accepted too). `reelforge serve` prints the admin key at first start.",
    },
    "apiKeyAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key in the `X-API-Key` header.",
    },
}
REQUIRED: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
OPTIONAL = [*REQUIRED, {}]

_REQUEST_ID = "req_0123456789abcdef"


def _samples() -> dict[str, tuple[str, list[ReelforgeError]]]:
    """Per documented status: its description and sample errors (the first is the example;
    together they vary every optional field, so the derived schema allows each type)."""
    return {
        "400": ("Invalid request: the field named in `param` was refused", [
            InvalidRequest("seconds: must be between 4 and 15", param="seconds",
                           code=codes.INVALID_REQUEST_SECONDS),
            InvalidRequest("request body is not valid JSON", code=codes.INVALID_REQUEST_JSON),
            InvalidRequest("references[1]: no such file", param="references[1]",
                           reference_index=1, code=codes.INVALID_REFERENCE_FILE_NOT_FOUND),
        ]),
        "401": ("No API key, or an unknown or revoked one", [
            AuthenticationFailed("missing API key: send Authorization: Bearer <key>",
                                 code=codes.AUTHENTICATION_FAILED_MISSING_KEY),
        ]),
        "402": ("The key's credits do not cover the request", [
            InsufficientCredits("the balance does not cover this video",
                                code=codes.INSUFFICIENT_CREDITS_BALANCE),
        ]),
        "403": ("The key lacks the scope this operation needs", [
            PermissionDenied("this key lacks the 'generate' scope",
                             code=codes.PERMISSION_DENIED_SCOPE),
        ]),
        "404": ("No such resource (or it belongs to another key)", [
            NotFound("no video 'video_0123'", code=codes.NOT_FOUND_VIDEO, param="id"),
        ]),
        "409": ("The resource's state does not allow this (e.g. deleting a running video)", [
            Conflict("the video is still running; cancel it first",
                     code=codes.CONFLICT_NOT_TERMINAL),
        ]),
        "413": ("The request body, or a reference, is over the size limit", [
            PayloadTooLarge("request body is 300000000 bytes; at most 268435456",
                            param="body"),
        ]),
        "415": ("The body's Content-Type is neither JSON nor a form", [
            UnsupportedMediaType("Content-Type 'application/xml' is not accepted; send JSON "
                                 "or multipart/form-data", param="content-type"),
        ]),
        "422": ("A reference could not be decoded", [
            UnprocessableMedia("references[0]: not a decodable image", param="references[0]",
                               reference_index=0),
        ]),
        "429": ("Too many requests: see `Retry-After`", [
            RateLimited("more than 10 creates in a minute", retry_after=6,
                        code=codes.RATE_LIMITED_CREATES_PER_MINUTE),
        ]),
        "5XX": ("Server error; a 503 may be retried after `Retry-After`", [
            ReelforgeError("internal error; see the server log"),
            ServiceUnavailable("the service is shutting down"),
        ]),
    }  # fmt: skip


_HEADERS = {
    "x-should-retry": {
        "description": "`false`: an SDK must not retry this request on its own.",
        "schema": {"type": "string", "enum": ["false"]},
    },
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}},
}


def schema_of(values: list[Any]) -> dict[str, Any]:
    """A JSON schema that every value in `values` satisfies: objects by their keys (required:
    those present in all), the types seen for each leaf; `null` only where one was seen. A leaf
    seen only as `null` is left open."""
    present = [v for v in values if v is not None]
    nullable = len(present) < len(values)
    if not present:
        return {}
    if all(isinstance(v, dict) for v in present):
        keys = list(dict.fromkeys(k for v in present for k in v))
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {k: schema_of([v.get(k) for v in present if k in v]) for k in keys},
            "required": [k for k in keys if all(k in v for v in present)],
        }
    elif all(isinstance(v, list) for v in present):
        schema = {"type": "array", "items": schema_of([x for v in present for x in v])}
    else:
        kinds = {_json_type(v) for v in present}
        schema = {"type": sorted(kinds) if len(kinds) > 1 else kinds.pop()}
    if nullable:
        kind = schema.get("type")
        schema["type"] = [*(kind if isinstance(kind, list) else [kind]), "null"]
    return schema


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


_ERROR_FIELDS = {
    "error": "The error (Ark, native, seed 002: an object; seed 000: the message).",
    "code": "Stable error code (docs/api/errors.md), or the vendor's code where its SDKs "
    "read one (Ark).",
    "reelforge_code": "reelforge's stable error code (docs/api/errors.md).",
    "message": "What went wrong, for people.",
    "param": "The request field at fault (the dialect's own name), if any.",
    "type": "The error's family (invalid_request_error, authentication_error, ...).",
    "reference_index": "Index of the reference at fault, if any.",
    "status": "The dialect's word for a refused request.",
    "details": "`code=<code>[, param=<param>]`.",
    "statusCode": "The HTTP status.",
    "requestId": "The request's id (also the `x-request-id` header).",
    "timestamp": "When it was answered (ISO 8601).",
}


def describe(schema: Any, texts: dict[str, str]) -> None:
    """Give every property at any depth of `schema` that has no description the one `texts`
    has for its name."""
    if isinstance(schema, list):
        for item in schema:
            describe(item, texts)
        return
    if not isinstance(schema, dict):
        return
    for name, prop in schema.get("properties", {}).items():
        if isinstance(prop, dict) and "description" not in prop and name in texts:
            prop["description"] = texts[name]
    for key, value in schema.items():
        if key not in ("example", "examples"):
            describe(value, texts)


def _schema_name(render: ErrorRenderer) -> str:
    if render is native_error_body:
        return "Error"
    parts = [p for p in render.__module__.split(".") if p not in ("errors", "routes")]
    return parts[-1].replace("_", " ").title().replace(" ", "") + "Error"


def _renderer_for(renderers: dict[str, ErrorRenderer], path: str) -> ErrorRenderer:
    matches = [p for p in renderers if path == p or path.startswith(p + "/")]
    return renderers[max(matches, key=len)] if matches else native_error_body


def _rendered(render: ErrorRenderer, errors: list[ReelforgeError]) -> list[Any]:
    token = request_id_var.set(_REQUEST_ID)
    try:
        out = [render(e) for e in errors]
        # The request id (and anything else taken from the request) may be absent.
        request_id_var.set(None)
        out += [render(e) for e in errors]
    finally:
        request_id_var.reset(token)
    return out


def _walk(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _walk(dep)


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route as the document sees it (full path, dependencies), included routers'
    too (FastAPI keeps those nested)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, routing.APIRoute) and context.include_in_schema:
            yield context


def _auth(route: Any) -> list[dict[str, list[str]]] | None:
    calls = list(_walk(route.dependant))
    if current_key in calls:
        return REQUIRED
    if any(getattr(c, "__name__", "") == "get_keys" for c in calls):
        return OPTIONAL  # a key or a signed link
    return None


_ADMIN = "/v1/keys"  # admin routes: no credits, references or rate limits


def _statuses(method: str, path: str, op: dict[str, Any], secured: bool) -> list[str]:
    has_input = bool(op.get("parameters") or op.get("requestBody"))
    body = "requestBody" in op or method in ("post", "put", "patch")
    out = ["400"] if has_input or body else []
    if secured:
        out += ["401", "403"]
    creates = secured and method == "post" and not path.startswith(_ADMIN)
    if creates:
        out.append("402")
    if "{" in path:
        out.append("404")
    if method == "delete" or (method == "post" and "{" in path):
        out.append("409")
    if body:
        out += ["413", "415"]
    if creates and "{" not in path:
        out.append("422")
    if creates:
        out.append("429")
    return [*out, "5XX"]


def _add_model(schemas: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """Put `model` (and the models it uses) into `schemas`; a `$ref` to it."""
    schema = model.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    for name, sub in [*schema.pop("$defs", {}).items(), (model.__name__, schema)]:
        if schemas.setdefault(name, sub) != sub:
            raise ValueError(f"two OpenAPI schemas are named {name}: rename one")
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _typed_success(
    schemas: dict[str, Any], responses: dict[str, Any], typed: dict[str, ResponseSpec]
) -> None:
    for status, spec in typed.items():
        response = responses.setdefault(status, {"description": "Success"})
        if isinstance(spec, dict):
            response["content"] = spec
            continue
        media: dict[str, Any] = {"schema": _add_model(schemas, spec)}
        extra = spec.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if isinstance(examples, list) and examples:
            media["example"] = examples[0]
        response["content"] = {"application/json": media}
        if spec.__doc__ and response.get("description") in (
            None,
            "",
            "Success",
            "Successful Response",
        ):
            response["description"] = spec.__doc__.strip().splitlines()[0]


def _documented_body(schemas: dict[str, Any], body: dict[str, Any], doc: RequestDoc) -> None:
    """Describe every top-level field of each media type (from `doc`, else from the same
    field of the JSON schema: a form's fields are the JSON body's), and give each an example."""
    content: dict[str, Any] = body.get("content", {})

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref", "")
        found: dict[str, Any] = schemas.get(ref.rsplit("/", 1)[-1], schema) if ref else schema
        return found

    json_props = resolved(content.get("application/json", {}).get("schema", {})).get(
        "properties", {}
    )
    for media_type, media in content.items():
        schema = resolved(media.get("schema", {}))
        for name, prop in schema.get("properties", {}).items():
            if "description" not in prop:
                text = doc.get("fields", {}).get(name) or json_props.get(name, {}).get(
                    "description"
                )
                if text:
                    prop["description"] = text
        describe(schema, doc.get("nested", {}))
        example = doc.get("examples", {}).get(media_type)
        if example is not None and "example" not in media:
            media["example"] = example


def finish_openapi(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """The finishing pass described in the module docstring, in place; returns `document`."""
    # Imported here: the schemas name the dialects' modules, which use `inline_schema` above.
    from reelforge.api.schemas import REQUEST_DOCS, RESPONSES

    renderers: dict[str, ErrorRenderer] = getattr(app.state, "error_renderers", {})
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    schemas = components.setdefault("schemas", {})
    samples = _samples()
    examples: dict[tuple[str, str], Any] = {}

    def error_schema(render: ErrorRenderer) -> str:
        name = _schema_name(render)
        if name not in schemas:
            bodies = [b for _, errs in samples.values() for b in _rendered(render, errs)]
            schema = schema_of(bodies)
            describe(schema, _ERROR_FIELDS)
            schema["description"] = f"An error in this dialect's shape ({render.__module__})."
            schemas[name] = schema
            for status, (_, errs) in samples.items():
                examples[(name, status)] = _rendered(render, errs[:1])[0]
        return name

    auth = {  # by the document's path: `{model_id:path}` is `{model_id}` there
        (method.lower(), re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)): _auth(route)
        for route in _api_routes(app)
        for method in route.methods
    }
    for path, item in document.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
            request_doc = REQUEST_DOCS.get((method, path))
            if request_doc and "body" in request_doc and "requestBody" not in op:
                op["requestBody"] = {"required": True, "content": request_doc["body"]}
            if request_doc and "requestBody" in op:
                _documented_body(schemas, op["requestBody"], request_doc)
            if (method, path) in RESPONSES:
                _typed_success(schemas, responses, RESPONSES[(method, path)])
            security = auth.get((method, path))
            if security is not None:
                op["security"] = security
            name = error_schema(_renderer_for(renderers, path))
            for status in _statuses(method, path, op, security is REQUIRED):
                if status in responses:
                    continue
                headers = dict(_HEADERS) if status != "5XX" else {}
                if status in ("429", "5XX"):
                    headers = {**headers, **_RETRY_AFTER}
                responses[status] = {
                    "description": samples[status][0],
                    "headers": headers,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{name}"},
                            "example": examples[(name, status)],
                        }
                    },
                }
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the finished document at `app.openapi_url` (built once, on first use, after every
    router and error renderer is installed)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = finish_openapi(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
