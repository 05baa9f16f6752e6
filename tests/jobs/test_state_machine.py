"""The written state machine of a job, through `JobService` with fakes of its ports and a fake
clock: every transition of `TRANSITIONS` is reachable, every other one is refused with an
exception that also holds under `python -O`, terminal states never change, and the notifiers
hear of each ending exactly once. No sleeps: time moves when the test says so."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reelforge.core.job import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    Job,
    JobError,
    JobOutputs,
    JobStatus,
    Stage,
    can_transition,
    check_transition,
)
from reelforge.errors import Conflict, NotFound
from reelforge.jobs.service import JobService, Lifecycle
from reelforge.storage.local import LocalStorage
from tests.jobs.fakes import (
    FailingNotifier,
    FakeClock,
    FakeJobStore,
    FakeQueue,
    RecordingNotifier,
    make_job,
)

REPO = Path(__file__).resolve().parents[2]
OWNER = "key_a"
OUTPUTS = JobOutputs(video="outputs/x/video.mp4", thumbnail="outputs/x/thumbnail.jpg")
BOOM = JobError(code="generation_failed", message="the engine failed", stage="generate")

ALLOWED = {(src, dst) for src, dsts in TRANSITIONS.items() for dst in dsts}
FORBIDDEN = {
    (src, dst) for src, dst in itertools.product(JobStatus, JobStatus) if (src, dst) not in ALLOWED
}


@dataclass
class Harness:
    store: FakeJobStore
    service: JobService
    clock: FakeClock
    queue: FakeQueue
    notifier: RecordingNotifier

    def queued(self, **overrides: object) -> Job:
        return self.store.add(make_job(self.clock, owner=OWNER, **overrides))  # type: ignore[arg-type]

    def status(self, job_id: str) -> JobStatus:
        return self.store.row(job_id).status


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    store, clock, queue, notifier = FakeJobStore(), FakeClock(), FakeQueue(), RecordingNotifier()
    service = JobService(
        store,
        LocalStorage(tmp_path / "storage"),
        notifiers=[notifier],
        lifecycle=Lifecycle(execution_expires_after=3600, output_retention_seconds=86400),
        clock=clock,
    )
    service.attach_queue(queue)
    return Harness(store, service, clock, queue, notifier)


# ---- every allowed transition, through the service -----------------------------------------


def _start(h: Harness) -> str:
    job = h.queued()
    started = h.service.start(job.id)
    assert started is not None and started.status is JobStatus.RUNNING
    assert started.stage is Stage.INTAKE and started.started_at == h.clock.now
    return job.id


def _queued_to_running(h: Harness) -> str:
    return _start(h)


def _queued_to_canceled(h: Harness) -> str:
    job = h.queued()
    shown = h.service.cancel(OWNER, job.id)
    assert shown.status is JobStatus.CANCELED and shown.cancel_requested
    return job.id


def _queued_to_expired(h: Harness) -> str:
    job = h.queued(execution_deadline=h.clock.now + 600)
    assert h.service.expire_overdue() == []  # not yet due
    h.clock.advance(599)
    assert h.service.expire_overdue() == []
    h.clock.advance(2)
    assert h.service.expire_overdue() == [job.id]
    return job.id


def _queued_to_failed(h: Harness) -> str:
    job = h.queued()
    assert h.service.fail(job.id, BOOM)
    return job.id


def _running_to_succeeded(h: Harness) -> str:
    job_id = _start(h)
    h.clock.advance(10)
    assert h.service.succeed(job_id, OUTPUTS, 5.0)
    row = h.store.row(job_id)
    assert row.outputs == OUTPUTS and row.output_seconds == 5.0 and row.progress == 100.0
    assert row.stage is Stage.DONE and row.completed_at == h.clock.now
    assert row.expires_at == h.clock.now + 86400  # output retention from the lifecycle
    return job_id


def _running_to_failed(h: Harness) -> str:
    job_id = _start(h)
    assert h.service.fail(job_id, BOOM)
    return job_id


def _running_to_canceled(h: Harness) -> str:
    job_id = _start(h)
    shown = h.service.cancel(OWNER, job_id)
    assert shown.status is JobStatus.RUNNING and shown.cancel_requested  # asked, not yet stopped
    assert h.service.mark_canceled(job_id, Stage.GENERATE)  # what the worker does on seeing it
    return job_id


DRIVERS: dict[tuple[JobStatus, JobStatus], Callable[[Harness], str]] = {
    (JobStatus.QUEUED, JobStatus.RUNNING): _queued_to_running,
    (JobStatus.QUEUED, JobStatus.CANCELED): _queued_to_canceled,
    (JobStatus.QUEUED, JobStatus.EXPIRED): _queued_to_expired,
    (JobStatus.QUEUED, JobStatus.FAILED): _queued_to_failed,
    (JobStatus.RUNNING, JobStatus.SUCCEEDED): _running_to_succeeded,
    (JobStatus.RUNNING, JobStatus.FAILED): _running_to_failed,
    (JobStatus.RUNNING, JobStatus.CANCELED): _running_to_canceled,
}


def test_every_written_transition_has_a_driver() -> None:
    """When TRANSITIONS grows, this test names the transition that has no test."""
    assert set(DRIVERS) == ALLOWED


@pytest.mark.parametrize(
    "pair", sorted(DRIVERS), ids=[f"{s.value}->{d.value}" for s, d in sorted(DRIVERS)]
)
def test_transition_is_reachable(h: Harness, pair: tuple[JobStatus, JobStatus]) -> None:
    src, dst = pair
    job_id = DRIVERS[pair](h)
    assert h.status(job_id) is dst
    # The store was asked for this very move, and it moved the job.
    moves = [(s, d) for jid, s, d, moved in h.store.transitions if jid == job_id and moved]
    assert moves[-1][1] is dst and src in moves[-1][0]
    for sources, target in moves:
        for s in sources:
            assert can_transition(s, target)
    if dst.is_terminal:
        assert h.notifier.ended_ids() == [job_id]
        told = h.notifier.ended[0]
        assert told.status is dst  # the notifier sees the job as it ended
        assert told.completed_at == h.clock.now
    else:
        assert h.notifier.ended == []


# ---- forbidden transitions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "pair", sorted(FORBIDDEN), ids=[f"{s.value}->{d.value}" for s, d in sorted(FORBIDDEN)]
)
def test_forbidden_transition_is_refused(pair: tuple[JobStatus, JobStatus]) -> None:
    src, dst = pair
    assert not can_transition(src, dst)
    with pytest.raises(IllegalTransition) as err:
        check_transition({src}, dst)
    assert (err.value.src, err.value.dst) == (src, dst)
    assert not isinstance(err.value, AssertionError)


@pytest.mark.parametrize(
    "pair", sorted(ALLOWED), ids=[f"{s.value}->{d.value}" for s, d in sorted(ALLOWED)]
)
def test_allowed_transition_passes_the_check(pair: tuple[JobStatus, JobStatus]) -> None:
    check_transition({pair[0]}, pair[1])


def test_one_forbidden_source_refuses_the_whole_move() -> None:
    # running -> expired is not written, so {queued, running} -> expired is refused
    with pytest.raises(IllegalTransition) as err:
        check_transition({JobStatus.QUEUED, JobStatus.RUNNING}, JobStatus.EXPIRED)
    assert err.value.src is JobStatus.RUNNING
    check_transition(set(ACTIVE), JobStatus.FAILED)
    check_transition(set(ACTIVE), JobStatus.CANCELED)


def test_terminal_states_have_no_way_out() -> None:
    for status in TERMINAL:
        assert status.is_terminal and TRANSITIONS[status] == frozenset()
    for status in ACTIVE:
        assert not status.is_terminal


def test_the_service_refuses_a_forbidden_move_before_it_reaches_the_store(h: Harness) -> None:
    """`_move` is the one gate every status change of the service goes through."""
    job_id = _running_to_succeeded(h)
    before = h.store.calls["transition"]
    with pytest.raises(IllegalTransition):
        h.service._move(job_id, {JobStatus.SUCCEEDED}, JobStatus.RUNNING)
    assert h.store.calls["transition"] == before
    assert h.status(job_id) is JobStatus.SUCCEEDED


_UNDER_O = textwrap.dedent(
    """
    import itertools, sys
    from pathlib import Path
    from reelforge.core.job import TRANSITIONS, IllegalTransition, JobStatus, check_transition
    from reelforge.jobs.service import JobService
    from reelforge.storage.local import LocalStorage
    from tests.jobs.fakes import FakeClock, FakeJobStore, make_job

    assert False, "unreachable under -O"  # proves asserts are stripped in this run
    if sys.flags.optimize < 1:
        sys.exit("not running under -O")
    refused = allowed = 0
    for src, dst in itertools.product(JobStatus, JobStatus):
        try:
            check_transition({src}, dst)
        except IllegalTransition:
            if dst in TRANSITIONS[src]:
                sys.exit(f"{src}->{dst} is written but was refused")
            refused += 1
        else:
            if dst not in TRANSITIONS[src]:
                sys.exit(f"{src}->{dst} is forbidden but passed under -O")
            allowed += 1
    # And through the service: the store is never asked.
    store, clock = FakeJobStore(), FakeClock()
    job = store.add(make_job(clock, status=JobStatus.SUCCEEDED))
    service = JobService(store, LocalStorage(Path(sys.argv[1])), clock=clock)
    try:
        service._move(job.id, {JobStatus.SUCCEEDED}, JobStatus.QUEUED)
    except IllegalTransition:
        pass
    else:
        sys.exit("the service moved succeeded -> queued under -O")
    if store.calls["transition"] or store.row(job.id).status is not JobStatus.SUCCEEDED:
        sys.exit("the store was touched")
    print(f"optimize={sys.flags.optimize} refused={refused} allowed={allowed}")
    """
)


def test_the_check_survives_python_dash_o(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    env.pop("PYTHONOPTIMIZE", None)
    done = subprocess.run(
        [sys.executable, "-O", "-c", _UNDER_O, str(tmp_path / "storage")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    expected = f"optimize=1 refused={len(FORBIDDEN)} allowed={len(ALLOWED)}"
    assert done.stdout.strip() == expected


# ---- terminal states never change ------------------------------------------------------------


TERMINAL_DRIVERS = {
    JobStatus.SUCCEEDED: _running_to_succeeded,
    JobStatus.FAILED: _running_to_failed,
    JobStatus.CANCELED: _queued_to_canceled,
    JobStatus.EXPIRED: _queued_to_expired,
}


def test_every_terminal_state_is_covered() -> None:
    assert set(TERMINAL_DRIVERS) == set(TERMINAL)


@pytest.mark.parametrize("status", sorted(TERMINAL), ids=lambda s: s.value)
def test_a_terminal_job_never_changes(h: Harness, status: JobStatus) -> None:
    job_id = TERMINAL_DRIVERS[status](h)
    ended = h.store.row(job_id)
    h.clock.advance(10 * 86400)  # past any deadline; the janitor's pass changes nothing
    assert h.service.start(job_id) is None
    assert not h.service.succeed(job_id, OUTPUTS, 3.0)
    assert not h.service.fail(job_id, BOOM)
    assert not h.service.mark_canceled(job_id, Stage.GENERATE)
    h.service.report(ended, stage=Stage.GENERATE, progress=50.0)
    h.service.set_plan(job_id, {"shots": []}, 3.0)
    assert job_id not in h.service.expire_overdue()
    if status is JobStatus.CANCELED:
        assert h.service.cancel(OWNER, job_id).status is JobStatus.CANCELED  # idempotent
    else:
        with pytest.raises(Conflict) as err:
            h.service.cancel(OWNER, job_id)
        assert err.value.http_status == 409 and err.value.code == "conflict.not_cancelable"
    row = h.store.row(job_id)
    assert row.status is status
    assert row.error == ended.error and row.completed_at == ended.completed_at
    assert row.progress == ended.progress and row.plan == ended.plan
    assert h.notifier.ended_ids() == [job_id]  # told once, at the real ending
    assert h.queue.calls == []


def test_cancel_of_a_succeeded_job_is_a_409(h: Harness) -> None:
    job_id = _running_to_succeeded(h)
    with pytest.raises(Conflict) as err:
        h.service.cancel(OWNER, job_id)
    assert err.value.http_status == 409
    assert err.value.code == "conflict.not_cancelable" and err.value.param == "id"
    assert h.status(job_id) is JobStatus.SUCCEEDED and not h.store.row(job_id).cancel_requested


def test_succeed_twice_moves_once_and_tells_once(h: Harness) -> None:
    job_id = _start(h)
    assert h.service.succeed(job_id, OUTPUTS, 5.0) is True
    first = h.store.row(job_id)
    h.clock.advance(30)
    assert h.service.succeed(job_id, JobOutputs(video="elsewhere.mp4"), 9.0) is False
    assert h.store.row(job_id) == first
    assert h.notifier.ended_ids() == [job_id]


def test_racing_endings_one_wins(h: Harness) -> None:
    """A worker's failure and a late cancel on the same running job: the first move wins."""
    job_id = _start(h)
    assert h.service.fail(job_id, BOOM)
    assert not h.service.mark_canceled(job_id, Stage.GENERATE)
    assert not h.service.succeed(job_id, OUTPUTS, 5.0)
    assert h.status(job_id) is JobStatus.FAILED and h.store.row(job_id).error == BOOM
    assert h.notifier.ended_ids() == [job_id]


