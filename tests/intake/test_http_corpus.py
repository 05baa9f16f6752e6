"""The reference corpus over HTTP: every broken, hostile or out-of-limits reference gets a 4xx
with its own code, naming the reference, in under a second, on create and on quote alike; the
server stays healthy. Valid references of every allowed format pass.

The corpus is generated once per session (tests/intake/conftest.py); only the requests are
timed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import wait_terminal

Corpus = dict[str, bytes]
Request = dict[str, Any]

ENDPOINTS = ("/v1/videos", "/v1/videos/quote")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ref(kind: str, data: bytes, role: str | None = None) -> dict[str, str]:
    item = {"type": kind, "data": b64(data)}
    if role:
        item["role"] = role
    return item


def as_json(*refs: dict[str, str], prompt: str = "a slow push in") -> Request:
    return {"json": {"prompt": prompt, "seconds": 4, "references": list(refs)}}


def as_multipart(
    files: list[tuple[str, str, bytes]], prompt: str = "a slow push in", **fields: str
) -> Request:
    return {
        "data": {"prompt": prompt, "seconds": "4", **fields},
        "files": [(field, (name, data, "application/octet-stream")) for field, name, data in files],
    }


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Corpus], Request]
    status: int
    code: str
    param: str = "references[0]"
    index: int | None = 0
    says: tuple[str, ...] = ()  # the message names the value and the limit


CASES = [
    # cut short: fails at create time, not minutes later in a worker
    Case("truncated_png", lambda c: as_json(ref("image", c["png_cut"])), 422,
         "invalid_reference.truncated", says=("cut short", "IDAT")),
    Case("truncated_jpeg", lambda c: as_json(ref("image", c["jpeg_cut"])), 422,
         "invalid_reference.truncated", says=("truncated",)),
    Case("truncated_mp4", lambda c: as_json(ref("video", c["mp4_cut"])), 422,
         "invalid_reference.truncated", says=("mdat",)),
    Case("truncated_mp4_box_fixed_up", lambda c: as_json(ref("video", c["mp4_lying_mdat"])), 422,
         "invalid_reference.truncated", says=("72 frames",)),
    Case("truncated_mp3",
         lambda c: as_json(ref("image", c["png"]), ref("audio", c["mp3_cut"])), 422,
         "invalid_reference.truncated", "references[1]", 1, says=("bytes of audio",)),
    Case("truncated_wav",
         lambda c: as_json(ref("image", c["png"]), ref("audio", c["wav_cut"])), 422,
         "invalid_reference.truncated", "references[1]", 1, says=("data chunk",)),
    # what the bytes are versus what the client said
    Case("wrong_magic_for_extension",
         lambda c: as_multipart([("image", "photo.png", c["jpeg"])]), 400,
         "invalid_reference.extension_mismatch", says=("photo.png", "JPEG")),
    Case("data_uri_mime_mismatch",
         lambda c: as_json({"type": "image", "url": "data:image/png;base64," + b64(c["jpeg"])}),
         400, "invalid_reference.mime_mismatch", says=("image/png", "JPEG")),
    Case("video_bytes_given_as_image", lambda c: as_json(ref("image", c["mp4_3s"])), 400,
         "invalid_reference.kind_mismatch", says=("MP4",)),
    Case("html_given_as_image", lambda c: as_json(ref("image", c["text"])), 422,
         "invalid_reference.format", says=("<!DOCTYPE", "JPEG, PNG")),
    Case("matroska_video", lambda c: as_json(ref("video", c["mkv"])), 422,
         "invalid_reference.format", says=("MKV", "MP4, MOV")),
    Case("codec_not_allowed", lambda c: as_json(ref("video", c["mp4_mpeg2"])), 422,
         "invalid_reference.codec", says=("mpeg2video", "h264")),
    Case("zero_byte_upload", lambda c: as_multipart([("image", "empty.png", b"")]), 400,
         "invalid_reference.empty", says=("0 bytes",)),
    Case("zero_byte_data_uri",
         lambda c: as_json({"type": "image", "url": "data:image/png;base64,"}), 400,
         "invalid_reference.empty", says=("0 bytes",)),
    # sizes, lengths, rates, shapes
    Case("png_header_30000x30000", lambda c: as_json(ref("image", c["png_bomb"])), 422,
         "invalid_reference.image_too_many_pixels", says=("900,000,000", "36,000,000")),
    Case("mp4_claiming_two_hours", lambda c: as_json(ref("video", c["mp4_2h"])), 400,
         "invalid_reference.video_too_long", says=("7,200", "15 s")),
    Case("videos_10s_plus_8s",
         lambda c: as_json(ref("video", c["mp4_10s"]), ref("video", c["mp4_8s"])), 400,
         "invalid_reference.videos_total_too_long", "references[1]", 1,
         says=("10 + 8 = 18 s", "15 s")),
    Case("image_200x200", lambda c: as_json(ref("image", c["png_200"])), 400,
         "invalid_reference.image_too_small", says=("200x200", "300 px")),
    Case("panorama_8_to_1", lambda c: as_json(ref("image", c["png_panorama"])), 400,
         "invalid_reference.image_aspect", says=("2400x300", "8.00", "0.4..2.5")),
    Case("video_320x240", lambda c: as_json(ref("video", c["mp4_320"])), 400,
         "invalid_reference.video_too_few_pixels", says=("320x240", "409,600")),
    Case("video_12fps", lambda c: as_json(ref("video", c["mp4_12fps"])), 400,
         "invalid_reference.video_fps_too_low", says=("12 fps", "24..60")),
    Case("video_1s", lambda c: as_json(ref("video", c["mp4_1s"])), 400,
         "invalid_reference.video_too_short", says=("1 s", "2 s")),
    Case("audio_20s",
         lambda c: as_json(ref("image", c["png"]), ref("audio", c["mp3_20s"])), 400,
         "invalid_reference.audio_too_long", "references[1]", 1, says=("20", "15 s")),
    # counts and modes
    Case("ten_images", lambda c: as_json(*[ref("image", c["png"])] * 10), 400,
         "invalid_reference.too_many_images", "references", 9, says=("10 image", "at most 9")),
    Case("thirteen_files",
         lambda c: as_multipart(
             [("image", f"{i}.png", c["png"]) for i in range(9)]
             + [("video", f"{i}.mp4", c["mp4_3s"]) for i in range(3)]
             + [("audio", "a.mp3", c["mp3"])]
         ), 400, "invalid_reference.too_many_references", "references", 12,
         says=("13 references", "at most 12")),
    Case("audio_only", lambda c: as_json(ref("audio", c["mp3"]), ref("audio", c["wav"])), 400,
         "invalid_reference.audio_without_visual", says=("no image or video",)),
    Case("first_frame_with_reference_video",
         lambda c: as_json(ref("image", c["png"], "first_frame"), ref("video", c["mp4_3s"])),
         400, "invalid_reference.mode_conflict", "references[1]", 1,
         says=("first_frame", "cannot be mixed")),
    Case("last_frame_alone", lambda c: as_json(ref("image", c["png"], "last_frame")), 400,
         "invalid_reference.last_frame_without_first_frame"),
    Case("two_first_frames",
         lambda c: as_json(ref("image", c["png"], "first_frame"),
                           ref("image", c["jpeg"], "first_frame")),
         400, "invalid_reference.duplicate_frame_role", "references[1]", 1),
    Case("first_frame_on_a_video",
         lambda c: as_json(ref("video", c["mp4_3s"], "first_frame")), 400,
         "invalid_reference.frame_role_kind"),
    # prompt
    Case("mention_of_missing_image",
         lambda c: as_json(ref("image", c["png"]), prompt="@Image2 turns around"), 400,
         "invalid_request.mention", "prompt", None, says=("@Image2", "only 1 image reference")),
    Case("ark_mention_of_missing_video",
         lambda c: as_json(ref("image", c["png"]), prompt="[Video 1] in the rain"), 400,
         "invalid_request.mention", "prompt", None, says=("[Video 1]", "no video reference")),
    Case("prompt_2001_words", lambda c: as_json(prompt="word " * 2001), 400,
         "invalid_request.prompt_too_long", "prompt", None, says=("2,001 tokens", "2,000")),
    Case("prompt_2001_cjk_characters", lambda c: as_json(prompt="猫" * 2001), 400,
         "invalid_request.prompt_too_long", "prompt", None, says=("2,001 tokens", "2,000")),
]  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_is_refused_quickly_with_its_code(
    api: TestClient, corpus: Corpus, case: Case, endpoint: str
) -> None:
    request = case.build(corpus)
    start = time.perf_counter()
    r = api.post(endpoint, **request)
    elapsed = time.perf_counter() - start
    assert r.status_code == case.status, r.text
    err = r.json()["error"]
    assert err["code"] == case.code, err
    assert err["param"] == case.param, err
    assert err["reference_index"] == case.index, err
    for text in case.says:
        assert text in err["message"], (text, err["message"])
    assert r.headers["x-should-retry"] == "false"
    assert elapsed < 1.0, f"{case.name} took {elapsed:.2f} s"


def test_server_is_healthy_and_created_nothing_after_the_corpus(api: TestClient) -> None:
    assert api.get("/healthz").status_code == 200
    assert api.get("/v1/videos").json()["data"] == []


def test_valid_references_of_every_format_pass(api: TestClient, corpus: Corpus) -> None:
    images = [corpus[k] for k in ("jpeg", "png", "webp", "bmp", "tiff", "gif")]
    refs = [ref("image", data) for data in images]
    refs += [ref("video", corpus["mp4_3s_audio"]), ref("video", corpus["mov_3s"])]
    refs += [ref("audio", corpus["mp3"]), ref("audio", corpus["wav"])]
    prompt = "@Image1 meets [Image 6] while @Video2 plays and @Audio2 hums"
    start = time.perf_counter()
    r = api.post("/v1/videos/quote", json={"prompt": prompt, "seconds": 5, "references": refs})
    assert r.status_code == 200, r.text
    assert time.perf_counter() - start < 2.0
    got = r.json()["references"]
    assert [g["mime_type"] for g in got] == [
        "image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff", "image/gif",
        "video/mp4", "video/quicktime", "audio/mpeg", "audio/wav",
    ]  # fmt: skip
    assert [(g["type"], g["index"]) for g in got][5:8] == [("image", 6), ("video", 1),
                                                           ("video", 2)]  # fmt: skip
    assert (got[0]["width"], got[0]["height"]) == (640, 480)
    assert got[6]["seconds"] == pytest.approx(3.0, abs=0.1)
    assert (got[6]["width"], got[6]["height"]) == (640, 640)
    assert got[8]["seconds"] == pytest.approx(3.0, abs=0.1)


def test_first_and_last_frame_mode_passes(api: TestClient, corpus: Corpus) -> None:
    r = api.post(
        "/v1/videos/quote",
        **as_json(ref("image", corpus["png"], "first_frame"),
                  ref("image", corpus["jpeg"], "last_frame")),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert [g["role"] for g in r.json()["references"]] == ["first_frame", "last_frame"]


def test_multipart_upload_with_references_json(api: TestClient, corpus: Corpus) -> None:
    """Uploaded files come first in reference order, then the `references` JSON list."""
    request = as_multipart(
        [("image", "a.png", corpus["png"])],
        prompt="@Image1 and @Image2",
        references=json.dumps([ref("image", corpus["jpeg"])]),
    )
    r = api.post("/v1/videos/quote", **request)
    assert r.status_code == 200, r.text
    assert [g["mime_type"] for g in r.json()["references"]] == ["image/png", "image/jpeg"]


def test_file_ids_are_checked_like_inline_references(api: TestClient, corpus: Corpus) -> None:
    up = api.post("/v1/files", files={"file": ("a.png", corpus["png"], "image/png")})
    assert up.status_code == 200, up.text
    file_id = up.json()["id"]
    for source in (file_id, f"asset://{file_id}"):
        r = api.post(
            "/v1/videos/quote",
            json={"prompt": "@Image1", "references": [{"type": "image", "url": source}]},
        )
        assert r.status_code == 200, r.text
    wrong_kind = api.post(
        "/v1/videos/quote",
        json={"prompt": "x", "references": [{"type": "video", "file_id": file_id}]},
    )
    assert wrong_kind.json()["error"]["code"] == "invalid_reference.kind_mismatch"
    small = api.post("/v1/files", files={"file": ("s.png", corpus["png_200"], "image/png")})
    assert small.status_code == 400, small.text
    err = small.json()["error"]
    assert (err["code"], err["param"]) == ("invalid_reference.image_too_small", "file")


def test_valid_create_completes(api: TestClient, corpus: Corpus) -> None:
    r = api.post(
        "/v1/videos",
        **as_json(ref("image", corpus["png"]), ref("video", corpus["mp4_3s"]),
                  ref("audio", corpus["mp3"]), prompt="@Image1 dances to @Audio1"),
    )  # fmt: skip
    assert r.status_code == 202, r.text
    done = wait_terminal(api, r.json()["id"])
    assert done["status"] == "completed", done
