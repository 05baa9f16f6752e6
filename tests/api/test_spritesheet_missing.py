"""A job published before spritesheets existed has none: its own app, not the live server of
tests/dialects/test_openai_videos_api.py (DBOS is one per process: a second app in that module
would stop the first one's queue when it shuts down)."""

from __future__ import annotations

from pathlib import Path

from reelforge.core.job import JobOutputs
from tests.conftest import ADMIN_KEY

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_a_job_published_without_a_spritesheet_answers_404(tmp_path: Path) -> None:
    """Jobs finished before spritesheets existed have none: 404 `not_found.content`, and no
    `spritesheet` link."""
    from fastapi.testclient import TestClient

    from reelforge.api.app import create_app
    from tests.conftest import make_settings, wait_for
    from tests.fixtures.engines.basic import fixture_registry

    app = create_app(make_settings(tmp_path / "data"), engines=fixture_registry())
    with TestClient(app, headers=AUTH) as http:
        vid = http.post("/v1/videos", json={"prompt": "x", "seconds": 1}).json()["id"]
        wait_for(http, vid, lambda v: v["status"] == "completed")
        jobs = app.state.jobs
        job = jobs.load(vid)
        old = JobOutputs(job.outputs.video, job.outputs.thumbnail, job.outputs.last_frame)
        jobs._store.update(vid, outputs=old)  # as an older version stored it
        missing = http.get(f"/v1/videos/{vid}/content", params={"variant": "spritesheet"})
        assert missing.status_code == 404, missing.text
        assert missing.json()["error"]["code"] == "not_found.content"
        assert "spritesheet" not in http.get(f"/v1/videos/{vid}").json()["urls"]
        assert http.get(f"/v1/videos/{vid}/content").status_code == 200
