"""Catalog automation: one product video per row of a CSV, as one server-side batch.

Each product's photo is `@Image1`; the brand bundle (logo and palette) follows as `@Image2` and
`@Image3`. The whole catalog is one `POST /v1/batches` with a `max_cost`, so the server never
charges more than that; each item's video is downloaded as `<sku>.mp4` and a `results.csv`
lists every product with its status, cost and file.

    python examples/catalog.py                      # against `make run`
    python examples/catalog.py --max-cost 1.5 --seconds 3

The same from the command line, driven from this machine with resume and a manifest:
    reelforge batch examples/catalog/products.csv --refs images \
        --bundle examples/assets/brand_logo.png --bundle examples/assets/brand_palette.png \
        --template "{product} on a marble table, slow orbit, @Image1, brand colours of @Image3" \
        --budget 1.5 --seconds 2 --resolution 480p --out out/catalog
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ASSETS, HERE, api_key, job_options, parser

from reelforge import Client

TEMPLATE = "{product} on a marble table, slow orbit, @Image1, brand colours of @Image3"
BRAND = [ASSETS / "brand_logo.png", ASSETS / "brand_palette.png"]


def main() -> None:
    p = parser(__doc__.splitlines()[0], "catalog")
    p.add_argument("--csv", type=Path, default=HERE / "catalog" / "products.csv")
    p.add_argument("--max-cost", type=float, default=5.0)
    args = p.parse_args()
    with args.csv.open(newline="") as fh:
        products = list(csv.DictReader(fh))
    requests = [
        {"custom_id": row["sku"], "prompt": TEMPLATE.format(**row),
         "images": [args.csv.parent / row["images"], *BRAND], "metadata": {"sku": row["sku"]},
         **job_options(args)}
        for row in products
    ]  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    with Client(args.url, api_key=api_key(args)) as rf:
        batch = rf.create_batch(requests, max_cost=args.max_cost, metadata={"example": "catalog"})
        print(f"batch {batch.id}: {len(requests)} products, at most {args.max_cost} to spend")
        batch = rf.wait_batch(
            batch.id, poll_interval=0.5,
            on_progress=lambda b: print(f"  {b.status}: {b.request_counts}"),
        )  # fmt: skip
        rows = []
        for item in batch.items:
            path = ""
            if item.status == "completed" and item.video_id:
                path = str(rf.download(item.video_id, args.out / f"{item.custom_id}.mp4"))
            error = (item.error or {}).get("code")
            rows.append({"sku": item.custom_id, "status": item.status, "video_id": item.video_id,
                         "cost": item.cost, "error": error, "file": path})  # fmt: skip
    with (args.out / "results.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"spent {batch.cost} {batch.currency}; results in {args.out / 'results.csv'}")
    sys.exit(0 if all(r["status"] == "completed" for r in rows) else 1)


if __name__ == "__main__":
    main()