def test_a_failing_notifier_does_not_starve_the_others(tmp_path: Path) -> None:
    store, clock = FakeJobStore(), FakeClock()
    bad, good = FailingNotifier(), RecordingNotifier()
    service = JobService(store, LocalStorage(tmp_path), notifiers=[bad, good], clock=clock)
    job = store.add(make_job(clock))
    assert service.start(job.id) is not None
    assert service.succeed(job.id, OUTPUTS, 5.0)
    assert bad.ended_ids() == [job.id] and good.ended_ids() == [job.id]
    assert store.row(job.id).status is JobStatus.SUCCEEDED


# ---- the errors an ending carries ------------------------------------------------------------


def test_an_expired_job_carries_expired_execution(h: Harness) -> None:
    job_id = _queued_to_expired(h)
    error = h.store.row(job_id).error
    assert error is not None and error.code == "expired.execution"
    assert error.stage == "queued" and error.param == "execution_expires_after"
    assert error.retryable


def test_a_queued_cancel_carries_canceled(h: Harness) -> None:
    job_id = _queued_to_canceled(h)
    error = h.store.row(job_id).error
    assert error is not None and error.code == "canceled" and error.stage == "queued"


def test_a_running_cancel_carries_canceled_at_its_stage(h: Harness) -> None:
    job_id = _running_to_canceled(h)
    error = h.store.row(job_id).error
    assert error is not None and error.code == "canceled" and error.stage == "generate"


