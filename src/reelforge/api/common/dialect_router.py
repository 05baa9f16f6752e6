"""Routers for the flat and seed dialects: their paths with or without a trailing slash, and
every error under their paths in the dialect's own body.

The error tree and its HTTP mapping stay in `api/errors.py` (status code, `Retry-After`,
`x-should-retry`); a dialect supplies only the body, registered for the path prefixes it owns
(`register_error_renderer`). So auth failures, unknown ids, over-limit requests and even unknown
sub-paths under a dialect's prefix answer in that dialect's shape, with our stable `code`.

    router = DialectRouter(render=my_error_body, prefixes=("/seedance/v1",), tags=["seed 000"])
    router.add("/seedance/v1/generate", create, methods=["POST"])
    ...
    install_dialect(app, router)       # in create_app: routes + error renderer
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from reelforge.api.errors import ErrorRenderer, register_error_renderer


class DialectRouter(APIRouter):
    """An APIRouter that knows its error body and the path prefixes it answers for, and
    matches each path with and without a trailing slash (clients of these APIs send both:
    each::labs documents `POST /v1/prediction/`)."""

    def __init__(self, *, render: ErrorRenderer, prefixes: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.render_error = render
        self.error_prefixes = prefixes

    def add(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: list[str],
        summary: str | None = None,
    ) -> None:
        path = path.rstrip("/")
        if not any(path == p or path.startswith(p + "/") for p in self.error_prefixes):
            raise ValueError(f"{path} is outside this dialect's prefixes {self.error_prefixes}")
        self.add_api_route(path, endpoint, methods=methods, summary=summary)
        self.add_api_route(path + "/", endpoint, methods=methods, include_in_schema=False)


def install_dialect(app: FastAPI, router: DialectRouter) -> None:
    """Serve `router`'s routes and answer errors under its prefixes in its shape."""
    app.include_router(router)
    for prefix in router.error_prefixes:
        register_error_renderer(app, prefix, router.render_error)
