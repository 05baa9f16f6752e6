"""Types of the names `reelforge/__init__.py` loads lazily (see there): every name of
`reelforge.client.__all__`, and `__version__`."""

from reelforge.client import *  # noqa: F403 (re-exports all of client.__all__)
from reelforge.client import __all__ as __all__

__version__: str
__all__ += ["__version__"]