def test_a_failure_carries_its_error(h: Harness) -> None:
    job_id = _running_to_failed(h)
    assert h.store.row(job_id).error == BOOM


# ---- cancel and the in-process signal ------------------------------------------------------


def test_cancel_of_a_running_job_signals_without_a_store_read(h: Harness) -> None:
    job_id = _start(h)
    assert not h.service.cancel_requested(job_id)  # not asked yet: the store says so
    reads_before = h.store.calls["cancel_requested"]
    h.service.cancel(OWNER, job_id)
    assert h.store.row(job_id).cancel_requested  # recorded for other processes too
    gets = h.store.calls["get"]
    for _ in range(3):
        assert h.service.cancel_requested(job_id) is True
    assert h.store.calls["cancel_requested"] == reads_before  # the signal answered
    assert h.store.calls["get"] == gets


def test_a_job_running_elsewhere_is_stopped_through_the_store(h: Harness) -> None:
    """No signal here (another process runs it): the worker's narrow store read sees it."""
    job = h.store.add(make_job(h.clock, owner=OWNER, status=JobStatus.RUNNING))
    h.service.cancel(OWNER, job.id)
    assert h.service.cancel_requested(job.id) is True
    assert h.store.calls["cancel_requested"] == 1


def test_signals_are_forgotten_when_a_job_ends(h: Harness) -> None:
    job_id = _start(h)
    h.service.cancel(OWNER, job_id)
    assert h.service.mark_canceled(job_id, Stage.GENERATE)
    reads = h.store.calls["cancel_requested"]
    assert h.service.cancel_requested(job_id) is True  # from the store: no longer running
    assert h.store.calls["cancel_requested"] == reads + 1


