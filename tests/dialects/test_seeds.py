"""The seed dialects, driven by the seeds' own code against a real server.

Each seed's code example is kept here as written in the seed (indentation restored: the seed
text lost it) and run as a program in a subprocess with `requests` (or `bash` + `curl` for the
curl example). The only edits are the ones `_edit` lists: the base URL and the key (what a user
changes), smaller and shorter clips (480p, 1-2 s, to keep the suite fast), the reference files
the examples name, and `time.sleep` divided by 20 inside that subprocess so their 5-10 s poll
intervals do not make the suite slow. The resulting MP4, fetched from the URL the dialect
returned with a plain GET (no auth header), is checked with PyAV: size, duration at 24 fps, an
AAC track. Then: the job is visible in the native API of the same key, and every dialect
refuses an over-limit request in its own error shape with the shared error code.

Seed 002 has no runnable code (its example is pseudo-code over an unnamed SDK), so its request
sequence is replayed with `requests` as the seed describes it.
"""

# The seeds' code below is kept as written, long lines and en dashes included.
# ruff: noqa: E501, RUF001

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_KEY
from tests.dialects.loopback import Peer, assert_mp4, running_peer
from tests.dialects.server import running_reelforge
from tests.intake.media import audio_bytes, image_bytes, mp4_bytes

# ---- the seeds' code, as written -----------------------------------------------------------

SEED_000 = """\
import requests, time, base64
API_BASE = "https://api.byteplus.com/seedance/v1"
HEADERS = {"Authorization": f"Bearer YOUR_API_KEY", "Content-Type": "application/json"}
def encode_image(path):
    return base64.b64encode(open(path, "rb").read()).decode()
payload = {
    "prompt": "A product shot of a white sneaker rotating slowly on a clean studio surface",
    "resolution": "1080p", "duration": 5, "aspect_ratio": "16:9",
    "reference_images": [encode_image("sneaker_front.jpg"), encode_image("sneaker_side.jpg")]
}
job = requests.post(f"{API_BASE}/generate", json=payload, headers=HEADERS).json()
job_id = job["job_id"]
while True:
    result = requests.get(f"{API_BASE}/status/{job_id}", headers=HEADERS).json()
    if result["status"] == "completed":
        print(result["video_url"]); break
    elif result["status"] == "failed":
        raise Exception(result["error"])
    time.sleep(10)
"""

SEED_001 = """\
import requests, time
API_KEY = "YOUR_API_KEY"
BASE = "https://api.aimlapi.com/v2"
# Submit generation job
payload = {
    "model": "seedance-2-0-fast",
    "image_url": "https://your-domain.com/product-shot.jpg",
    "prompt": "slow orbital pan, soft studio lighting, subtle rotation",
    "duration": 5,
    "resolution": "720p",
    "aspect_ratio": "16:9"
}
resp = requests.post(f"{BASE}/generate/video", json=payload,
    headers={"Authorization": f"Bearer {API_KEY}"})
task_id = resp.json()["task_id"]
# Poll for result
for _ in range(30):
    time.sleep(5)
    status = requests.get(f"{BASE}/generate/video/{task_id}",
        headers={"Authorization": f"Bearer {API_KEY}"}).json()
    if status["status"] == "completed":
        print(status["video_url"]); break
"""

