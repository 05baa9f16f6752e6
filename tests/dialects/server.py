"""A real uvicorn server in a thread, for tests that drive the service with real client SDKs.

    with serve_app(lambda base_url: create_app(...)) as base_url:
        ...  # base_url is "http://127.0.0.1:<free port>"

`running_reelforge(data_dir, **settings)` builds the usual test app (fixture engines, the
bootstrap admin key `tests.conftest.ADMIN_KEY`, `public_url` set to the server's own URL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from reelforge.api.app import create_app
from tests.conftest import make_settings
from tests.fixtures.engines.basic import fixture_registry
from tests.live import free_port


@contextmanager
def serve_app(make_app: Callable[[str], FastAPI], timeout: float = 30.0) -> Iterator[str]:
    """Start `make_app(base_url)` on a free loopback port (lifespan included), yield the base
    URL, and shut the server down (lifespan exit included) afterwards."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        make_app(base_url), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server exited during startup (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the test server did not start within {timeout} s")
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout)


@contextmanager
def running_reelforge(data_dir: Path, **settings: object) -> Iterator[str]:
    """The reelforge app with the fixture engines (default model `ok`) behind a real server."""

    def make(base_url: str) -> FastAPI:
        values: dict[str, object] = {"public_url": base_url}
        values.update(settings)
        return create_app(make_settings(data_dir, **values), engines=fixture_registry())

    with serve_app(make) as base_url:
        yield base_url
