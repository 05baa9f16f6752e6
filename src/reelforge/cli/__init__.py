"""The `reelforge` command line: run the server, render one file locally, or drive a server.

One module per group of commands; each registers itself on the shared `app` when imported here.
Server-side modules (`reelforge.api.app`, `reelforge.oneshot`, `uvicorn`) are imported inside
the commands that need them, so the client commands start fast and stay light.
"""

from reelforge.cli import (  # noqa: F401  (registers the commands)
    batch,
    evaluate,
    jobs,
    keys,
    migrate,
    server,
)
from reelforge.cli.base import app

__all__ = ["app", "main"]


def main() -> None:
    app()