SEED_004_PY = '''\
import requests
import time
import json
# ─────────────────────────────────────────────
# Seedance 2.0 API — Text-to-Video generation
# Requires: SEEDANCE_API_KEY environment variable
# Install: pip install requests
# ─────────────────────────────────────────────
API_BASE = "https://api.seedance.ai/v2" # Replace with your provider base URL
API_KEY = "YOUR_API_KEY_HERE"
HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "Content-Type": "application/json",
}
# ── Step 1: Submit a generation job ──────────
def submit_t2v_job(prompt: str, duration: int = 6, resolution: str = "1080p") -> str:
    """
    Submit a text-to-video job.
    Args:
        prompt: Natural-language description of the desired video
        duration: Clip length in seconds (1–10)
        resolution: "720p" or "1080p"
    Returns:
        job_id (str) used to poll for completion
    """
    payload = {
        "model": "seedance-2.0",
        "prompt": prompt,
        "duration": duration, # seconds; max 10
        "resolution": resolution, # "720p" | "1080p"
        "fps": 24, # fixed in v2
        "mode": "t2v", # text-to-video
    }
    response = requests.post(
        f"{API_BASE}/generations",
        headers=HEADERS,
        json=payload,
        timeout=30,
    )
    response.raise_for_status()
    data = response.json()
    print(f"[✓] Job submitted. ID: {data['job_id']}")
    return data["job_id"]
# ── Step 2: Poll until the job is done ───────
def poll_job(job_id: str, poll_interval: int = 10, max_wait: int = 300) -> dict:
    """
    Poll the job status endpoint every `poll_interval` seconds.
    Returns:
        Full response dict containing 'status' and 'output_url' when complete.
    """
    elapsed = 0
    while elapsed < max_wait:
        r = requests.get(
            f"{API_BASE}/generations/{job_id}",
            headers=HEADERS,
            timeout=15,
        )
        r.raise_for_status()
        result = r.json()
        status = result.get("status") # "queued" | "processing" | "succeeded" | "failed"
        print(f" Status: {status} ({elapsed}s elapsed)")
        if status == "succeeded":
            print(f"[✓] Done! Video URL: {result['output_url']}")
            return result
        elif status == "failed":
            raise RuntimeError(f"Job failed: {result.get('error', 'unknown error')}")
        time.sleep(poll_interval)
        elapsed += poll_interval
    raise TimeoutError(f"Job {job_id} did not complete within {max_wait}s.")
# ── Step 3: Download the generated video ─────
def download_video(output_url: str, save_path: str = "seedance_output.mp4") -> None:
    """Stream the generated MP4 to disk."""
    with requests.get(output_url, stream=True, timeout=60) as r:
        r.raise_for_status()
        with open(save_path, "wb") as f:
            for chunk in r.iter_content(chunk_size=8192):
                f.write(chunk)
    print(f"[✓] Saved to {save_path}")
# ── Main ──────────────────────────────────────
if __name__ == "__main__":
    PROMPT = (
        "A golden retriever puppy runs along a sunlit beach at sunset, "
        "slow-motion, cinematic depth of field, waves in the background."
    )
    job_id = submit_t2v_job(prompt=PROMPT, duration=6, resolution="1080p")
    result = poll_job(job_id, poll_interval=10, max_wait=300)
    download_video(result["output_url"], save_path="beach_puppy.mp4")
'''

SEED_004_CURL = """\
#!/usr/bin/env bash
# ─────────────────────────────────────────────
# Seedance 2.0 API — curl example
# Usage: export SEEDANCE_API_KEY="your_key" && bash seedance_t2v.sh
# ─────────────────────────────────────────────
API_BASE="https://api.seedance.ai/v2"
API_KEY="${SEEDANCE_API_KEY:?Error: SEEDANCE_API_KEY not set}"
# ── Step 1: Submit the generation job ────────
echo "Submitting T2V job..."
RESPONSE=$(curl --silent --fail \\
--request POST "${API_BASE}/generations" \\
--header "Authorization: Bearer ${API_KEY}" \\
--header "Content-Type: application/json" \\
--data '{
"model": "seedance-2.0",
"prompt": "A lone astronaut walks across a red desert at dawn, epic wide shot, cinematic.",
"duration": 8,
"resolution": "1080p",
"fps": 24,
"mode": "t2v"
}')
# Extract the job ID using Python (available on all platforms)
JOB_ID=$(echo "${RESPONSE}" | python3 -c "import sys,json; print(json.load(sys.stdin)['job_id'])")
echo "Job ID: ${JOB_ID}"
# ── Step 2: Poll for completion ───────────────
echo "Polling for completion..."
STATUS="queued"
while [[ "${STATUS}" != "succeeded" && "${STATUS}" != "failed" ]]; do
sleep 10
POLL_RESPONSE=$(curl --silent --fail \\
--request GET "${API_BASE}/generations/${JOB_ID}" \\
--header "Authorization: Bearer ${API_KEY}")
STATUS=$(echo "${POLL_RESPONSE}" | python3 -c "import sys,json; print(json.load(sys.stdin)['status'])")
echo " Status: ${STATUS}"
done
# ── Step 3: Download the video ────────────────
if [[ "${STATUS}" == "succeeded" ]]; then
OUTPUT_URL=$(echo "${POLL_RESPONSE}" | python3 -c "import sys,json; print(json.load(sys.stdin)['output_url'])")
echo "Downloading from: ${OUTPUT_URL}"
curl --silent --output "astronaut_desert.mp4" "${OUTPUT_URL}"
echo "Saved to astronaut_desert.mp4"
else
echo "Job failed. Response:"
echo "${POLL_RESPONSE}"
exit 1
fi
"""