def test_cancel_of_another_keys_job_is_not_found(h: Harness) -> None:
    job = h.queued()
    with pytest.raises(NotFound):
        h.service.cancel("key_b", job.id)
    assert h.status(job.id) is JobStatus.QUEUED


def test_cancel_loses_the_race_to_a_start(h: Harness) -> None:
    """The job was read as queued, then a worker started it: the cancel asks it to stop."""
    job = h.queued()
    real_get = h.store.get

    def get_then_start(job_id: str) -> Job | None:
        found = real_get(job_id)
        if found is not None and found.status is JobStatus.QUEUED:
            h.store.rows[job_id] = dataclasses.replace(found, status=JobStatus.RUNNING)
        return found

    h.store.get = get_then_start  # type: ignore[method-assign]
    shown = h.service.cancel(OWNER, job.id)
    assert shown.status is JobStatus.RUNNING and shown.cancel_requested
    assert h.notifier.ended == []


# ---- start -----------------------------------------------------------------------------------


def test_start_reads_once_and_the_ending_reads_once(h: Harness) -> None:
    job = h.queued()
    started = h.service.start(job.id)
    assert started is not None and h.store.calls["get"] == 1
    h.service.report(started, stage=Stage.GENERATE, progress=40.0)
    h.service.set_plan(job.id, {"shots": 1}, 5.0)
    assert h.store.calls["get"] == 1  # progress and plan add no reads
    assert h.service.succeed(job.id, OUTPUTS, 5.0)
    assert h.store.calls["get"] == 2


