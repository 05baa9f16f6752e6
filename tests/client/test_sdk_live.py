"""The SDK against a live service: the async client drives 20 jobs at once to completion with
event streaming; downloads resume with `Range` on the real content route; a server-side batch
of two takes through the batch methods."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelforge import AsyncClient, Client, VideoEvent
from reelforge.client.protocol import part_path
from tests.client.live_service import product_png, run_service
from tests.conftest import ADMIN_KEY


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from run_service(tmp_path_factory.mktemp("sdk-live") / "data")


def test_async_client_drives_20_jobs_at_once_with_event_streams(
    server: str, tmp_path: Path
) -> None:
    image = product_png(tmp_path / "mug.png")

    sent: Counter[str] = Counter()

    class Counting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent[f"{request.method} {request.url.path}"] += 1
            return await super().handle_async_request(request)

    async def main() -> list[list[VideoEvent]]:
        async with AsyncClient(server, api_key=ADMIN_KEY, transport=Counting()) as rf:
            videos = await asyncio.gather(
                *(
                    rf.create_video(
                        f"@Image1 turns slowly, take {i}",
                        images=[image],
                        seconds=1,
                        resolution="480p",
                        generate_audio=False,  # the CPU goes to the pictures
                    )
                    for i in range(20)
                )
            )

            async def follow(video_id: str) -> list[VideoEvent]:
                return [event async for event in rf.events(video_id, timeout=240)]

            return await asyncio.gather(*(follow(v.id) for v in videos))

    streams = asyncio.run(main())
    assert len(streams) == 20
    for events in streams:
        assert events[-1].type == "video.completed" and events[-1].video.progress == 100
        assert any(e.source == "stream" for e in events)  # server-sent events, not polling
        progress = [e.video.progress for e in events]
        assert progress == sorted(progress)
    with Client(server, api_key=ADMIN_KEY) as rf:
        ids = {events[-1].video.id for events in streams}
        listed = [v for v in rf.iter_videos(page_size=7) if v.id in ids]
        assert len(ids) == 20 and len(listed) == 20  # one job per create, all listed
    # One upload stood for all twenty references; each job was followed by its event stream.
    assert sent["POST /v1/files"] == 1 and sent["POST /v1/videos"] == 20
    assert sum(n for k, n in sent.items() if k.endswith("/events")) >= 20


def test_content_route_serves_ranges_and_downloads_resume(server: str, tmp_path: Path) -> None:
    with Client(server, api_key=ADMIN_KEY) as rf:
        video = rf.create_video("a red ball bounces", seconds=1, resolution="480p")
        assert rf.wait(video.id, timeout=120).status == "completed"
        whole = rf.download(video.id, tmp_path / "whole.mp4").read_bytes()
        auth = {"Authorization": f"Bearer {ADMIN_KEY}", "Range": "bytes=100-199"}
        part = httpx.get(f"{server}/v1/videos/{video.id}/content", headers=auth)
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
        assert part.content == whole[100:200]
        # A download that broke after 1000 bytes goes on from there.
        target = tmp_path / "resumed.mp4"
        part_path(target, video.id, "video").write_bytes(whole[:1000])
        assert rf.download(video.id, target).read_bytes() == whole
        assert sorted(p.name for p in tmp_path.iterdir()) == ["resumed.mp4", "whole.mp4"]


def test_server_batch_with_takes_through_the_sdk(server: str, tmp_path: Path) -> None:
    image = product_png(tmp_path / "vase.png", (40, 90, 170))
    with Client(server, api_key=ADMIN_KEY) as rf:
        batch = rf.create_batch(
            [{"custom_id": "ad", "prompt": "@Image1 on a shelf, slow zoom in", "images": [image],
              "seconds": 1, "resolution": "480p", "seed": 11, "n": 2}],
            max_cost=5, metadata={"campaign": "test"}, idempotency_key="sdk-batch-1",
        )  # fmt: skip
        assert rf.create_batch(
            [{"custom_id": "ad", "prompt": "@Image1 on a shelf, slow zoom in", "images": [image],
              "seconds": 1, "resolution": "480p", "seed": 11, "n": 2}],
            max_cost=5, metadata={"campaign": "test"}, idempotency_key="sdk-batch-1",
        ).id == batch.id  # fmt: skip
        done = rf.wait_batch(batch.id, poll_interval=0.3, timeout=180)
        assert done.status == "completed" and done.metadata == {"campaign": "test"}
        assert [(i.custom_id, i.take, i.status) for i in done.items] == [
            ("ad", 0, "completed"), ("ad", 1, "completed")]  # fmt: skip
        assert done.items[0].seed == 11 and done.items[1].seed != 11
        assert done.cost == pytest.approx(sum(i.cost or 0 for i in done.items))
        results = rf.batch_results(batch.id)
        assert [r.video_id for r in results] == [i.video_id for i in done.items]
        assert rf.list_batches().data[0].id == batch.id
