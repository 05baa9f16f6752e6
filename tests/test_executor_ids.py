"""Executor ids: one machine is `local`; in scale mode every process gets its own by default,
stable across restarts of the same host or pod, and `local` is refused there."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from reelforge.settings import Settings

PG = "postgresql://u:p@db/reelforge"


def test_one_machine_is_local() -> None:
    assert Settings().executor_for("serve") == "local"


def test_scale_mode_derives_one_per_host_role_and_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "Worker_0.Example")
    settings = Settings(database_url=PG)
    assert settings.executor_for("api") == "worker-0.example-api"
    assert settings.executor_for("worker-preview") == "worker-0.example-worker-preview"
    assert Settings(database_url=PG, slot=2).executor_for("worker-ltx2") == (
        "worker-0.example-worker-ltx2-2"
    )
    assert Settings(database_url=PG, executor_id="gpu-7").executor_for("api") == "gpu-7"


def test_an_executor_id_is_a_plain_name() -> None:
    with pytest.raises(ValidationError):
        Settings(executor_id="two words")


def test_a_heartbeat_must_fit_twice_in_the_dead_bound() -> None:
    with pytest.raises(ValidationError, match="DEAD_WORKER_SECONDS"):
        Settings(worker_heartbeat_seconds=10, dead_worker_seconds=15)


def test_per_engine_concurrency_is_this_process_setting() -> None:
    settings = Settings(worker_concurrency=2, engine_concurrency={"wan-vace": 1})
    assert settings.concurrency_for("preview") == 2
    assert settings.concurrency_for("wan-vace") == 1
