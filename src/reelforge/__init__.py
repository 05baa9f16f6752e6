"""reelforge: a self-hostable reference-to-video service.

The public Python surface is the SDK (`reelforge.client`): `reelforge.Client`,
`reelforge.AsyncClient`, their typed results and the exception tree, re-exported here. They are
loaded on first use, so the server's own modules (which import `reelforge.codes` and the like)
never pay for the SDK's imports, and the layers stay as drawn (no import of `reelforge.client`
from the root, not even for type checkers: `__init__.pyi` tells them the types).
"""

from __future__ import annotations

import importlib
from typing import Any


def _version() -> str:
    """The installed distribution's version: pyproject.toml's `version` is the one source."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reelforge")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0+unknown"


__version__ = _version()

__all__ = [
    "DEFAULT_BASE_URL",
    "TERMINAL_STATUSES",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchItem",
    "BatchList",
    "BatchRequest",
    "Client",
    "ConflictError",
    "CreateOptions",
    "FileCache",
    "FileObject",
    "InsufficientCreditsError",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "Quote",
    "RateLimitError",
    "ReelforgeAPIError",
    "ReelforgeClientError",
    "ReelforgeConnectionError",
    "RequestOptions",
    "RetryPolicy",
    "ServerError",
    "Usage",
    "Video",
    "VideoEvent",
    "VideoList",
    "WaitTimeout",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("reelforge.client"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reelforge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