SEED_004_ATLAS = """\
# ─────────────────────────────────────────────
# AtlasCloud unified API — Seedance 2.0 T2V
# Drop-in if you're already using AtlasCloud
# for multi-model routing.
# ─────────────────────────────────────────────
import requests
ATLASCLOUD_BASE = "https://api.atlascloud.ai/v1"
ATLASCLOUD_KEY = "YOUR_ATLASCLOUD_KEY"
headers = {
    "Authorization": f"Bearer {ATLASCLOUD_KEY}",
    "Content-Type": "application/json",
}
payload = {
    "model": "seedance-2.0", # same model ID, same response schema
    "prompt": "Time-lapse of cherry blossoms falling in a Japanese garden, 4K cinematic.",
    "duration": 8,
    "resolution": "1080p",
    "mode": "t2v",
}
# Submit
r = requests.post(f"{ATLASCLOUD_BASE}/video/generations", headers=headers, json=payload)
r.raise_for_status()
job = r.json()
print(f"AtlasCloud job ID: {job['job_id']}")
# The polling pattern is identical to the direct API example above.
# AtlasCloud normalizes status fields and output_url across all providers.
"""

# "The polling pattern is identical to the direct API example above": the seed's own
# poll_job/download_video, pointed at AtlasCloud's path (`{base}/video/generations/{id}`).
ATLAS_POLL = """
API_BASE = f"{ATLASCLOUD_BASE}/video"
HEADERS = headers
result = poll_job(job["job_id"], poll_interval=10, max_wait=300)
download_video(result["output_url"], save_path="cherry_blossoms.mp4")
"""

# Runs a snippet as __main__ with time.sleep divided by 20 (this subprocess only).
RUNNER = (
    "import runpy, sys, time\n"
    "_sleep = time.sleep\n"
    "time.sleep = lambda s: _sleep(s / 20)\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')\n"
)


