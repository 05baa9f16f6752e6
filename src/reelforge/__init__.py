"""reelforge: a self-hostable reference-to-video service.

The public Python surface is the HTTP client (`reelforge.client`) and the canonical request types.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
