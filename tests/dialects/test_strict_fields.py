"""No silent drops, in every dialect (issue 11 item 1): a table per dialect of every field its
vendor documents. Each is sent alone on a minimal valid body: an honoured field is accepted
(and, where the Video object shows it, takes effect); an unsupported one answers 400
`invalid_request.unsupported_parameter` naming it, or is accepted and listed in the job's
`warnings` where the vendor's SDK always sends it; a misspelt twin of every field answers 400
`invalid_request.unknown_parameter` naming the misspelt name. The native API is run as JSON and
as a multipart form (file field names included).

The tables are checked against the code's field lists (`Fields.documented`), so a field added
to a dialect without a row here fails, and against the dialect's page in docs/api/, so a field
is never left undocumented.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import byteplussdkarkruntime
import openai
import pytest
import requests
import volcenginesdkarkruntime
from fastapi.testclient import TestClient

from reelforge import codes
from reelforge.api.app import create_app
from reelforge.api.ark.fields import ARK_FIELDS, ITEM_FIELDS, URL_FIELDS
from reelforge.api.common.strict_fields import Fields
from reelforge.api.eachlabs.routes import INPUT_FIELDS, TOP_FIELDS
from reelforge.api.eachlabs.routes import SHAPE as EACHLABS_SHAPE
from reelforge.api.seed_dialects import seed000, seed001, seed002, seed004
from reelforge.api.videos.fields import NATIVE_FIELDS, REFERENCE_FIELDS, UPLOAD_FIELDS
from tests.conftest import ADMIN_KEY, make_settings
from tests.dialects.server import running_reelforge
from tests.fixtures.engines.basic import fixture_registry
from tests.intake.media import audio_bytes, image_bytes, mp4_bytes

ROOT = Path(__file__).resolve().parents[2]
PNG = image_bytes(320, 320)
RAW_IMG = base64.b64encode(PNG).decode()
IMG = "data:image/png;base64," + RAW_IMG
VID = "data:video/mp4;base64," + base64.b64encode(mp4_bytes(2.0, 640, 640)).decode()
AUD = "data:audio/mpeg;base64," + base64.b64encode(audio_bytes(2.0)).decode()
HOOK = "https://example.com/hook"

# What the Video object (GET /v1/videos/{id}) shows for the values the tables send.
SHOWN = {
    "seconds": ("seconds", "3"), "duration": ("seconds", "3"),
    "resolution": ("resolution", "480p"),
    "aspect_ratio": ("aspect_ratio", "1:1"), "ratio": ("aspect_ratio", "1:1"),
    "size": ("size", "480x480"),
    "seed": ("seed", 7), "generate_audio": ("generate_audio", False),
    "codec": ("codec", "h265"), "metadata": ("metadata", {"order": "42"}),
    "alpha": ("container", "webm"),
    "end_user_id": ("end_user_id", "u1"), "safety_identifier": ("end_user_id", "u1"),
    "model": ("model", "ok"),
}  # fmt: skip


@dataclass(frozen=True)
class Dialect:
    name: str
    path: str
    base: dict[str, Any]
    documented: frozenset[str]  # the code's list: the table must cover it exactly
    docs: str  # its page under docs/api/
    honoured: dict[str, dict[str, Any]]  # field -> what to add (the field, and what it needs)
    unsupported: dict[str, Any] = field(default_factory=dict)  # field -> a value refused
    warned: dict[str, Any] = field(default_factory=dict)  # field -> a value accepted + warning
    nested: str = ""  # where the fields go: "" (top level) or "input" (each::labs)
    top: dict[str, dict[str, Any]] = field(default_factory=dict)  # top-level fields (nested)

    def body(self, fields: dict[str, Any], *, top: bool = False) -> dict[str, Any]:
        body = json.loads(json.dumps(self.base))
        if self.nested and not top:
            body[self.nested].update(fields)
        else:
            body.update(fields)
        return body

    def param(self, name: str, *, top: bool = False) -> str:
        return f"{self.nested}.{name}" if self.nested and not top else name


def _flat(**extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields every flat dialect shares (FlatShape's defaults), plus the dialect's own."""
    common: dict[str, dict[str, Any]] = {
        "prompt": {"prompt": "a red kite over the sea"}, "model": {"model": "ok"},
        "duration": {"duration": 3}, "resolution": {"resolution": "480p"},
        "aspect_ratio": {"aspect_ratio": "1:1"}, "generate_audio": {"generate_audio": False},
        "seed": {"seed": 7}, "webhook_url": {"webhook_url": HOOK},
        "callback_url": {"callback_url": HOOK}, "end_user_id": {"end_user_id": "u1"},
    }  # fmt: skip
    return {**common, **extra}


