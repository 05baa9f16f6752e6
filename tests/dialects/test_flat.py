"""The flat each::labs dialect (seed 003) against a real server: the documented curl create
(trailing slash, `X-API-Key`), polling `GET /v1/prediction/{id}` until `success`, the MP4 from
`output` downloaded with a plain GET, `urls.cancel`, the webhook body at a real loopback
receiver, errors in `{status: "error", message, details}` with our code, idempotency, and the
same job in the native API of the same key."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_KEY
from tests.dialects.loopback import Peer, assert_mp4, running_peer
from tests.dialects.server import running_reelforge
from tests.intake.media import image_bytes

MODEL = "bytedance-seedance-2-0-reference-to-video"
TERMINAL = ("success", "error", "cancelled")

# The create example of the seed, as written there (only the base URL and the key differ).
SEED_003_CURL = """curl -X POST https://api.eachlabs.ai/v1/prediction/ \\
  -H "X-API-Key: YOUR_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{ "model": "bytedance-seedance-2-0-reference-to-video", "input": { "prompt": "A vacant \
lot between two red brick English terraced houses slowly transforms over time. First the empty \
overgrown plot with a wooden hoarding fence, then a timber frame skeleton rising with \
scaffolding, finally a fully completed brick house matching the neighbours perfectly. Camera is \
fixed straight-on from across the street, continuous timelapse transition between all three \
stages. Camera is fixed timelapse." } }'"""


