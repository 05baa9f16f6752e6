"""What every example shares: where the server is, the key, the output folder, job options.

The server: `--url`, else `$REELFORGE_URL`, else http://127.0.0.1:8000 (`make run`). The key:
`--api-key`, else `$REELFORGE_API_KEY`, else `data/admin_key` (written by `make run`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"


def parser(description: str, out: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--url", default=os.environ.get("REELFORGE_URL", "http://127.0.0.1:8000"))
    p.add_argument("--api-key", default=os.environ.get("REELFORGE_API_KEY"))
    p.add_argument("--out", type=Path, default=Path("out") / out)
    p.add_argument("--seconds", type=int, default=2)
    p.add_argument("--resolution", default="480p")
    p.add_argument("--no-audio", action="store_true", help="silent videos (faster)")
    return p


def api_key(args: argparse.Namespace) -> str:
    if args.api_key:
        return str(args.api_key)
    path = Path(os.environ.get("REELFORGE_DATA_DIR", "data")) / "admin_key"
    if not path.exists():
        raise SystemExit(
            f"no API key: pass --api-key, set REELFORGE_API_KEY, or run `make run` ({path})"
        )
    return path.read_text().strip()


def job_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"seconds": args.seconds, "resolution": args.resolution}
    if args.no_audio:
        options["generate_audio"] = False
    return options