DIALECTS = [
    Dialect(
        "native", "/v1/videos", {"prompt": "a red kite over the sea"},
        NATIVE_FIELDS.documented, "native.md",
        honoured={
            "prompt": {"prompt": "a kite"}, "model": {"model": "ok"}, "seconds": {"seconds": 3},
            "size": {"size": "480x480"}, "resolution": {"resolution": "480p"},
            "aspect_ratio": {"aspect_ratio": "1:1"},
            "input_reference": {"input_reference": {"image_url": IMG}},
            "references": {"references": [{"type": "image", "url": IMG, "role": "reference"}]},
            "generate_audio": {"generate_audio": False}, "seed": {"seed": 7},
            "codec": {"codec": "h265"}, "return_last_frame": {"return_last_frame": True},
            # alpha output: with an alpha codec, on an engine that renders it (preview)
            "alpha": {"alpha": True, "codec": "vp9", "model": "preview",
                      "references": [{"type": "image", "url": IMG}]},
            "webhook_url": {"webhook_url": HOOK},
            "webhook_progress": {"webhook_progress": True, "webhook_url": HOOK},
            "metadata": {"metadata": {"order": "42"}}, "end_user_id": {"end_user_id": "u1"},
            "execution_expires_after": {"execution_expires_after": 3600},
        },
    ),
    Dialect(
        "ark", "/api/v3/contents/generations/tasks",
        {"model": "ok", "content": [{"type": "text", "text": "a red kite over the sea"}]},
        ARK_FIELDS.documented, "ark.md",
        honoured={
            "model": {"model": "ok"},
            "content": {"content": [
                {"type": "text", "text": "@Image1 flies over @Video1"},
                {"type": "image_url", "image_url": {"url": IMG}, "role": "reference_image"},
                {"type": "video_url", "video_url": {"url": VID}, "role": "reference_video"},
                {"type": "audio_url", "audio_url": {"url": AUD}, "role": "reference_audio"},
            ]},
            "resolution": {"resolution": "480p"}, "ratio": {"ratio": "1:1"},
            "duration": {"duration": 3}, "seed": {"seed": 7},
            "generate_audio": {"generate_audio": False},
            "return_last_frame": {"return_last_frame": True},
            "callback_url": {"callback_url": HOOK},
            "execution_expires_after": {"execution_expires_after": 3600},
            "safety_identifier": {"safety_identifier": "u1"},
            "camera_fixed": {"camera_fixed": True},
        },
        unsupported={"frames": 121, "draft": True, "service_tier": "flex",
                     "output_format": "webm"},
        warned={"watermark": True, "priority": 5, "tools": [{"type": "web_search"}],
                "omni_reference_task_type": "multi_ref"},
    ),
    Dialect(
        "eachlabs", "/v1/prediction", {"model": "ok", "input": {"prompt": "a red kite"}},
        TOP_FIELDS.documented | INPUT_FIELDS.documented, "flat.md",
        honoured={
            "prompt": {"prompt": "a red kite"}, "image_urls": {"image_urls": [IMG]},
            "video_urls": {"video_urls": [VID]},
            "audio_urls": {"audio_urls": [AUD], "image_urls": [IMG]},
            "resolution": {"resolution": "480p"}, "duration": {"duration": "3"},
            "aspect_ratio": {"aspect_ratio": "1:1"}, "generate_audio": {"generate_audio": False},
            "seed": {"seed": "7"}, "end_user_id": {"end_user_id": "u1"},
        },
        top={"model": {"model": "ok"}, "input": {"input": {"prompt": "a kite"}},
             "webhook_url": {"webhook_url": HOOK}, "version": {"version": "0.0.1"}},
        unsupported={"webhook_secret": "whsec_abc"},
        nested="input",
    ),
    Dialect(
        "seed000", "/seedance/v1/generate", {"prompt": "a red kite over the sea"},
        seed000.SHAPE.fields().documented, "seed-000.md",
        honoured=_flat(reference_images={"reference_images": [RAW_IMG]}),
    ),
    Dialect(
        "seed001", "/v2/generate/video", {"prompt": "a red kite over the sea"},
        seed001.SHAPE.fields().documented, "seed-001.md",
        honoured=_flat(image_url={"image_url": IMG}, image_urls={"image_urls": [IMG]}),
        unsupported={"motion_strength": 0.7},
    ),
    Dialect(
        "seed002", "/v1/bytedance/seedance-2.0/reference-to-video",
        {"prompt": "a red kite over the sea"}, seed002.SHAPE.fields().documented, "seed-002.md",
        honoured=_flat(
            reference_images={"reference_images": [IMG]}, image_urls={"image_urls": [IMG]},
            reference_videos={"reference_videos": [VID]}, video_urls={"video_urls": [VID]},
            reference_audio={"reference_audio": [AUD], "reference_images": [IMG]},
            reference_audios={"reference_audios": [AUD], "reference_images": [IMG]},
            audio_urls={"audio_urls": [AUD], "reference_images": [IMG]},
        ),
    ),
    *(
        Dialect(
            name, path, {"prompt": "a red kite over the sea"},
            seed004.SHAPE.fields().documented, "seed-004.md",
            honoured=_flat(
                fps={"fps": 24}, mode={"mode": "r2v", "image_url": IMG},
                image_url={"image_url": IMG}, image={"image": RAW_IMG},
                image_urls={"image_urls": [IMG]},
            ),
        )
        for name, path in (("seed004", "/v2/generations"),
                           ("atlascloud", "/v1/video/generations"))
    ),
]  # fmt: skip
BY_NAME = {d.name: d for d in DIALECTS}