class Flat:
    def __init__(self, base_url: str, peer: Peer) -> None:
        self.base_url = base_url
        self.peer = peer
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = ADMIN_KEY

    def create(self, input_: dict[str, Any], **extra: Any) -> requests.Response:
        body = {"model": MODEL, "input": input_, **extra}
        return self.session.post(f"{self.base_url}/v1/prediction/", json=body, timeout=30)

    def get(self, prediction_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}/v1/prediction/{prediction_id}", timeout=15)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def poll(self, prediction_id: str, timeout: float = 30) -> dict[str, Any]:
        """The documented loop: `processing` means poll again."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(prediction_id)
            if body["status"] in TERMINAL:
                return body
            assert body["status"] == "processing", body
            assert time.monotonic() < deadline, body
            time.sleep(0.1)


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flat]:
    data_dir = tmp_path_factory.mktemp("flat") / "data"
    # Loopback reference URLs and the loopback webhook receiver need private addresses allowed.
    with (
        running_peer() as peer,
        running_reelforge(data_dir, allow_private_urls=True, webhook_poll_seconds=0.05) as base,
    ):
        yield Flat(base, peer)


def test_documented_sequence_ends_with_a_playable_mp4(flat: Flat) -> None:
    image = flat.peer.serve("house.jpg", image_bytes(800, 600, "JPEG", 7), "image/jpeg")
    created = flat.create({
        "prompt": "@Image1 the house rises, fixed timelapse",
        "image_urls": [image], "video_urls": None, "audio_urls": [],
        "resolution": "480p", "duration": "2", "aspect_ratio": "16:9",
        "generate_audio": True, "seed": "42", "end_user_id": "user-7",
    })  # fmt: skip
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["status"] == "success" and body["message"]
    prediction_id = body["predictionID"]

    done = flat.poll(prediction_id)
    assert done["status"] == "success", done
    assert done["id"] == done["predictionID"] == prediction_id
    assert done["input"]["prompt"].startswith("@Image1")
    assert done["input"]["seed"] == "42" and done["input"]["duration"] == "2"
    assert isinstance(done["metrics"]["predict_time"], float)
    assert done["metrics"]["cost"] == pytest.approx(2 * 0.1412)
    assert done["urls"]["get"] == f"{flat.base_url}/v1/prediction/{prediction_id}"
    assert done["urls"]["cancel"] == f"{flat.base_url}/v1/prediction/{prediction_id}/cancel"
    assert requests.get(done["urls"]["get"], headers={"X-API-Key": ADMIN_KEY}).ok

    video = requests.get(done["output"], timeout=30)  # absolute, signed, no auth header
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert_mp4(video.content, seconds=2, width=854, height=480)

    native = requests.get(f"{flat.base_url}/v1/videos", timeout=15,
                          headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()  # fmt: skip
    mine = [v for v in native["data"] if v["id"] == prediction_id]
    assert mine and mine[0]["status"] == "completed" and mine[0]["end_user_id"] == "user-7"


def test_seed_curl_example_runs_unchanged(flat: Flat) -> None:
    """The seed's own curl create (only a prompt: duration, ratio and resolution default to
    auto, auto and 720p), then the documented polling."""
    command = SEED_003_CURL.replace("https://api.eachlabs.ai", flat.base_url).replace(
        "YOUR_API_KEY", ADMIN_KEY
    )
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    assert created["status"] == "success"
    done = flat.poll(created["predictionID"])
    assert done["status"] == "success", done
    assert done["input"]["duration"] == "auto"
    data = requests.get(done["output"], timeout=30).content
    native = flat.session.get(f"{flat.base_url}/v1/videos/{done['id']}").json()
    assert_mp4(data, seconds=float(native["seconds"]), width=1280, height=720)
    assert done["warnings"] == native["warnings"]  # the same list in both dialects


def test_webhook_body_arrives_as_documented(flat: Flat) -> None:
    hook = f"{flat.peer.base_url}/hooks/eachlabs"
    created = flat.create(
        {"prompt": "a lighthouse at dusk", "resolution": "480p", "duration": 1},
        webhook_url=hook,
    ).json()
    delivery = flat.peer.wait("/hooks/eachlabs")
    body = json.loads(delivery.body)
    assert set(body) == {"exec_id", "status", "output", "error"}
    assert body["exec_id"] == created["predictionID"]
    assert body["status"] == "succeeded" and body["error"] == ""
    assert_mp4(requests.get(body["output"], timeout=30).content, seconds=1, width=854, height=480)
    # Signed per Standard Webhooks with the key's secret.
    assert delivery.headers["webhook-signature"].startswith("v1,")


def test_failed_prediction_reads_error_and_its_webhook_failed(flat: Flat) -> None:
    hook = f"{flat.peer.base_url}/hooks/failing"
    created = flat.create(
        {"prompt": "x", "resolution": "480p", "duration": 1},
        model="fails_in_run",
        webhook_url=hook,
    ).json()
    done = flat.poll(created["predictionID"])
    assert done["status"] == "error" and done["output"] is None
    assert done["code"] == "generation_failed" and done["message"]
    body = json.loads(flat.peer.wait("/hooks/failing").body)
    assert body["status"] == "failed" and body["output"] == ""
    assert body["error"].startswith("generation_failed: ")


def test_cancel_through_urls_cancel(flat: Flat) -> None:
    created = flat.session.post(f"{flat.base_url}/v1/prediction", json={
        "model": "slow_with_progress",
        "input": {"prompt": "slow", "resolution": "480p", "duration": 10},
    }).json()  # fmt: skip
    urls = flat.get(created["predictionID"])["urls"]
    answer = flat.session.post(urls["cancel"], timeout=15)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] in ("processing", "cancelled")
    done = flat.poll(created["predictionID"])
    assert done["status"] == "cancelled" and done["code"] == "canceled"
    native = flat.session.get(f"{flat.base_url}/v1/videos/{created['predictionID']}").json()
    assert native["status"] == "canceled"
    again = flat.session.post(urls["cancel"])  # idempotent on a cancelled prediction
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("input_", "code", "param"),
    [
        ({"prompt": "p", "image_urls": ["aGVsbG8="] * 10},
         "invalid_reference.too_many_images", "image_urls"),
        ({"prompt": "p", "duration": "20"}, "invalid_request.seconds", "duration"),
        ({"prompt": "p", "resolution": "4k"}, "invalid_request.resolution", "resolution"),
        ({"prompt": "", "duration": "5"}, "invalid_request.prompt", "prompt"),
    ],
)  # fmt: skip
def test_over_limit_is_refused_in_the_flat_error_shape(
    flat: Flat, input_: dict[str, Any], code: str, param: str
) -> None:
    response = flat.create(input_)
    assert response.status_code == 400
    assert response.headers["x-should-retry"] == "false"
    body = response.json()
    assert body["status"] == "error" and body["message"]
    assert (body["code"], body["param"]) == (code, param)
    assert code in body["details"]


def test_reference_errors_name_the_flat_field(flat: Flat) -> None:
    response = flat.create({"prompt": "p", "image_urls": ["not base64 and not a URL!"]})
    body = response.json()
    assert body["param"] == "image_urls[0]"
    assert body["message"].startswith("image_urls[0]")


def test_auth_and_isolation(flat: Flat) -> None:
    url = f"{flat.base_url}/v1/prediction"
    missing = requests.post(url, json={"model": MODEL, "input": {"prompt": "p"}})
    assert missing.status_code == 401 and missing.json()["status"] == "error"
    other = flat.session.post(f"{flat.base_url}/v1/keys", json={"name": "other"}).json()
    created = flat.create({"prompt": "mine", "resolution": "480p", "duration": 1}).json()
    theirs = requests.get(f"{url}/{created['predictionID']}",
                          headers={"Authorization": f"Bearer {other['key']}"})  # fmt: skip
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found.video"
    unknown = flat.session.get(f"{url}/video_nope/")  # trailing slash on GET too
    assert unknown.status_code == 404 and unknown.json()["status"] == "error"


def test_unknown_model_is_404(flat: Flat) -> None:
    body: dict[str, Any] = {"model": "nope-model", "input": {"prompt": "p"}}
    response = flat.session.post(f"{flat.base_url}/v1/prediction", json=body)
    assert response.status_code == 404
    assert response.json()["code"] == "invalid_request.unknown_model"


def test_idempotency_key(flat: Flat) -> None:
    body: dict[str, Any] = {"prompt": "once", "resolution": "480p", "duration": 1}
    headers = {"Idempotency-Key": "flat-idem-1"}
    first = flat.session.post(f"{flat.base_url}/v1/prediction",
                              json={"model": MODEL, "input": body}, headers=headers)  # fmt: skip
    second = flat.session.post(f"{flat.base_url}/v1/prediction/",
                               json={"model": MODEL, "input": body}, headers=headers)  # fmt: skip
    assert first.json()["predictionID"] == second.json()["predictionID"]
    changed: dict[str, Any] = {"model": MODEL, "input": {**body, "prompt": "twice"}}
    other = flat.session.post(f"{flat.base_url}/v1/prediction", headers=headers, json=changed)
    assert other.status_code == 409 and other.json()["status"] == "error"
    assert other.headers["x-should-retry"] == "false"
