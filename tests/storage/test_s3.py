"""S3Storage against a real S3-compatible server (moto's standalone server on loopback), and a
job end to end through the native API with its outputs and references in the bucket."""

from __future__ import annotations

import hashlib
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import boto3
import httpx
import pytest
import requests
from moto.server import ThreadedMotoServer
from PIL import Image

from reelforge.client import Client
from reelforge.errors import InvalidRequest, NotFound
from reelforge.settings import Settings
from reelforge.storage.registry import open_storage
from reelforge.storage.s3 import S3Options, S3Storage
from tests.conftest import ADMIN_KEY, make_settings
from tests.dialects.server import free_port, running_reelforge
from tests.storage.contract import BAD_KEYS, check_contract

pytestmark = pytest.mark.s3

CREDENTIALS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}
_AWS_ENV = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)  # fmt: skip


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port; boto3 sees no AWS configuration of the host
    and never asks an instance-metadata service for credentials."""
    with pytest.MonkeyPatch.context() as mp:
        for name in _AWS_ENV:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3(endpoint: str) -> Any:
    """A plain boto3 client of the server, to look at the bucket from outside the backend."""
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"rf-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def s3_settings(data_dir: Path, endpoint: str, url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "storage_url": url,
        "s3_endpoint_url": endpoint,
        "s3_region": "us-east-1",
        "s3_addressing_style": "path",
        **CREDENTIALS,
    }
    values.update(overrides)
    return make_settings(data_dir, **values)


@pytest.fixture
def storage(endpoint: str, bucket: str, tmp_path: Path) -> S3Storage:
    settings = s3_settings(tmp_path / "data", endpoint, f"s3://{bucket}/pre/fix")
    opened = open_storage(settings.resolved_storage_url, settings, settings.data_dir / "cache")
    assert isinstance(opened, S3Storage)
    return opened


def bucket_keys(s3: Any, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {obj["Key"] for page in pages for obj in page.get("Contents", ())}


# ---- the backend -------------------------------------------------------------------------


def test_contract(storage: S3Storage, tmp_path: Path) -> None:
    check_contract(storage, tmp_path)


def test_objects_live_under_the_prefix_with_a_content_type(
    storage: S3Storage, s3: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "v.mp4"
    source.write_bytes(b"\x00" * 100)
    storage.put_file("outputs/job_1/video.mp4", source)
    storage.put_bytes("refs/" + "a" * 64, b"ref")
    assert bucket_keys(s3, bucket) == {
        "pre/fix/outputs/job_1/video.mp4",
        "pre/fix/refs/" + "a" * 64,
    }
    head = s3.head_object(Bucket=bucket, Key="pre/fix/outputs/job_1/video.mp4")
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] == 100


def test_large_files_go_up_in_parts(endpoint: str, bucket: str, s3: Any, tmp_path: Path) -> None:
    mib = 1024 * 1024
    options = S3Options(
        endpoint_url=endpoint, region="us-east-1", access_key_id="testing",
        secret_access_key="testing", addressing_style="path",
        multipart_threshold=5 * mib, multipart_chunksize=5 * mib,
    )  # fmt: skip
    storage = S3Storage(bucket, "", tmp_path / "cache", options)
    data = os.urandom(11 * mib)
    source = tmp_path / "big.mp4"
    source.write_bytes(data)
    storage.put_file("outputs/big/video.mp4", source)
    etag = s3.head_object(Bucket=bucket, Key="outputs/big/video.mp4")["ETag"].strip('"')
    assert etag.endswith("-3")  # a multipart upload of 3 parts
    assert storage.size("outputs/big/video.mp4") == len(data)
    got = storage.local_path("outputs/big/video.mp4")
    assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_local_path_caches_and_notices_changes(
    storage: S3Storage, tmp_path: Path, bucket: str
) -> None:
    storage.put_bytes("outputs/j/video.mp4", b"first")
    path = storage.local_path("outputs/j/video.mp4")
    cache = tmp_path / "data" / "cache" / "s3" / bucket / "pre" / "fix"
    assert path == (cache / "outputs" / "j" / "video.mp4").resolve()
    assert path.read_bytes() == b"first"
    path.write_bytes(b"FIRST")  # same size: the cached copy is reused, not fetched again
    assert storage.local_path("outputs/j/video.mp4").read_bytes() == b"FIRST"
    storage.put_bytes("outputs/j/video.mp4", b"second, longer")
    assert storage.local_path("outputs/j/video.mp4").read_bytes() == b"second, longer"
    assert not [p for p in cache.rglob("*") if p.name.startswith(".tmp-")]
    storage.client.delete_object(Bucket=bucket, Key="pre/fix/outputs/j/video.mp4")
    with pytest.raises(NotFound):  # gone from the store: a stale cached copy is not served
        storage.local_path("outputs/j/video.mp4")
    storage.put_bytes("outputs/j/video.mp4", b"third")
    storage.local_path("outputs/j/video.mp4")
    storage.delete_prefix("outputs/j")  # also drops this machine's cached copies
    assert not (cache / "outputs" / "j").exists()


def test_invalid_keys_are_refused_before_any_request(
    storage: S3Storage, s3: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    for key in BAD_KEYS:
        for call in _every_call(storage, key, source):
            with pytest.raises(InvalidRequest) as info:
                call()
            assert info.value.code == "invalid_request.storage_key"
    assert bucket_keys(s3, bucket) == set()
    assert not (tmp_path / "data" / "cache").exists()


def _every_call(storage: S3Storage, key: str, source: Path) -> list[Callable[[], object]]:
    return [
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.put_file(key, source),
        lambda: storage.exists(key),
        lambda: storage.size(key),
        lambda: storage.local_path(key),
        lambda: storage.open_chunks(key),
        lambda: storage.delete_prefix(key),
        lambda: storage.download_url(key, 60, "x.mp4", "video/mp4"),
    ]


def test_presigned_download_url(storage: S3Storage, endpoint: str) -> None:
    storage.put_bytes("outputs/j/video.mp4", b"movie bytes")
    url = storage.download_url("outputs/j/video.mp4", 300, "video_j.mp4", "video/mp4")
    assert url is not None and url.startswith(f"{endpoint}/")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == b"movie bytes"
    assert got.headers["content-type"] == "video/mp4"
    assert got.headers["content-disposition"] == 'attachment; filename="video_j.mp4"'


def test_presigned_links_name_the_public_endpoint(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    """The service talks to the store at `s3_endpoint_url`; clients get links to the public
    endpoint (here the same server under another name, which the signature must cover)."""
    public = endpoint.replace("127.0.0.1", "localhost")
    settings = s3_settings(tmp_path, endpoint, f"s3://{bucket}", s3_public_endpoint_url=public)
    storage = open_storage(settings.resolved_storage_url, settings, settings.data_dir / "cache")
    assert isinstance(storage, S3Storage)
    storage.put_bytes("outputs/j/video.mp4", b"movie bytes")
    url = storage.download_url("outputs/j/video.mp4", 300, "video_j.mp4", "video/mp4")
    assert url is not None and url.startswith(f"{public}/")
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == b"movie bytes"


def test_settings_and_urls(endpoint: str, bucket: str, tmp_path: Path) -> None:
    off = s3_settings(tmp_path, endpoint, f"s3://{bucket}", s3_presign_downloads=False)
    storage = open_storage(off.resolved_storage_url, off, off.data_dir / "cache")
    assert isinstance(storage, S3Storage) and storage.prefix == ""
    storage.put_bytes("refs/x", b"x")
    assert storage.download_url("refs/x", 60, "x", "image/png") is None
    for url in ("s3://", "s3:///prefix", "s3://bucket/../up", "s3://bucket/a b", "s3://b/x"):
        with pytest.raises(ValueError):
            open_storage(url, off, off.data_dir / "cache")
    half = s3_settings(tmp_path, endpoint, f"s3://{bucket}", s3_secret_access_key=None)
    with pytest.raises(ValueError, match="both"):
        open_storage(half.resolved_storage_url, half, half.data_dir / "cache")


def test_credentials_from_the_standard_aws_chain(
    endpoint: str, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    settings = make_settings(
        tmp_path, storage_url=f"s3://{bucket}/p", s3_endpoint_url=endpoint,
        s3_addressing_style="path",
    )  # fmt: skip
    storage = open_storage(settings.resolved_storage_url, settings, settings.data_dir / "cache")
    assert isinstance(storage, S3Storage)
    storage.put_bytes("refs/env", b"ok")
    assert storage.exists("refs/env")
    url = storage.download_url("refs/env", 60, "env", "application/octet-stream")
    assert url is not None and "X-Amz-Credential=from-env%2F" in url and "%2Feu-west-1%2F" in url


# ---- a job end to end ----------------------------------------------------------------------


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 160, 90)).save(buf, format="PNG")
    return buf.getvalue()


def _wait_completed(api: httpx.Client, video_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(f"/v1/videos/{video_id}").json()
        if body["status"] in {"completed", "failed", "canceled", "expired"}:
            assert body["status"] == "completed", body
            return body
        assert time.monotonic() < deadline, f"timed out waiting on {video_id}: {body}"
        time.sleep(0.05)


def _frames(data: bytes, tmp_path: Path) -> tuple[int, int, int]:
    path = tmp_path / f"{uuid.uuid4().hex}.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        frames = sum(1 for _ in container.decode(video=0))
    return size[0], size[1], frames


def test_job_end_to_end_on_s3(endpoint: str, bucket: str, s3: Any, tmp_path: Path) -> None:
    png = _png()
    with running_reelforge(
        tmp_path / "data", storage_url=f"s3://{bucket}/rf", s3_endpoint_url=endpoint,
        s3_region="us-east-1", s3_addressing_style="path", **CREDENTIALS,
    ) as base_url, httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ) as api:  # fmt: skip
        created = api.post(
            "/v1/videos",
            data={"prompt": "slow push in on @Image1", "seconds": "1", "size": "854x480"},
            files=[("input_reference", ("ref.png", png, "image/png"))],
        )
        assert created.status_code == 202, created.text
        vid = created.json()["id"]
        done = _wait_completed(api, vid)
        assert done["engine"] == "ok"

        ref_key = f"rf/refs/{hashlib.sha256(png).hexdigest()}"
        outputs = {
            f"rf/outputs/{vid}/{n}" for n in ("video.mp4", "thumbnail.jpg", "last_frame.png")
        }
        assert outputs | {ref_key} <= bucket_keys(s3, bucket)

        # The signed link answers 307 to a presigned URL of the object...
        signed = done["urls"]["video"]
        redirect = httpx.get(signed)
        assert redirect.status_code == 307
        assert redirect.headers["location"].startswith(f"{endpoint}/{bucket}/rf/outputs/{vid}/")
        # ...which plain clients follow by default (requests) or when asked (httpx, curl -L).
        video = httpx.get(signed, follow_redirects=True)
        assert video.status_code == 200, video.text
        assert video.headers["content-type"] == "video/mp4"
        assert video.headers["content-disposition"] == f'attachment; filename="{vid}.mp4"'
        assert _frames(video.content, tmp_path) == (854, 480, 24)
        assert requests.get(signed, timeout=30).content == video.content
        thumb = httpx.get(done["urls"]["thumbnail"], follow_redirects=True)
        assert Image.open(io.BytesIO(thumb.content)).size == (854, 480)

        # The SDK downloads with its API key header (httpx drops it on the cross-origin hop).
        with Client(base_url, api_key=ADMIN_KEY) as sdk:
            path = sdk.download(vid, tmp_path / "sdk.mp4")
        assert path.read_bytes() == video.content

        deleted = api.delete(f"/v1/videos/{vid}")
        assert deleted.status_code == 200, deleted.text
        keys = bucket_keys(s3, bucket)
        assert not [k for k in keys if k.startswith(f"rf/outputs/{vid}/")]
        assert ref_key in keys  # references are shared by content hash, not owned by a job
        assert httpx.get(signed).status_code == 404


def test_downloads_pass_through_the_api_when_presigning_is_off(
    endpoint: str, bucket: str, tmp_path: Path
) -> None:
    with running_reelforge(
        tmp_path / "data", storage_url=f"s3://{bucket}", s3_endpoint_url=endpoint,
        s3_region="us-east-1", s3_addressing_style="path", s3_presign_downloads=False,
        **CREDENTIALS,
    ) as base_url, httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ) as api:  # fmt: skip
        vid = api.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "480x854"}).json()[
            "id"
        ]
        signed = _wait_completed(api, vid)["urls"]["video"]
        video = httpx.get(signed)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        assert _frames(video.content, tmp_path) == (480, 854, 24)
        ranged = httpx.get(signed, headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206 and len(ranged.content) == 100