def misspell(name: str) -> str:
    """`resolution` -> `resoultion`: two middle letters swapped (or one doubled)."""
    i = len(name) // 2
    twin = name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    return twin if twin != name else name + name[-1]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Creates are stored, not rendered (no workers): every check here is made before the 202."""
    settings = make_settings(
        tmp_path_factory.mktemp("strict") / "data",
        run_workers=False, creates_per_minute=100_000, max_active_jobs=100_000,
    )  # fmt: skip
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


def error_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(our code, param) from any dialect's error body."""
    err = body["error"] if isinstance(body.get("error"), dict) else body
    return err.get("reelforge_code") or err.get("code"), err.get("param")


def job_id(body: dict[str, Any]) -> str:
    return str(body.get("predictionID") or body.get("id") or body.get("job_id"))


def accepted(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST, assert accepted, return the native Video object of the job."""
    r = client.post(path, json=body)
    assert r.status_code in (200, 201, 202), (path, body.keys(), r.text[:500])
    return dict(client.get(f"/v1/videos/{job_id(r.json())}").json())


def refused(client: TestClient, r: Any, code: str, param: str) -> None:
    assert r.status_code == 400, r.text[:500]
    assert error_of(r.json()) == (code, param), r.text[:500]
    assert param in r.text  # the message names it too


def _cases(kind: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for d in DIALECTS:
        names = {
            "honoured": [*d.honoured, *d.top],
            "unsupported": list(d.unsupported),
            "warned": list(d.warned),
            "misspelt": [*d.honoured, *d.top, *d.unsupported, *d.warned],
        }[kind]
        rows += [(d.name, n) for n in names]
    return rows


def _ids(rows: list[tuple[str, str]]) -> list[str]:
    return [f"{d}-{f}" for d, f in rows]


@pytest.mark.parametrize("dialect", [d.name for d in DIALECTS])
def test_the_table_covers_the_dialects_field_list_and_its_docs(dialect: str) -> None:
    d = BY_NAME[dialect]
    table = {*d.honoured, *d.top, *d.unsupported, *d.warned}
    assert table == d.documented, table ^ d.documented
    page = (ROOT / "docs/api" / d.docs).read_text(encoding="utf-8")
    ticked = set(re.findall(r"`(?:input\.)?([a-z_]+)", page))
    assert not sorted(table - ticked), f"{d.docs} does not name {sorted(table - ticked)}"


HONOURED = _cases("honoured")


@pytest.mark.parametrize(("dialect", "name"), HONOURED, ids=_ids(HONOURED))
def test_a_documented_field_is_honoured(client: TestClient, dialect: str, name: str) -> None:
    d = BY_NAME[dialect]
    top = name in d.top
    video = accepted(client, d.path, d.body((d.top if top else d.honoured)[name], top=top))
    assert video["warnings"] == []
    if name in SHOWN:
        key, value = SHOWN[name]
        assert video[key] == value, (name, video)


UNSUPPORTED = _cases("unsupported")


@pytest.mark.parametrize(("dialect", "name"), UNSUPPORTED, ids=_ids(UNSUPPORTED))
def test_an_unsupported_field_is_refused(client: TestClient, dialect: str, name: str) -> None:
    d = BY_NAME[dialect]
    top = d.nested != "" and name in TOP_FIELDS.unsupported
    r = client.post(d.path, json=d.body({name: d.unsupported[name]}, top=top))
    refused(client, r, codes.INVALID_REQUEST_UNSUPPORTED_PARAMETER, d.param(name, top=top))
    # null is "not given" (the Ark SDKs send every field, null when unset)
    accepted(client, d.path, d.body({name: None}, top=top))


WARNED = _cases("warned")


@pytest.mark.parametrize(("dialect", "name"), WARNED, ids=_ids(WARNED))
def test_a_field_the_sdk_always_sends_is_accepted_with_a_warning(
    client: TestClient, dialect: str, name: str
) -> None:
    d = BY_NAME[dialect]
    video = accepted(client, d.path, d.body({name: d.warned[name]}))
    assert [(w["code"], w["param"]) for w in video["warnings"]] == [(codes.IGNORED_PARAMETER, name)]
    assert accepted(client, d.path, d.body({name: None}))["warnings"] == []


MISSPELT = _cases("misspelt")


@pytest.mark.parametrize(("dialect", "name"), MISSPELT, ids=_ids(MISSPELT))
def test_a_misspelt_twin_is_refused_naming_it(client: TestClient, dialect: str, name: str) -> None:
    d = BY_NAME[dialect]
    top = name in d.top or (d.nested != "" and name in d.unsupported)
    twin = misspell(name)
    assert twin not in d.documented
    value = (d.top if name in d.top else d.honoured).get(name, {}).get(name, "x")
    r = client.post(d.path, json=d.body({twin: value}, top=top))
    refused(client, r, codes.INVALID_REQUEST_UNKNOWN_PARAMETER, d.param(twin, top=top))


# ---- what the issue lists, and the native API's multipart form -----------------------------

ISSUE_FIELDS = {"resolutoin": "1080p", "fps": 30, "n": 2, "negative_prompt": "blur",
                "output_format": "webm", "duration": 10, "ratio": "9:16"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ISSUE_FIELDS))
def test_the_issues_fields_are_refused_on_the_native_api(client: TestClient, name: str) -> None:
    value = ISSUE_FIELDS[name]
    code = codes.INVALID_REQUEST_UNKNOWN_PARAMETER
    refused(client, client.post("/v1/videos", json={"prompt": "p", name: value}), code, name)
    form = {"prompt": "p", name: str(value)}
    refused(client, client.post("/v1/videos", data=form), code, name)
    refused(client, client.post("/v1/videos/quote", json={"prompt": "p", name: value}), code, name)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


NATIVE = list(BY_NAME["native"].honoured)


@pytest.mark.parametrize("name", NATIVE)
def test_native_multipart_fields(client: TestClient, name: str) -> None:
    """Every native field as a form field is honoured, and its misspelt twin refused."""
    fields = {k: _form_value(v) for k, v in BY_NAME["native"].honoured[name].items()}
    r = client.post("/v1/videos", data={"prompt": "a kite", **fields})
    assert r.status_code == 202, r.text[:500]
    if name in SHOWN:
        key, value = SHOWN[name]
        assert r.json()[key] == value
    twin = misspell(name)
    r = client.post("/v1/videos", data={"prompt": "a kite", twin: fields[name]})
    refused(client, r, codes.INVALID_REQUEST_UNKNOWN_PARAMETER, twin)


@pytest.mark.parametrize("name", sorted(UPLOAD_FIELDS.known))
def test_native_multipart_file_fields(client: TestClient, name: str) -> None:
    media = {"video": VID, "audio": AUD}.get(name.rstrip("s"), IMG)
    files = [(name, ("ref.bin", base64.b64decode(media.split(",", 1)[1]), "text/plain"))]
    if media is AUD:  # audio needs a picture
        files.append(("image", ("ref.png", PNG, "image/png")))
    r = client.post("/v1/videos", data={"prompt": "a kite"}, files=files)
    assert r.status_code == 202, (name, r.text[:500])
    twin = misspell(name)
    r = client.post("/v1/videos", data={"prompt": "a kite"},
                    files=[(twin, ("ref.png", PNG, "image/png"))])  # fmt: skip
    refused(client, r, codes.INVALID_REQUEST_UNKNOWN_PARAMETER, twin)


def _nested_cases() -> list[tuple[str, str, dict[str, Any], str]]:
    """(case, path, body, param) for names inside objects: the native `references[i]` and
    `input_reference`, Ark's `content[i]` items and their url objects."""
    ref: dict[str, Any] = {"type": "image", "url": IMG, "role": "reference"}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        (f"references.{misspell(k)}", "/v1/videos",
         {"prompt": "p", "references": [{misspell(k) if n == k else n: v
                                         for n, v in ref.items()}]},
         f"references[0].{misspell(k)}")
        for k in ref
    ]  # fmt: skip
    cases.append(("references.file_idd", "/v1/videos",
                  {"prompt": "p", "references": [{"type": "image", "file_idd": "file_1"}]},
                  "references[0].file_idd"))  # fmt: skip
    cases.append(("input_reference.image_ulr", "/v1/videos",
                  {"prompt": "p", "input_reference": {"image_ulr": IMG}},
                  "input_reference.image_ulr"))  # fmt: skip
    text: dict[str, Any] = {"type": "text", "text": "a kite"}
    image: dict[str, Any] = {"type": "image_url", "image_url": {"url": IMG}}
    image["role"] = "reference_image"
    for one in (text, image):
        for k in one:
            twin = {misspell(k) if n == k else n: v for n, v in one.items()}
            content = [twin] if one is text else [text, twin]
            cases.append((f"content.{one['type']}.{misspell(k)}",
                          "/api/v3/contents/generations/tasks",
                          {"model": "ok", "content": content},
                          f"content[{len(content) - 1}].{misspell(k)}"))  # fmt: skip
    for kind in ("image_url", "video_url", "audio_url"):
        item: dict[str, Any] = {"type": kind, kind: {"ulr": IMG}, "role": "reference_image"}
        cases.append(
            (
                f"content.{kind}.ulr",
                "/api/v3/contents/generations/tasks",
                {"model": "ok", "content": [text, item]},
                f"content[1].{kind}.ulr",
            )
        )
    return cases


