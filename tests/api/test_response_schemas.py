"""Every answer of each dialect's main flow validates against the OpenAPI document the server
serves (issue 11, item 4): create -> get (until done) -> list -> content -> delete, the quote,
and the errors (400, 401, 404, 409, 415) in the dialect's own body.

A response is checked against the schema documented for its method, path template and status
(`5XX` for a 5xx); a status the document does not list for the operation is a failure too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import ADMIN_KEY
from tests.dialects.server import running_reelforge

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
ARK = "/api/v3/contents/generations/tasks"


class Checker:
    """Validates responses against one OpenAPI document; counts what it checked."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]
        self.checked: list[str] = []

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        found = [t for rx, t in self.templates if rx.match(path)]
        assert found, f"{path} is not in the document"
        # The most literal template wins (/v1/videos/quote over /v1/videos/{video_id}).
        template = min(found, key=lambda t: t.count("{"))
        op = self.document["paths"][template].get(method.lower())
        assert op is not None, f"{method} {template} is not in the document"
        return template, op

    def check(self, response: httpx.Response) -> httpx.Response:
        request = response.request
        template, op = self.operation(request.method, request.url.path)
        status = str(response.status_code)
        key = status if status in op["responses"] else f"{status[0]}XX"
        where = f"{request.method} {template} -> {status}"
        assert key in op["responses"], f"{where}: status not documented ({list(op['responses'])})"
        content = op["responses"][key].get("content", {})
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if media == "application/json":
            assert media in content, f"{where}: no JSON body documented"
            schema = {**content[media]["schema"], "components": self.document["components"]}
            try:
                jsonschema.validate(response.json(), schema)
            except jsonschema.ValidationError as exc:
                raise AssertionError(f"{where}: {exc.message} at {list(exc.absolute_path)}\n"
                                     f"{response.text[:1000]}") from exc  # fmt: skip
            assert content[media]["schema"] not in ({}, {"type": "object"}), f"{where}: untyped"
            extra = self.undocumented(content[media]["schema"], response.json())
            assert not extra, f"{where}: fields not in the document: {extra} (api/schemas/)"
        elif content:
            assert media in content, f"{where}: {media} not among {list(content)}"
        self.checked.append(where)
        return response

    def undocumented(self, schema: dict[str, Any], body: Any) -> list[str]:
        """Keys of `body` (and of the items of its list fields) that the schema does not name."""
        ref = schema.get("$ref", "")
        schema = self.document["components"]["schemas"].get(ref.rsplit("/", 1)[-1], schema)
        props = schema.get("properties")
        if not isinstance(body, dict) or not props:
            return []
        extra = [k for k in body if k not in props]
        for key, value in body.items():
            items = props.get(key, {}).get("items", {})
            if isinstance(value, list) and value and "$ref" in items:
                extra += [f"{key}[].{k}" for k in self.undocumented(items, value[0])]
        return extra


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Checker]]:
    data = tmp_path_factory.mktemp("schemas") / "data"
    with running_reelforge(Path(data), allow_private_urls=True) as base_url:
        document = httpx.get(f"{base_url}/openapi.json").json()
        yield base_url, Checker(document)


