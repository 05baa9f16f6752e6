"""The `preview` engine: a CPU animatic compositor that animates the given references."""

from reelforge.engines.preview.engine import PreviewEngine

__all__ = ["PreviewEngine"]