NESTED = _nested_cases()


@pytest.mark.parametrize(("path", "body", "param"), [c[1:] for c in NESTED],
                         ids=[c[0] for c in NESTED])  # fmt: skip
def test_misspelt_names_inside_objects_are_refused(
    client: TestClient, path: str, body: dict[str, Any], param: str
) -> None:
    refused(client, client.post(path, json=body), codes.INVALID_REQUEST_UNKNOWN_PARAMETER, param)


def test_nested_field_lists_match_the_tables() -> None:
    assert REFERENCE_FIELDS.documented == {"type", "url", "file_id", "data", "role"}
    assert URL_FIELDS.documented == {"url"}
    assert {k: set(v.documented) for k, v in ITEM_FIELDS.items()} == {
        "text": {"type", "text"}, "draft_task": {"type", "draft_task"},
        "image_url": {"type", "image_url", "role"}, "video_url": {"type", "video_url", "role"},
        "audio_url": {"type", "audio_url", "role"},
    }  # fmt: skip
    assert EACHLABS_SHAPE.dialect == "eachlabs"


def test_an_ark_body_as_the_sdks_send_it_has_no_warnings(client: TestClient) -> None:
    """byteplus / volcengine send every optional field as null: nothing is refused or warned."""
    body: dict[str, Any] = {name: None for name in ARK_FIELDS.documented}
    body.update(model="ok", content=[{"type": "text", "text": "a kite --wm false"}])
    body.update(watermark=False, service_tier="default", draft=False, output_format="mp4",
                tools=[])  # fmt: skip
    assert accepted(client, "/api/v3/contents/generations/tasks", body)["warnings"] == []
    flagged = {"model": "ok", "content": [{"type": "text", "text": "a kite --wm true"}]}
    video = accepted(client, "/api/v3/contents/generations/tasks", flagged)
    assert [w["code"] for w in video["warnings"]] == [codes.IGNORED_PARAMETER]