def wait(client: httpx.Client, checker: Checker, path: str, done: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = checker.check(client.get(path)).json()
        if body["status"] in done:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_native_flow_matches_the_document(server: tuple[str, Checker]) -> None:
    base_url, checker = server
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        body = {"prompt": "a red ball rolls across the floor", "model": "ok", "seconds": 1}
        video = checker.check(c.post("/v1/videos", json=body)).json()
        done = wait(c, checker, f"/v1/videos/{video['id']}", {"completed", "failed"})
        assert done["status"] == "completed", done
        checker.check(c.get("/v1/videos", params={"limit": 2}))
        for variant in ("video", "thumbnail"):
            got = checker.check(c.get(f"/v1/videos/{video['id']}/content?variant={variant}"))
            assert got.status_code == 200, got.text
        checker.check(c.post("/v1/videos/quote", json=body))
        form = {k: (None, str(v)) for k, v in body.items()}  # multipart/form-data fields
        assert checker.check(c.post("/v1/videos", files=form)).status_code == 202
        checker.check(c.delete(f"/v1/videos/{video['id']}"))
        # Errors, in the native body.
        assert checker.check(c.get("/v1/videos/video_nope")).status_code == 404
        assert checker.check(c.post("/v1/videos", json={"model": "ok"})).status_code == 400
        assert checker.check(c.get("/v1/videos", headers={"Authorization": ""})).status_code == 401
        xml = {"Content-Type": "application/xml"}
        assert checker.check(c.post("/v1/videos", content=b"<a/>", headers=xml)).status_code == 415
        slow = checker.check(c.post("/v1/videos", json={**body, "model": "slow_with_progress",
                                                        "seconds": 3})).json()  # fmt: skip
        assert checker.check(c.delete(f"/v1/videos/{slow['id']}")).status_code == 409
        checker.check(c.post(f"/v1/videos/{slow['id']}/cancel"))
    assert len(checker.checked) >= 12, checker.checked


def test_ark_flow_matches_the_document(server: tuple[str, Checker]) -> None:
    base_url, checker = server
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        body = {"model": "seedance-2.0", "content": [{"type": "text", "text": "a quiet lake"}],
                "duration": 1}  # fmt: skip
        task = checker.check(c.post(ARK, json=body)).json()
        done = wait(c, checker, f"{ARK}/{task['id']}", {"succeeded", "failed"})
        assert done["status"] == "succeeded", done
        checker.check(c.get(ARK, params={"page_size": 5}))
        checker.check(c.get(done["content"]["video_url"], headers={"Authorization": ""}))
        checker.check(c.delete(f"{ARK}/{task['id']}"))
        # Errors, in Ark's body.
        assert checker.check(c.get(f"{ARK}/cgt-nope")).status_code == 404
        assert checker.check(c.post(ARK, json={**body, "duration": 99})).status_code == 400
        assert checker.check(c.get(ARK, headers={"Authorization": ""})).status_code == 401


def test_platform_routes_match_the_document(server: tuple[str, Checker]) -> None:
    base_url, checker = server
    png = _png()
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        checker.check(c.get("/healthz"))
        checker.check(c.get("/readyz"))
        file = checker.check(c.post("/v1/files", files={"file": ("a.png", png, "image/png")}))
        assert file.status_code == 200, file.text
        checker.check(c.get(f"/v1/files/{file.json()['id']}"))
        checker.check(c.delete(f"/v1/files/{file.json()['id']}"))
        assert checker.check(c.post("/v1/files", files={"other": ("a", b"x")})).status_code == 400
        key = checker.check(c.post("/v1/keys", json={"name": "schemas", "balance": 10})).json()
        checker.check(c.get("/v1/keys"))
        checker.check(c.get("/v1/keys/me"))
        checker.check(c.post(f"/v1/keys/{key['id']}/credits", json={"amount": 5}))
        checker.check(c.get(f"/v1/keys/{key['id']}/ledger"))
        checker.check(c.delete(f"/v1/keys/{key['id']}"))
        checker.check(c.get("/v1/usage"))
        hook = {"prompt": "a lamp", "model": "ok", "seconds": 1,
                "webhook_url": "http://127.0.0.1:9/hook"}  # fmt: skip
        video = checker.check(c.post("/v1/videos", json=hook))
        assert video.status_code == 202, video.text
        wait(c, checker, f"/v1/videos/{video.json()['id']}", {"completed", "failed"})
        assert checker.check(c.get(f"/v1/videos/{video.json()['id']}/webhooks")).json()["data"]


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 320), (10, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


FLAT = [  # create path, its get path (id filled in), the id's field in the create answer
    ("/seedance/v1/generate", "/seedance/v1/status/{}", "job_id"),
    ("/v2/generate/video", "/v2/generate/video/{}", "id"),
    ("/v1/bytedance/seedance-2.0/reference-to-video",
     "/v1/bytedance/seedance-2.0/reference-to-video/{}", "id"),
    ("/v2/generations", "/v2/generations/{}", "id"),
    ("/v1/video/generations", "/v1/video/generations/{}", "id"),
]  # fmt: skip


@pytest.mark.parametrize(("create", "get", "id_field"), FLAT)
def test_flat_dialects_match_the_document(
    server: tuple[str, Checker], create: str, get: str, id_field: str
) -> None:
    base_url, checker = server
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        body = {"prompt": "a red ball rolls across the floor", "model": "ok", "duration": 1}
        made = checker.check(c.post(create, json=body))
        assert made.status_code == 200, made.text
        job_id = made.json()[id_field]
        deadline = time.monotonic() + 60
        while checker.check(c.get(get.format(job_id))).json().get("progress", 100) < 100:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert checker.check(c.get(get.format("video_nope"))).status_code == 404
        assert checker.check(c.post(create, json={**body, "durtion": 1})).status_code == 400
        assert (
            checker.check(c.get(get.format(job_id), headers={"Authorization": ""})).status_code
            == 401
        )


def test_eachlabs_matches_the_document(server: tuple[str, Checker]) -> None:
    base_url, checker = server
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        body = {"model": "ok", "input": {"prompt": "a red ball", "duration": "1"}}
        made = checker.check(c.post("/v1/prediction", json=body))
        assert made.status_code == 200, made.text
        pid = made.json()["predictionID"]
        deadline = time.monotonic() + 60
        while checker.check(c.get(f"/v1/prediction/{pid}")).json()["status"] not in (
            "success", "failed", "cancelled", "error"
        ):  # fmt: skip
            assert time.monotonic() < deadline
            time.sleep(0.05)
        checker.check(c.post(f"/v1/prediction/{pid}/cancel"))
        assert checker.check(c.get("/v1/prediction/video_nope")).status_code == 404
        assert checker.check(c.post("/v1/prediction", json={**body, "x": 1})).status_code == 400


def test_openai_routes_and_models_match_the_document(server: tuple[str, Checker]) -> None:
    base_url, checker = server
    oa = "/openai/v1/videos"
    if oa not in checker.document["paths"] or "/v1/models" not in checker.document["paths"]:
        pytest.skip("this build serves no OpenAI-shaped route or /v1/models yet")
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        made = checker.check(c.post(oa, json={"prompt": "a red ball", "model": "ok"}))
        assert made.status_code < 300, made.text
        done = wait(c, checker, f"{oa}/{made.json()['id']}", {"completed", "failed"})
        assert done["status"] == "completed", done
        checker.check(c.get(oa, params={"limit": 2}))
        assert checker.check(c.get(f"{oa}/{done['id']}/content")).status_code == 200
        remix = checker.check(c.post(f"{oa}/{done['id']}/remix", json={"prompt": "at night"}))
        assert remix.status_code < 300, remix.text
        assert checker.check(c.get(f"{oa}/video_nope")).status_code == 404
        models = checker.check(c.get("/v1/models")).json()["data"]
        assert models
        checker.check(c.get(f"/v1/models/{models[0]['id']}"))
        assert checker.check(c.get("/v1/models/no-such-model")).status_code in (400, 404)
