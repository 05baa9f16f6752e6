"""Scale mode as an operator runs it, on loopback: real PostgreSQL (a fresh database on the
test server, reached through a TCP proxy this test can cut), a real S3-compatible server
(moto's `moto_server`, also behind a proxy), 2 API processes with workers off (`reelforge
serve`) and 3 workers (`reelforge worker --engine preview`), all real processes.

One fleet serves every scenario, in this order (the module shares it):

1. the five processes, started at once on an empty database, all come up (the migrations
   take turns on an advisory lock);
2. kill -9 of a worker mid-job: another worker resumes the job within the recovery bound, and
   a replacement with the dead worker's executor id starts at once (meanwhile a worker for
   another engine starts: preview jobs go on);
3. SIGTERM of a worker mid-render: the render finishes on it; with no grace left, the job is
   handed back and resumes elsewhere from its checkpoint (the plan is not made again);
4. S3 cut for 30 s and PostgreSQL cut for 30 s (overlapping) while jobs run: /readyz says so,
   and every job completes;
5. the queue rows DBOS shares between processes are zeroed (what a worker of another engine
   used to do): the preview workers keep their own concurrency;
6. all 30 jobs (3 keys) completed, each with one output and one settlement, none rendered by
   an API process.

Process starts are slow on a busy 2-core machine, so restarts run in the background while
the next scenario begins; the budget of the whole module is about 3 minutes.
"""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from tests.fleet.harness import (
    ADMIN_KEY,
    POSTGRES_ENV,
    FleetConfig,
    Member,
    MotoServer,
    TcpProxy,
    admin_engine,
    fresh_database,
    start_all,
)