def test_hints_for_names_from_other_apis() -> None:
    """The messages point at the field this dialect uses instead of guessing."""
    check: Callable[[Fields, str], str] = lambda fields, name: fields.hints.get(name, "")  # noqa: E731
    assert "seconds" in check(NATIVE_FIELDS, "duration")
    assert "aspect_ratio" in check(NATIVE_FIELDS, "ratio")
    assert "ratio" in check(ARK_FIELDS, "aspect_ratio")
    assert "duration" in check(seed000.SHAPE.fields(), "seconds")


# ---- the real SDKs see the refusals and the warnings --------------------------------------


def test_the_vendor_sdks_see_the_refusals_and_the_warnings(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """openai, byteplus and volcengine, unchanged, against a real server: a misspelt field in
    `extra_body` raises the SDK's BadRequest error with our code and the field; an Ark SDK
    field that does not change the video creates the task and the job lists the warning."""
    data = tmp_path_factory.mktemp("strict_sdk") / "data"
    with running_reelforge(data, run_workers=False) as base_url:
        oai = openai.OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY, max_retries=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK's Sora deprecation notice
            with pytest.raises(openai.BadRequestError) as raised:
                oai.videos.create(prompt="a kite", extra_body={"resolutoin": "480p"})
        assert (raised.value.code, raised.value.param) == (
            codes.INVALID_REQUEST_UNKNOWN_PARAMETER, "resolutoin",
        )  # fmt: skip
        for module in (byteplussdkarkruntime, volcenginesdkarkruntime):
            ark = module.Ark(base_url=f"{base_url}/api/v3", api_key=ADMIN_KEY, max_retries=0)
            content = [{"type": "text", "text": "a kite"}]
            with pytest.raises(module._exceptions.ArkBadRequestError) as bad:
                ark.content_generation.tasks.create(
                    model="ok", content=content, extra_body={"aspect_ratio": "1:1"}
                )
            assert (bad.value.code, bad.value.param) == ("InvalidParameter", "aspect_ratio")
            assert bad.value.body["reelforge_code"] == codes.INVALID_REQUEST_UNKNOWN_PARAMETER
            with pytest.raises(module._exceptions.ArkBadRequestError) as flex:
                ark.content_generation.tasks.create(model="ok", content=content, frames=121)
            assert flex.value.body["reelforge_code"] == codes.INVALID_REQUEST_UNSUPPORTED_PARAMETER
            task = ark.content_generation.tasks.create(model="ok", content=content, priority=5)
            video = requests.get(
                f"{base_url}/v1/videos/{task.id}", headers={"X-API-Key": ADMIN_KEY}, timeout=10
            ).json()
            assert [w["param"] for w in video["warnings"]] == ["priority"]
