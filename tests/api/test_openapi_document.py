"""The OpenAPI document is typed everywhere (issue 11, item 4), checked on the document itself
(no server): every request body and every success answer has a schema whose fields, at any
depth, are described, and each request body has an example; the security schemes apply to
every authenticated operation; each operation documents its errors in the body of the dialect
that owns its path; FastAPI's 422 `HTTPValidationError` is gone.

A new route fails here until its bodies are described: add its models to `api/schemas/` and
list them in `RESPONSES` / `REQUEST_DOCS` (docs/architecture/03-where-things-go.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reelforge.api.app import create_app
from tests.conftest import make_settings
from tests.fixtures.engines.basic import fixture_registry

PUBLIC = {"/healthz", "/readyz", "/metrics", "/version"}
STREAMS = {"application/json", "text/event-stream", "text/plain", "video/mp4"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("openapi") / "data"
    app = create_app(make_settings(Path(data)), engines=fixture_registry())
    return app.openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def undescribed(document: dict[str, Any], schema: Any, where: str) -> list[str]:
    """Every property at any depth of `schema` (following `$ref`s) without a description."""
    components = document["components"]["schemas"]
    missing: list[str] = []
    seen: set[str] = set()

    def walk(node: Any, at: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, at)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(components[name], name)
            return
        for name, prop in node.get("properties", {}).items():
            target = components.get(str(prop.get("$ref", "")).rsplit("/", 1)[-1], {})
            if "description" not in prop and "description" not in target:
                missing.append(f"{at}.{name}")
            walk(prop, f"{at}.{name}")
        for key, value in node.items():
            if key not in ("properties", "example", "examples"):
                walk(value, at)

    walk(schema, where)
    return missing


def test_every_body_is_typed_described_and_exemplified(document: dict[str, Any]) -> None:
    problems: list[str] = []
    for method, path, op in operations(document):
        where = f"{method.upper()} {path}"
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            schema = media.get("schema", {})
            if not schema.get("properties") and "$ref" not in schema:
                problems.append(f"{where} request {media_type}: no fields")
            if not ({"example", "examples"} & (set(media) | set(schema))):
                problems.append(f"{where} request {media_type}: no example")
            problems += undescribed(document, schema, f"{where} request")
        successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert successes, f"{where}: no success response"
        for status, response in successes.items():
            content = response.get("content", {})
            assert content, f"{where} {status}: no body documented"
            for media_type, media in content.items():
                schema = media.get("schema", {})
                if media_type == "application/json" and "$ref" not in schema:
                    problems.append(f"{where} {status}: untyped JSON ({schema})")
                elif media_type not in STREAMS and schema.get("format") != "binary":
                    problems.append(f"{where} {status}: {media_type} without a schema")
                problems += undescribed(document, schema, f"{where} {status}")
    assert not problems, "\n".join(problems)


def test_security_schemes_cover_every_authenticated_operation(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"]["in"] == "header"
    assert schemes["apiKeyAuth"]["name"] == "X-API-Key"
    for method, path, op in operations(document):
        if path in PUBLIC:
            assert "security" not in op, f"{method} {path} is public"
            continue
        assert {"bearerAuth": []} in op.get("security", []), f"{method} {path}: no security"
        assert {"apiKeyAuth": []} in op["security"], f"{method} {path}"
        if "401" in op["responses"]:
            continue
        # Only the downloads may go without a key (a signed link instead).
        assert {} in op["security"] and path.endswith("/content"), f"{method} {path}: no 401"


def test_errors_are_each_dialects_real_body(document: dict[str, Any]) -> None:
    expected = {  # path prefix -> the error schema of the renderer registered for it
        "/api/v3": "ArkError",
        "/v1/prediction": "EachlabsError",
        "/seedance/v1": "Seed000Error",
        "/v2/generate/video": "Seed001Error",
        "/v1/bytedance": "Seed002Error",
        "/v1/videos": "Error",
    }
    assert "HTTPValidationError" not in str(document)
    for method, path, op in operations(document):
        responses = op["responses"]
        assert "5XX" in responses, f"{method} {path}"
        if method == "post":
            assert {"400", "413", "415"} <= set(responses), f"{method} {path}: {list(responses)}"
        if "{" in path:
            assert "404" in responses, f"{method} {path}"
        for prefix, name in expected.items():
            if path.startswith(prefix):
                ref = responses["5XX"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/" + name), f"{method} {path}: {ref}"
    ark = document["paths"]["/api/v3/contents/generations/tasks"]["post"]["responses"]
    example = ark["401"]["content"]["application/json"]["example"]
    assert example["error"]["code"] == "AuthenticationError", example
    assert example["error"]["reelforge_code"] == "authentication_failed.missing_key", example
