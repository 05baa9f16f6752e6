"""A job's warnings reach the user in every dialect's task object, not only in the native Video:
the same `[{code, message, param, span}]` list (each::labs also writes them into `logs`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reelforge.core.job import JobWarning
from reelforge.jobs.views import JobView
from reelforge.presenters import seed000, seed001, seed002, seed004
from reelforge.presenters.ark import task_object
from reelforge.presenters.eachlabs import prediction
from reelforge.presenters.native import video_object
from reelforge.presenters.openai import openai_video_object
from tests.jobs.fakes import FakeClock, make_job

WARNING = JobWarning(
    "prompt.camera_moves_dropped", "shot 1 names more than 3 camera moves", "prompt", (40, 48)
)
PRESENTERS: dict[str, Callable[[JobView], dict[str, Any]]] = {
    "native": video_object,
    "openai": openai_video_object,
    "ark": task_object,
    "eachlabs": prediction,
    "seed000": seed000.present,
    "seed001": seed001.present,
    "seed002": lambda view: seed002.present(view, None),
    "seed004": seed004.present,
}


def _view(warnings: tuple[JobWarning, ...]) -> JobView:
    job = make_job(FakeClock(), warnings=warnings)
    return JobView(job, None, 0.0, "USD", 0, "http://127.0.0.1:8000")


@pytest.mark.parametrize("dialect", sorted(PRESENTERS))
def test_every_task_object_carries_the_warnings(dialect: str) -> None:
    body = PRESENTERS[dialect](_view((WARNING,)))
    assert body["warnings"] == [WARNING.to_dict()]
    empty = PRESENTERS[dialect](_view(()))
    assert empty["warnings"] == []


def test_eachlabs_writes_them_into_logs_too() -> None:
    assert prediction(_view((WARNING,)))["logs"] == (
        "warning prompt.camera_moves_dropped: shot 1 names more than 3 camera moves"
    )
    assert prediction(_view(()))["logs"] is None
