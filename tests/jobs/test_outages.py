"""Which errors are outages worth waiting out, and the bounded retry of a job step."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy.exc as sa_exc
from botocore.exceptions import ClientError, EndpointConnectionError

from reelforge.errors import NotFound
from reelforge.jobs.outages import Abandoned, RetryPolicy, is_transient


def _operational(message: str, orig: BaseException) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, orig)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_operational("down", ConnectionRefusedError("connection refused")), True),
        (_operational("locked", sqlite3.OperationalError("database is locked")), True),
        (_operational("schema", sqlite3.OperationalError("no such table: jobs")), False),
        (sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
        (sa_exc.TimeoutError("QueuePool limit reached"), True),
        (ConnectionResetError("reset by peer"), True),
        (EndpointConnectionError(endpoint_url="http://s3:9000"), True),
        (_client_error("SlowDown", 503), True),
        (_client_error("InternalError", 500), True),
        (_client_error("NoSuchKey", 404), False),
        (_client_error("AccessDenied", 403), False),
        (NotFound("no object"), False),
        (ValueError("bad input"), False),
    ],
)
def test_outages_are_told_from_answers(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_an_outage_under_another_error_counts() -> None:
    try:
        try:
            raise ConnectionRefusedError("refused")
        except ConnectionRefusedError as inner:
            raise RuntimeError("publishing failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)


class _Time:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_an_outage_is_retried_with_a_growing_backoff_until_it_ends() -> None:
    clock = _Time()
    calls = iter([ConnectionRefusedError(), ConnectionRefusedError(), ConnectionRefusedError()])

    def action() -> str:
        error = next(calls, None)
        if error is not None:
            raise error
        return "done"

    policy = RetryPolicy(total_seconds=60, initial=1.0, maximum=3.0)
    assert policy.run("step", action, sleep=clock.sleep, clock=lambda: clock.now) == "done"
    assert len(clock.sleeps) == 3
    assert 0.75 <= clock.sleeps[0] <= 1.25 and 1.5 <= clock.sleeps[1] <= 2.5
    assert 2.25 <= clock.sleeps[2] <= 3.75  # capped at `maximum` (+-25 % jitter)


def test_the_retries_are_bounded_in_time() -> None:
    clock = _Time()

    def action() -> None:
        raise ConnectionRefusedError("still down")

    policy = RetryPolicy(total_seconds=10, initial=1.0, maximum=2.0)
    with pytest.raises(ConnectionRefusedError):
        policy.run("step", action, sleep=clock.sleep, clock=lambda: clock.now)
    assert 9.0 <= clock.now <= 10.0


def test_an_answer_is_not_retried() -> None:
    clock = _Time()

    def action() -> None:
        raise NotFound("no such job")

    with pytest.raises(NotFound):
        RetryPolicy().run("step", action, sleep=clock.sleep, clock=lambda: clock.now)
    assert clock.sleeps == []


def test_a_process_giving_its_jobs_up_abandons_the_retries() -> None:
    stop = threading.Event()
    stop.set()

    def action() -> None:
        raise ConnectionRefusedError("down")

    with pytest.raises(Abandoned):
        RetryPolicy().run("step", action, stop=stop, on_stop=Abandoned)
