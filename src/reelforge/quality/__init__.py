"""Quality report of an encoded video against its request's plan: measured container, audio
loudness and peak, camera motion per shot, reference presence per shot, cuts, flicker and
smoothness, each with a pass/fail verdict. One entry point: `quality_report`."""

from reelforge.quality.report import Check, QualityReport, ReferenceFile, quality_report

__all__ = ["Check", "QualityReport", "ReferenceFile", "quality_report"]