def _edit(code: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in code, f"{old!r} is not in the seed code"
        code = code.replace(old, new)
    return code


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # `python3` of the curl example: this interpreter's directory first on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_python(code: str, cwd: Path) -> str:
    script = cwd / "snippet.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        cwd=cwd, capture_output=True, text=True, timeout=90, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, f"the seed code failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# ---- the server --------------------------------------------------------------------------


class Seeds:
    def __init__(self, base_url: str, peer: Peer) -> None:
        self.base_url = base_url
        self.peer = peer
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {ADMIN_KEY}"

    def native(self, video_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.session.get(f"{self.base_url}/v1/videos/{video_id}").json()
        return body

    def native_ids(self) -> set[str]:
        page = self.session.get(f"{self.base_url}/v1/videos", params={"limit": 100}).json()
        return {v["id"] for v in page["data"]}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeds]:
    data_dir = tmp_path_factory.mktemp("seeds") / "data"
    # Loopback reference URLs (seed 001, 002) need private addresses allowed.
    with running_peer() as peer, running_reelforge(data_dir, allow_private_urls=True) as base:
        yield Seeds(base, peer)


def _latest_video_id(seeds: Seeds, known: set[str]) -> str:
    new = seeds.native_ids() - known
    assert len(new) == 1, new
    return new.pop()


def _download(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:"), url  # absolute
    response = requests.get(url, timeout=30)  # no auth header
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    return response.content


# ---- seed 000 ----------------------------------------------------------------------------


def test_seed_000_code_runs_unchanged(seeds: Seeds, tmp_path: Path) -> None:
    (tmp_path / "sneaker_front.jpg").write_bytes(image_bytes(640, 480, "JPEG", seed=1))
    (tmp_path / "sneaker_side.jpg").write_bytes(image_bytes(640, 480, "JPEG", seed=2))
    code = _edit(SEED_000, {
        "https://api.byteplus.com/seedance/v1": f"{seeds.base_url}/seedance/v1",
        "YOUR_API_KEY": ADMIN_KEY,
        '"resolution": "1080p", "duration": 5': '"resolution": "480p", "duration": 1',
    })  # fmt: skip
    known = seeds.native_ids()
    url = run_python(code, tmp_path).strip().splitlines()[-1]
    assert_mp4(_download(url), seconds=1, width=854, height=480)
    video_id = _latest_video_id(seeds, known)
    native = seeds.native(video_id)
    assert native["status"] == "completed"
    assert native["size"] == "854x480"


# ---- seed 001 ----------------------------------------------------------------------------


def test_seed_001_code_runs_unchanged(seeds: Seeds, tmp_path: Path) -> None:
    shot = seeds.peer.serve("product-shot.jpg", image_bytes(800, 600, "JPEG", 3), "image/jpeg")
    code = _edit(SEED_001, {
        "https://api.aimlapi.com/v2": f"{seeds.base_url}/v2",
        "YOUR_API_KEY": ADMIN_KEY,
        "https://your-domain.com/product-shot.jpg": shot,
        '"duration": 5': '"duration": 1',
        '"resolution": "720p"': '"resolution": "480p"',
    })  # fmt: skip
    known = seeds.native_ids()
    out = run_python(code, tmp_path).strip()
    assert out, "the seed's loop ended without a completed video"
    assert_mp4(_download(out.splitlines()[-1]), seconds=1, width=854, height=480)
    video_id = _latest_video_id(seeds, known)
    assert seeds.native(video_id)["model"] == "seedance-2-0-fast"


# ---- seed 002 ----------------------------------------------------------------------------


def test_seed_002_reference_sequence(seeds: Seeds) -> None:
    """The seed's request structure (`prompt`, `reference_images`, `reference_videos`,
    `reference_audio`, `duration`, `aspect_ratio`), `response.id`, then a poller until
    `complete` reading the output URL and the metadata (duration, resolution, file size)."""
    base = f"{seeds.base_url}/v1/bytedance/seedance-2.0/reference-to-video"
    images = [
        seeds.peer.serve(f"sku-{i}.jpg", image_bytes(640, 480, "JPEG", 10 + i), "image/jpeg")
        for i in range(2)
    ]
    clip = seeds.peer.serve("motion.mp4", mp4_bytes(2.0, 640, 640), "video/mp4")
    tune = seeds.peer.serve("tune.mp3", audio_bytes(2.0), "audio/mpeg")
    response = seeds.session.post(base, json={
        "prompt": "@Image1 product rotates slowly on a clean surface, soft studio lighting, "
                  "moving like @Video1, to the beat of @Audio1",
        "reference_images": images,
        "reference_videos": [clip],
        "reference_audio": [tune],
        "duration": 2,
        "aspect_ratio": "1:1",
    }, timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["status"] == "pending"
    seen = {created["status"]}
    deadline = time.monotonic() + 30
    while True:
        result = seeds.session.get(f"{base}/{created['id']}", timeout=15).json()
        seen.add(result["status"])
        if result["status"] in ("complete", "failed"):
            break
        assert time.monotonic() < deadline, result
        time.sleep(0.1)
    assert result["status"] == "complete", result
    assert seen <= {"pending", "processing", "complete"}
    data = _download(result["output_url"])
    assert result["metadata"]["duration"] == 2.0
    assert result["metadata"]["resolution"] == "720p"  # the seed sends none: the default
    assert result["metadata"]["file_size"] == len(data)
    side = 720  # the default resolution; 1:1
    assert_mp4(data, seconds=2, width=side, height=side)
    assert created["id"] in seeds.native_ids()


# ---- seed 004 and AtlasCloud -------------------------------------------------------------

_SMALL_004 = {
    'duration=6, resolution="1080p")': 'duration=1, resolution="480p")',
}


def test_seed_004_python_runs_unchanged(seeds: Seeds, tmp_path: Path) -> None:
    code = _edit(SEED_004_PY, {
        "https://api.seedance.ai/v2": f"{seeds.base_url}/v2",
        "YOUR_API_KEY_HERE": ADMIN_KEY,
        **_SMALL_004,
    })  # fmt: skip
    known = seeds.native_ids()
    out = run_python(code, tmp_path)
    assert "Status: succeeded" in out
    assert_mp4((tmp_path / "beach_puppy.mp4").read_bytes(), seconds=1, width=854, height=480)
    assert seeds.native(_latest_video_id(seeds, known))["status"] == "completed"


def test_seed_004_curl_runs_unchanged(seeds: Seeds, tmp_path: Path) -> None:
    script = _edit(SEED_004_CURL, {
        "https://api.seedance.ai/v2": f"{seeds.base_url}/v2",
        '"duration": 8,': '"duration": 2,',
        '"resolution": "1080p",': '"resolution": "480p",',
    })  # fmt: skip
    (tmp_path / "seedance_t2v.sh").write_text(script, encoding="utf-8")
    env = _env() | {"SEEDANCE_API_KEY": ADMIN_KEY}
    # `sleep 10` between polls becomes 0.5 s: a shell function, exported to the script's bash.
    wrapper = "sleep() { command sleep 0.5; }; export -f sleep; exec bash seedance_t2v.sh"
    proc = subprocess.run(["bash", "-c", wrapper], cwd=tmp_path, capture_output=True,
                          text=True, timeout=90, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Saved to astronaut_desert.mp4" in proc.stdout
    data = (tmp_path / "astronaut_desert.mp4").read_bytes()
    assert_mp4(data, seconds=2, width=854, height=480)


def test_atlascloud_code_runs_unchanged(seeds: Seeds, tmp_path: Path) -> None:
    definitions = SEED_004_PY.split("# ── Main")[0]
    code = _edit(definitions + SEED_004_ATLAS + ATLAS_POLL, {
        "https://api.atlascloud.ai/v1": f"{seeds.base_url}/v1",
        "YOUR_ATLASCLOUD_KEY": ADMIN_KEY,
        '"duration": 8,': '"duration": 1,',
        '"resolution": "1080p",': '"resolution": "480p",',
    })  # fmt: skip
    known = seeds.native_ids()
    out = run_python(code, tmp_path)
    assert "AtlasCloud job ID: video_" in out
    data = (tmp_path / "cherry_blossoms.mp4").read_bytes()
    assert_mp4(data, seconds=1, width=854, height=480)
    video_id = _latest_video_id(seeds, known)
    assert seeds.native(video_id)["model"] == "seedance-2.0"


# ---- every dialect: over-limit requests in its own shape ---------------------------------

_B64 = base64.b64encode(image_bytes(640, 480, "JPEG")).decode()
_TEN_IMAGES = [_B64] * 10


@pytest.mark.parametrize(
    ("path", "body", "code", "param"),
    [
        ("/seedance/v1/generate", {"prompt": "p", "reference_images": _TEN_IMAGES},
         "invalid_reference.too_many_images", "reference_images"),
        ("/seedance/v1/generate", {"prompt": "p", "duration": 20},
         "invalid_request.seconds", "duration"),
        ("/v2/generate/video", {"model": "seedance-2-0-fast", "prompt": "p", "duration": 20},
         "invalid_request.seconds", "duration"),
        ("/v1/bytedance/seedance-2.0/reference-to-video",
         {"prompt": "p", "reference_images": _TEN_IMAGES, "duration": 5},
         "invalid_reference.too_many_images", "reference_images"),
        ("/v2/generations", {"model": "seedance-2.0", "prompt": "p", "duration": 20},
         "invalid_request.seconds", "duration"),
        ("/v1/video/generations", {"model": "seedance-2.0", "prompt": "p", "duration": 20},
         "invalid_request.seconds", "duration"),
    ],
)  # fmt: skip
def test_over_limit_in_the_dialects_error_shape(
    seeds: Seeds, path: str, body: dict[str, Any], code: str, param: str
) -> None:
    response = seeds.session.post(seeds.base_url + path, json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert response.headers["x-should-retry"] == "false"
    got = response.json()
    if path.startswith("/seedance/v1"):  # seed 000: like its status body, `error` a string
        assert got["status"] == "failed" and isinstance(got["error"], str)
        assert (got["code"], got["param"]) == (code, param)
    elif path.startswith("/v2/generate/video"):  # AI/ML API
        assert got["statusCode"] == 400 and got["message"] and got["requestId"].startswith("req_")
        assert (got["code"], got["param"]) == (code, param)
    elif path.startswith("/v1/bytedance"):  # seed 002
        assert got["status"] == "failed"
        assert (got["error"]["code"], got["error"]["param"]) == (code, param)
    else:  # seed 004 / AtlasCloud: the OpenAI-compatible shape
        assert (got["error"]["code"], got["error"]["param"]) == (code, param)
        assert got["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("path", "word_of"),
    [
        ("/seedance/v1/status/nope", lambda b: b["status"] == "failed" and "nope" in b["error"]),
        ("/v2/generate/video/nope", lambda b: b["statusCode"] == 404),
        ("/v1/bytedance/seedance-2.0/reference-to-video/nope",
         lambda b: b["error"]["code"] == "not_found.video"),
        ("/v2/generations/nope", lambda b: b["error"]["code"] == "not_found.video"),
        ("/v1/video/generations/nope", lambda b: b["error"]["code"] == "not_found.video"),
    ],
)  # fmt: skip
def test_unknown_id_is_404_in_the_dialects_shape(seeds: Seeds, path: str, word_of: Any) -> None:
    response = seeds.session.get(seeds.base_url + path, timeout=15)
    assert response.status_code == 404
    assert word_of(response.json()), response.text


def test_seed_004_rejects_what_it_cannot_honour(seeds: Seeds) -> None:
    url = f"{seeds.base_url}/v2/generations"
    bad_fps = seeds.session.post(url, json={"prompt": "p", "fps": 30}).json()
    assert bad_fps["error"]["code"] == "invalid_request.fps"
    t2v_with_image = seeds.session.post(
        url, json={"prompt": "p", "mode": "t2v", "image_url": _B64}
    ).json()
    assert t2v_with_image["error"]["code"] == "invalid_request.mode"
    unknown_model = seeds.session.post(url, json={"prompt": "p", "model": "sora-9"})
    assert unknown_model.status_code == 404
    assert unknown_model.json()["error"]["code"] == "invalid_request.unknown_model"


def test_seed_004_i2v_animates_the_image_as_first_frame(seeds: Seeds) -> None:
    url = f"{seeds.base_url}/v1/video/generations"
    body = {"model": "seedance-2.0", "prompt": "it comes alive", "mode": "i2v",
            "image_url": _B64, "duration": "1", "resolution": "480p", "fps": "24"}  # fmt: skip
    created = seeds.session.post(url, json=body, timeout=30)
    assert created.status_code == 200, created.text
    got = seeds.session.get(f"{url}/{created.json()['job_id']}").json()
    assert got["mode"] == "i2v"
    assert got["size"] == "854x480"  # no aspect_ratio sent: 16:9
