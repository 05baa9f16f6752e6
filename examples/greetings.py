"""Personalised greetings: one video per user, each from that user's own template and photo.

Each row of `greetings/users.csv` carries its template (`{name}`, `{occasion}` filled from the
row); the user's photo is `@Image1` in a shared scene `@Image2`. All videos are made at once with
the asyncio client, following each one's server-sent events; `end_user_id` tags each job with
its user, so `GET /v1/usage?group_by=end_user_id` shows the spend per user.

    python examples/greetings.py
"""

from __future__ import annotations

import asyncio
import csv
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ASSETS, HERE, api_key, job_options, parser

from reelforge import AsyncClient


async def greet(rf: AsyncClient, user: dict[str, str], out: Path, options: dict[str, Any]) -> Path:
    prompt = user["template"].format(**user)
    video = await rf.create_video(
        prompt, images=[ASSETS / user["photo"], ASSETS / "meadow.png"],
        end_user_id=user["name"].lower(), **options,
    )  # fmt: skip
    async for event in rf.events(video.id):
        print(f"  {user['name']}: {event.video.status} {event.video.progress:.0f}%")
    done = await rf.get_video(video.id)
    if done.status != "completed":
        raise SystemExit(f"{user['name']}: {done.status} {done.error}")
    return await rf.download(video.id, out / f"{user['name'].lower()}.mp4")


async def run(args: Any) -> None:
    with (HERE / "greetings" / "users.csv").open(newline="") as fh:
        users = list(csv.DictReader(fh))[: args.users]
    args.out.mkdir(parents=True, exist_ok=True)
    async with AsyncClient(args.url, api_key=api_key(args)) as rf:
        paths = await asyncio.gather(*(greet(rf, u, args.out, job_options(args)) for u in users))
        usage = await rf.usage(group_by="end_user_id")
    for path in paths:
        print(path)
    for row in usage.data:
        print(
            f"  {row['end_user_id'] or '-'}: {row['videos']} videos, {row['cost']} {usage.currency}"
        )


def main() -> None:
    p = parser(__doc__.splitlines()[0], "greetings")
    p.add_argument("--users", type=int, default=3, help="the first N users of the CSV")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
