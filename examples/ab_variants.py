"""A/B variants: one request, four takes with four seeds, and a contact sheet to compare them.

One `POST /v1/batches` request with `"n": 4` gives four takes of the same ad, each rendered
with its own seed (take 0 with `--seed`, the others with seeds derived from it, so the same
seed always gives the same four). Their thumbnails are laid side by side, each labelled with
its seed, in `contact_sheet.png`.

    python examples/ab_variants.py --seed 7
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ASSETS, api_key, job_options, parser
from PIL import Image, ImageDraw

from reelforge import Client

PROMPT = "@Image1 on a kitchen counter, morning light, slow dolly in, @Image2 in the corner"


def contact_sheet(tiles: list[tuple[Path, str]], path: Path, width: int = 320) -> Path:
    """The images side by side, each scaled to `width` px with its label under it."""
    images = [Image.open(p).convert("RGB") for p, _ in tiles]
    height = max(round(im.height * width / im.width) for im in images)
    sheet = Image.new("RGB", (width * len(images) + 8 * (len(images) + 1), height + 40), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (im, (_, label)) in enumerate(zip(images, tiles, strict=True)):
        x = 8 + i * (width + 8)
        sheet.paste(im.resize((width, round(im.height * width / im.width))), (x, 8))
        draw.text((x, height + 16), label, fill="black")
    sheet.save(path)
    return path


def main() -> None:
    p = parser(__doc__.splitlines()[0], "ab")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--takes", type=int, default=4)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with Client(args.url, api_key=api_key(args)) as rf:
        batch = rf.create_batch([{
            "custom_id": "ad", "prompt": PROMPT, "n": args.takes, "seed": args.seed,
            "images": [ASSETS / "mug.png", ASSETS / "brand_logo.png"], **job_options(args),
        }])  # fmt: skip
        batch = rf.wait_batch(batch.id, poll_interval=0.5)
        tiles = []
        for item in batch.items:
            if item.status != "completed" or not item.video_id:
                sys.exit(f"take {item.take} {item.status}: {item.error}")
            rf.download(item.video_id, args.out / f"take{item.take}.mp4")
            thumb = rf.download(item.video_id, args.out / f"take{item.take}.jpg", "thumbnail")
            tiles.append((thumb, f"take {item.take}  seed {item.seed}"))
    sheet = contact_sheet(tiles, args.out / "contact_sheet.png")
    print(f"{len(tiles)} takes; contact sheet {sheet}")


if __name__ == "__main__":
    main()