def test_start_of_an_overdue_job_expires_it(h: Harness) -> None:
    job = h.queued(execution_deadline=h.clock.now + 60)
    h.clock.advance(61)
    assert h.service.start(job.id) is None
    assert h.status(job.id) is JobStatus.EXPIRED
    assert h.notifier.ended_ids() == [job.id]


def test_a_second_start_does_not_restart(h: Harness) -> None:
    """A resumed workflow (same worker after a crash) goes on with the running job."""
    job_id = _start(h)
    started_at = h.store.row(job_id).started_at
    h.clock.advance(5)
    again = h.service.start(job_id)
    assert again is not None and again.status is JobStatus.RUNNING
    assert h.store.row(job_id).started_at == started_at


def test_no_deadline_never_expires(h: Harness) -> None:
    job = h.queued(execution_deadline=None)
    h.clock.advance(365 * 86400)
    assert h.service.expire_overdue() == []
    assert h.status(job.id) is JobStatus.QUEUED


def test_progress_is_told_only_to_jobs_that_asked(h: Harness) -> None:
    quiet = h.queued()
    loud = h.queued(webhook_progress=True, webhook_url="https://example.com/hook")
    for job in (quiet, loud):
        started = h.service.start(job.id)
        assert started is not None
        h.service.report(started, stage=Stage.GENERATE, progress=140.0)
    assert [j.id for j in h.notifier.progressed] == [loud.id]
    assert h.notifier.progressed[0].progress == 100.0  # clamped
    assert h.store.row(quiet.id).progress == 100.0


def test_reenqueue_unfinished_enqueues_active_jobs_and_fails_unknown_engines(
    tmp_path: Path,
) -> None:
    store, clock = FakeJobStore(), FakeClock()
    queue = FakeQueue(refuse_engines=frozenset({"gone"}))
    notifier = RecordingNotifier()
    service = JobService(store, LocalStorage(tmp_path), notifiers=[notifier], clock=clock)
    service.attach_queue(queue)
    queued = store.add(make_job(clock))
    running = store.add(make_job(clock, status=JobStatus.RUNNING))
    orphan = store.add(make_job(clock, engine="gone"))
    done = store.add(make_job(clock, status=JobStatus.SUCCEEDED))
    assert service.reenqueue_unfinished() == 3
    assert queue.scheduled == {queued.id: "ok", running.id: "ok"}
    assert store.row(orphan.id).status is JobStatus.FAILED
    error = store.row(orphan.id).error
    assert error is not None and error.code == "engine.unavailable" and error.stage == "queued"
    assert notifier.ended_ids() == [orphan.id]
    assert store.row(done.id).status is JobStatus.SUCCEEDED