pytestmark = [pytest.mark.fleet, pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

BUCKET = "reelforge-fleet"
RECOVERY_BOUND = 15.0  # DEAD_WORKER_SECONDS' default: recovered within this of the last beat
OUTAGE = 30.0
JOB = {"prompt": "slow pan left across @Image1", "seconds": "1", "size": "854x480",
       "model": "preview"}  # fmt: skip
TERMINAL = {"completed", "failed", "canceled", "expired"}


def _png() -> bytes:
    img = Image.new("RGB", (480, 360), (40, 120, 200))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Fleet:
    config: FleetConfig
    db: sa.Engine  # direct, not through the proxy
    pg_proxy: TcpProxy
    s3_proxy: TcpProxy
    s3: Any
    apis: list[Member]
    workers: list[Member]
    other: Member  # a worker of another engine
    keys: list[str] = field(default_factory=list)
    victim: tuple[Member, str] = field(init=False)  # the worker killed, and its executor id
    drained: Member = field(init=False)  # the worker restarted with no grace
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> key
    startup: dict[str, float] = field(default_factory=dict)
    png: bytes = field(default_factory=_png)

    def create(self, n: int) -> list[str]:
        """`n` preview jobs, spread over the keys and the API replicas."""
        start = len(self.jobs)

        def one(i: int) -> str:
            api = self.apis[i % len(self.apis)]
            key = self.keys[i % len(self.keys)]
            files = [("input_reference", ("ref.png", self.png, "image/png"))]
            r = httpx.post(f"{api.base}/v1/videos", data=JOB, files=files, timeout=60,
                           headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            assert r.status_code == 202, r.text
            self.jobs[r.json()["id"]] = key
            return str(r.json()["id"])

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, range(start, start + n)))

    def job(self, job_id: str) -> dict[str, Any]:
        api = self.apis[0]
        r = httpx.get(f"{api.base}/v1/videos/{job_id}", timeout=30,
                      headers={"Authorization": f"Bearer {self.jobs[job_id]}"})  # fmt: skip
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def workflow(self, job_id: str) -> tuple[str | None, str | None]:
        """(executor id, DBOS status) of the job's workflow, read directly."""
        with self.db.connect() as conn:
            row = conn.execute(
                sa.text("SELECT executor_id, status FROM dbos.workflow_status "
                        "WHERE workflow_uuid = :id"), {"id": job_id},
            ).first()  # fmt: skip
        return (row[0], row[1]) if row else (None, None)

    def executor_of(self, member: Member) -> str:
        found = self.registered(member)
        assert found, f"{member.name} has no workers row"
        return found

    def registered(self, member: Member) -> str | None:
        """`member`'s executor id, once its process is in the fleet."""
        if member.proc is None or not member.alive():
            return None
        with self.db.connect() as conn:
            found = conn.execute(
                sa.text("SELECT executor_id FROM workers WHERE pid = :pid"),
                {"pid": member.proc.pid},
            ).scalar()
        return str(found) if found else None

    def wait(self, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        done: dict[str, dict[str, Any]] = {}
        while True:
            for job_id in ids:
                if job_id not in done:
                    body = self.job(job_id)
                    if body["status"] in TERMINAL:
                        done[job_id] = body
            if len(done) == len(ids):
                return done
            assert time.monotonic() < deadline, {i: self.job(i)["status"] for i in ids}
            time.sleep(0.25)

    def rendering(self, ids: list[str], timeout: float = 60) -> tuple[str, Member]:
        """A job of `ids` in its render (progress past 10 %) and the worker rendering it."""
        deadline = time.monotonic() + timeout
        by_executor = {self.registered(w): w for w in self.workers}
        while time.monotonic() < deadline:
            for job_id in ids:
                body = self.job(job_id)
                if body["status"] == "in_progress" and body["progress"] >= 10:
                    executor, _ = self.workflow(job_id)
                    if executor in by_executor:
                        return job_id, by_executor[executor]
            time.sleep(0.05)
        raise AssertionError("no job reached its render")


def _postgres_admin() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set: the fleet tests need a PostgreSQL server"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    admin = _postgres_admin()
    root = tmp_path_factory.mktemp("fleet")  # each process's log is there: <name>.log
    with fresh_database(admin) as url:
        server = sa.make_url(admin)
        pg_proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
        moto = MotoServer(root)
        s3_proxy = TcpProxy(("127.0.0.1", moto.port))
        moto.make_bucket(BUCKET)
        s3 = boto3.client(
            "s3", endpoint_url=moto.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        proxied = url.set(host="127.0.0.1", port=pg_proxy.port)
        config = FleetConfig(
            database_url=proxied.render_as_string(hide_password=False),
            data_root=root,
            storage_url=f"s3://{BUCKET}/fleet",
            s3_endpoint=f"http://127.0.0.1:{s3_proxy.port}",
            extra={"S3_PRESIGN_DOWNLOADS": "false"},
        )
        # Executor ids by default: <hostname>-<role>-<slot>.
        apis = [config.api(f"api-{i}", SLOT=str(i)) for i in (1, 2)]
        workers = [config.worker(f"worker-{i}", ["preview"], SLOT=str(i)) for i in (1, 2, 3)]
        other = config.worker("worker-ltx2", ["ltx2"], SLOT="9")
        db = admin_engine(url.set(drivername="postgresql").render_as_string(hide_password=False))
        fleet = Fleet(config, db, pg_proxy, s3_proxy, s3, apis, workers, other)
        try:
            fleet.startup = start_all([*apis, *workers])
            admin_auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
            for i in range(3):
                r = httpx.post(f"{apis[0].base}/v1/keys", headers=admin_auth, timeout=30,
                               json={"name": f"tenant-{i}", "balance": 1000.0})  # fmt: skip
                assert r.status_code in (200, 201), r.text
                fleet.keys.append(r.json()["key"])
            yield fleet
        finally:
            for proxy in (pg_proxy, s3_proxy):
                if proxy._listener is None:
                    proxy.restore()
            members = [*fleet.workers, *fleet.apis, other]
            with ThreadPoolExecutor(len(members)) as pool:
                list(pool.map(lambda m: m.stop(timeout=60), members))
            pg_proxy.close()
            s3_proxy.close()
            moto.stop()
            db.dispose()


def test_processes_started_at_once_on_an_empty_database_all_come_up(fleet: Fleet) -> None:
    assert set(fleet.startup) == {"api-1", "api-2", "worker-1", "worker-2", "worker-3"}
    with fleet.db.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        executors = conn.execute(sa.text("SELECT executor_id, engines FROM workers")).all()
    assert len(versions) == 1
    assert len({row[0] for row in executors}) == 5, executors  # API replicas included
    for member in fleet.apis:
        assert fleet.executor_of(member).endswith(f"-api-{member.name[-1]}")
    for row in executors:
        assert row[1] == (["preview"] if "-worker-" in row[0] else []), row


def test_kill_9_of_a_worker_mid_job_another_finishes_it_within_the_bound(fleet: Fleet) -> None:
    ids = fleet.create(6)
    fleet.other.start()  # a worker of another engine joins meanwhile
    job_id, victim = fleet.rendering(ids)
    dead = fleet.executor_of(victim)
    victim.kill()
    killed_at = time.monotonic()
    # Another worker takes the workflow over within the bound.
    while (executor := fleet.workflow(job_id)[0]) == dead:
        assert time.monotonic() - killed_at < RECOVERY_BOUND + 10, executor
        time.sleep(0.1)
    taken_after = time.monotonic() - killed_at
    assert taken_after <= RECOVERY_BOUND + 3, taken_after
    done = fleet.wait([job_id], timeout=90)[job_id]
    assert done["status"] == "completed", done
    victim.start()  # the replacement, same executor id: checked ready in a later scenario
    fleet.victim = (victim, dead)
    fleet.wait(ids, timeout=120)


def test_sigterm_of_a_worker_mid_render_lets_the_render_finish(fleet: Fleet) -> None:
    ids = fleet.create(2)
    job_id, member = fleet.rendering(ids)
    executor = fleet.executor_of(member)
    member.signal(signal.SIGTERM)
    assert member.proc is not None
    assert member.proc.wait(timeout=60) == 0
    done = fleet.wait([job_id], timeout=60)[job_id]
    assert done["status"] == "completed", done
    assert fleet.workflow(job_id)[0] == executor  # finished by the worker that was stopping
    # Back, with no grace for the next scenario.
    member.env["REELFORGE_DRAIN_SECONDS"] = "0"
    member.start()
    fleet.drained = member
    fleet.wait(ids, timeout=120)


def test_sigterm_past_the_grace_hands_the_job_back_to_resume_from_its_checkpoint(
    fleet: Fleet,
) -> None:
    victim, dead = fleet.victim
    victim.wait_ready(timeout=120)
    assert fleet.executor_of(victim) == dead  # the replacement took the dead one's id at once
    assert "held by another process" not in victim.tail(400)
    member = fleet.drained
    member.wait_ready(timeout=120)
    others = [w for w in fleet.workers if w is not member]
    for other in others:  # only `member` takes the next job
        other.signal(signal.SIGSTOP)
    try:
        [job_id] = fleet.create(1)
        _, rendering_on = fleet.rendering([job_id])
        assert rendering_on is member
    finally:
        for other in others:
            other.signal(signal.SIGCONT)
    executor = fleet.executor_of(member)
    stopped_at_ms = time.time() * 1000
    member.signal(signal.SIGTERM)
    assert member.proc is not None
    assert member.proc.wait(timeout=30) == 0
    handed_back = time.monotonic()
    while fleet.workflow(job_id)[0] == executor:  # taken by another worker at once, not 15 s on
        assert time.monotonic() - handed_back < 10, "the job was not taken over at once"
        time.sleep(0.1)
    done = fleet.wait([job_id], timeout=90)[job_id]
    assert done["status"] == "completed", done
    with fleet.db.connect() as conn:
        steps = dict(
            conn.execute(
                sa.text("SELECT function_name, started_at_epoch_ms FROM dbos.operation_outputs "
                        "WHERE workflow_uuid = :id"), {"id": job_id},
            ).all()
        )  # fmt: skip
    # Resumed from its checkpoint: start, intake and plan ran once, before the SIGTERM; only
    # the render (and what follows) ran again, on another worker.
    assert steps["reelforge.plan"] < stopped_at_ms < steps["reelforge.render"], steps
    member.env.pop("REELFORGE_DRAIN_SECONDS")
    member.start()


def _wait_readyz(member: Member, ok: bool, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while True:
        try:
            r = httpx.get(f"{member.base}/readyz", timeout=10)
            body = r.json()
            if (r.status_code == 200) == ok:
                return body
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{member.name} readyz not ok={ok}: {body}"
        time.sleep(0.2)


def test_thirty_second_outages_of_s3_and_postgresql_fail_no_job(fleet: Fleet) -> None:
    for member in fleet.workers:
        member.wait_ready(timeout=120)
    ids = fleet.create(15)
    fleet.rendering(ids)
    api = fleet.apis[0]
    fleet.s3_proxy.cut()
    s3_cut = time.monotonic()
    body = _wait_readyz(api, ok=False)
    assert body["checks"]["storage"].startswith("error"), body
    time.sleep(max(0.0, s3_cut + 5 - time.monotonic()))
    fleet.pg_proxy.cut()
    pg_cut = time.monotonic()
    body = _wait_readyz(api, ok=False)
    assert body["checks"]["database"].startswith("error"), body
    time.sleep(max(0.0, s3_cut + OUTAGE - time.monotonic()))
    fleet.s3_proxy.restore()
    time.sleep(max(0.0, pg_cut + OUTAGE - time.monotonic()))
    fleet.pg_proxy.restore()
    _wait_readyz(api, ok=True, timeout=60)
    done = fleet.wait(ids, timeout=150)
    failed = {i: b["error"] for i, b in done.items() if b["status"] != "completed"}
    assert not failed, failed


def test_no_other_process_changes_a_workers_preview_concurrency(fleet: Fleet) -> None:
    fleet.other.wait_ready(timeout=60)  # the worker of another engine, up since scenario 2
    # What the old code did when a process of another engine registered its queues: each
    # queue's shared row said "0 per worker" for everyone. Each process keeps its own setting.
    with fleet.db.begin() as conn:
        conn.execute(sa.text("UPDATE dbos.queues SET worker_concurrency = 0"))
    ids = fleet.create(6)
    seen_running: set[str] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [fleet.workflow(i) for i in ids]
        seen_running |= {e for e, s in states if s == "PENDING" and e}
        if all(s == "SUCCESS" for _, s in states):
            break
        time.sleep(0.1)
    done = fleet.wait(ids, timeout=60)
    assert all(b["status"] == "completed" for b in done.values())
    preview_workers = {fleet.executor_of(w) for w in fleet.workers}
    assert len(seen_running & preview_workers) >= 2, seen_running  # rendered in parallel


def test_every_job_completed_once_with_one_output_and_one_settlement(fleet: Fleet) -> None:
    assert len(fleet.jobs) == 30
    assert set(fleet.jobs.values()) == set(fleet.keys)
    done = fleet.wait(list(fleet.jobs), timeout=120)
    assert all(b["status"] == "completed" for b in done.values()), done
    api_executors = {fleet.executor_of(m) for m in fleet.apis}
    with fleet.db.connect() as conn:
        for job_id in fleet.jobs:
            executor, status = fleet.workflow(job_id)
            assert status == "SUCCESS" and executor not in api_executors, (job_id, executor)
            kinds = conn.execute(
                sa.text("SELECT kind FROM ledger WHERE job_id = :id ORDER BY id"), {"id": job_id}
            ).scalars().all()  # fmt: skip
            assert kinds == ["hold", "release", "charge"], (job_id, kinds)
    for job_id in fleet.jobs:
        listed = fleet.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"fleet/outputs/{job_id}/")
        names = sorted(o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", ()))
        assert names == ["last_frame.png", "spritesheet.jpg", "thumbnail.jpg", "video.mp4"]
    for member in fleet.apis:
        assert "job steps:" not in member.tail(100000), member.name
