"""reelforge: a self-hostable reference-to-video service.

The public Python surface is the SDK (`reelforge.client`): `reelforge.Client`,
`reelforge.AsyncClient`, their typed results and the exception tree, re-exported here. They are
loaded on first use, so the server's own modules (which import `reelforge.codes` and the like)
never pay for the SDK's imports, and the layers stay as drawn (no import of `reelforge.client`
from the root, not even for type checkers: `__init__.pyi` tells them the types).

`reelforge.client.__all__` is the one list of the public names; `__all__` here is that list
plus `__version__`, read on first use too. The SDK's public names are capitalised and the
package's submodules are not, so `from reelforge import codes` never loads the SDK.
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


def __getattr__(name: str) -> Any:
    if name == "__all__" or name[:1].isupper():
        sdk = importlib.import_module("reelforge.client")
        if name == "__all__" or name in sdk.__all__:
            value = [*sdk.__all__, "__version__"] if name == "__all__" else getattr(sdk, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'reelforge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__getattr__("__all__")})
