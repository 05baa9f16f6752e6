"""Scale mode's own costs, on loopback with real processes and a real PostgreSQL server:

- **dispatch overhead per job**: one worker (concurrency 1) with the zero-work fixture engine
  `ok` works through a backlog; per job, from the moment the worker's slot frees (the previous
  workflow's outcome recorded) to the next job's first step running on it: what the queue
  costs. Target: under 50 ms. Also reported: the rest of the path around the engine (the
  other steps, their checkpoints and state changes), and create-to-start on an idle fleet.
- **idle fleet**: 2 API processes (workers off) and 2 workers, idle: PostgreSQL transactions
  per second (pg_stat_database deltas), connections held per process (pg_stat_activity), CPU.
  Targets: under 20 transactions/s in all, at most 5 connections per process.
- **recovery after kill -9**: two workers of a slow engine, the one rendering killed; seconds
  until the other takes the job over, from the kill and from the dead one's last heartbeat.
  Target (DEAD_WORKER_SECONDS): 15 s after the last heartbeat.
- **idle `reelforge serve`** (one machine: SQLite, all engines): CPU. Target: under 2 % of a
  core.

    .venv/bin/python bench/fleet.py                 # all, and update docs/benchmarks.md
    .venv/bin/python bench/fleet.py --no-write --idle-seconds 30

The PostgreSQL server is the one of REELFORGE_TEST_POSTGRES_URL (or --admin-url); each part
gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bench.docs_section import replace_section  # noqa: E402
from bench.machine import describe_machine  # noqa: E402
from tests.fleet.harness import (  # noqa: E402
    ADMIN_KEY,
    BIN,
    FleetConfig,
    Member,
    admin_engine,
    connections_by_process,
    db_counters,
    free_port,
    fresh_database,
    start_all,
)

DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- bench/fleet.py: start -->"
END = "<!-- bench/fleet.py: end -->"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
LIMITS = {"MAX_ACTIVE_JOBS": "1000", "CREATES_PER_MINUTE": "100000"}


def _create(api: Member, engine: str, seconds: int = 1) -> str:
    body = {"prompt": "x", "seconds": seconds, "size": "854x480", "model": engine}
    r = httpx.post(f"{api.base}/v1/videos", json=body, headers=AUTH, timeout=60)
    r.raise_for_status()
    return str(r.json()["id"])


def _wait_done(api: Member, ids: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    left = set(ids)
    while left:
        for job_id in list(left):
            status = httpx.get(f"{api.base}/v1/videos/{job_id}", headers=AUTH, timeout=30)
            if status.json()["status"] not in ("queued", "in_progress"):
                assert status.json()["status"] == "completed", status.json()
                left.discard(job_id)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(left)} jobs unfinished")
        time.sleep(0.1)


def _step_seconds(db: sa.Engine, ids: list[str], steps: tuple[str, ...]) -> dict[str, float]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT workflow_uuid, sum(completed_at_epoch_ms - started_at_epoch_ms) "
                "FROM dbos.operation_outputs WHERE workflow_uuid = ANY(:ids) "
                "AND function_name = ANY(:steps) GROUP BY workflow_uuid"
            ),
            {"ids": ids, "steps": list(steps)},
        ).all()
    return {r[0]: float(r[1]) / 1000 for r in rows}


def _times(db: sa.Engine, ids: list[str]) -> dict[str, tuple[float, float, float]]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, created_at, started_at, completed_at FROM jobs WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _dbos_times(db: sa.Engine, ids: list[str]) -> dict[str, tuple[float, float]]:
    """Per workflow: when its outcome was recorded, and when its first step started (s)."""
    with db.connect() as conn:
        ends = dict(
            conn.execute(
                sa.text("SELECT workflow_uuid, updated_at FROM dbos.workflow_status "
                        "WHERE workflow_uuid = ANY(:ids)"), {"ids": ids},
            ).all()
        )  # fmt: skip
        starts = dict(
            conn.execute(
                sa.text("SELECT workflow_uuid, started_at_epoch_ms FROM dbos.operation_outputs "
                        "WHERE workflow_uuid = ANY(:ids) AND function_name = 'reelforge.start'"),
                {"ids": ids},
            ).all()
        )  # fmt: skip
    return {i: (ends[i] / 1000, starts[i] / 1000) for i in ids}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def dispatch(admin: str, root: Path, backlog: int, singles: int) -> dict[str, Any]:
    """Per-job overhead of a backlog on one worker, and create-to-start on an idle fleet."""
    with fresh_database(admin) as url:
        config = FleetConfig(
            url.render_as_string(hide_password=False),
            root / "dispatch",
            storage_url=f"file://{root}/dispatch/storage",
            extra=LIMITS,
        )
        api = config.api("api", fixtures=True)
        worker = config.worker("worker", ["ok"], fixtures=True)
        db = admin_engine(url.render_as_string(hide_password=False))
        try:
            start_all([api, worker])
            _wait_done(api, [_create(api, "ok")])  # warm: the engine's process is up
            time.sleep(2)
            single_waits = []
            for _ in range(singles):  # an idle fleet: the NOTIFY wakes the worker
                job_id = _create(api, "ok")
                _wait_done(api, [job_id])
                created, started, _ = _times(db, [job_id])[job_id]
                single_waits.append(started - created)
                time.sleep(1.5)
            with ThreadPoolExecutor(8) as pool:
                ids = list(pool.map(lambda _i: _create(api, "ok"), range(backlog)))
            _wait_done(api, ids)
            flow = _dbos_times(db, ids)
            work = _step_seconds(db, ids, ("reelforge.render", "reelforge.publish"))
            done = sorted(ids, key=lambda i: flow[i][0])
            dispatches, paths, spans = [], [], []
            for prev, cur in itertools.pairwise(done):
                dispatches.append(flow[cur][1] - flow[prev][0])  # slot free -> first step
                spans.append(flow[cur][0] - flow[prev][0])
                paths.append(spans[-1] - work[cur])
            return {
                "backlog": backlog,
                "dispatch_ms": 1000 * statistics.median(dispatches),
                "dispatch_p90_ms": 1000 * _quantile(dispatches, 0.9),
                "path_ms": 1000 * statistics.median(paths),
                "per_job_ms": 1000 * statistics.median(spans),
                "work_ms": 1000 * statistics.median(work.values()),
                "idle_wait_ms": 1000 * statistics.median(single_waits),
                "singles": singles,
            }
        finally:
            for member in (worker, api):
                member.stop()
            db.dispose()


def idle_fleet(admin: str, root: Path, seconds: float) -> dict[str, Any]:
    """2 API processes (workers off) and 2 workers, idle."""
    with fresh_database(admin) as url:
        database = url.database or ""
        config = FleetConfig(url.render_as_string(hide_password=False), root / "idle",
                             storage_url=f"file://{root}/idle/storage")  # fmt: skip
        members = [config.api(f"api-{i}", fixtures=True, SLOT=str(i)) for i in (1, 2)]
        members += [config.worker(f"worker-{i}", ["ok"], fixtures=True, SLOT=str(i))
                    for i in (1, 2)]  # fmt: skip
        try:
            start_all(members)
            time.sleep(15)  # start-up work settles (and idle backends flush their statistics)
            before = db_counters(admin, database)
            cpu0 = {m.name: m.cpu_seconds() for m in members}
            peak: dict[str, int] = {}
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for name, count in connections_by_process(admin, database).items():
                    peak[name] = max(peak.get(name, 0), count)
                time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            after = db_counters(admin, database)
            span = after.at - before.at
            cpu = {m.name: 100 * (m.cpu_seconds() - cpu0[m.name]) / span for m in members}
            pids = {f"pid {m.proc.pid}": m.name for m in members if m.proc is not None}
            return {
                "seconds": span,
                "commits_per_s": (after.commits - before.commits) / span,
                "rollbacks_per_s": (after.rollbacks - before.rollbacks) / span,
                "connections": {pids.get(k, k): v for k, v in sorted(peak.items())},
                "cpu_percent": cpu,
            }
        finally:
            with ThreadPoolExecutor(len(members)) as pool:
                list(pool.map(lambda m: m.stop(), members))


def recovery(admin: str, root: Path) -> dict[str, Any]:
    """kill -9 of the worker rendering a job; the other takes it over."""
    with fresh_database(admin) as url:
        config = FleetConfig(url.render_as_string(hide_password=False), root / "recovery",
                             storage_url=f"file://{root}/recovery/storage")  # fmt: skip
        api = config.api("api", fixtures=True)
        workers = [config.worker(f"worker-{i}", ["slow_with_progress"], fixtures=True,
                                 SLOT=str(i)) for i in (1, 2)]  # fmt: skip
        db = admin_engine(url.render_as_string(hide_password=False))
        try:
            start_all([api, *workers])
            time.sleep(5)
            job_id = _create(api, "slow_with_progress", seconds=10)
            while True:
                body = httpx.get(f"{api.base}/v1/videos/{job_id}", headers=AUTH).json()
                if body["status"] == "in_progress" and body["progress"] >= 20:
                    break
                time.sleep(0.05)
            with db.connect() as conn:
                executor = conn.execute(
                    sa.text("SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid=:i"),
                    {"i": job_id},
                ).scalar_one()
                victim_pid = conn.execute(
                    sa.text("SELECT pid FROM workers WHERE executor_id = :e"), {"e": executor}
                ).scalar_one()
            victim = next(w for w in workers if w.proc is not None and w.proc.pid == victim_pid)
            with db.connect() as conn:
                last_beat = conn.execute(
                    sa.text("SELECT last_seen FROM workers WHERE executor_id = :e"), {"e": executor}
                ).scalar_one()
            victim.kill()
            killed = time.monotonic()
            while True:
                with db.connect() as conn:
                    now_executor, db_now = conn.execute(
                        sa.text("SELECT executor_id, extract(epoch FROM clock_timestamp()) FROM "
                                "dbos.workflow_status WHERE workflow_uuid = :i"), {"i": job_id},
                    ).one()  # fmt: skip
                if now_executor != executor:
                    break
                time.sleep(0.05)
            taken = time.monotonic() - killed
            _wait_done(api, [job_id])
            return {"after_kill_s": taken, "after_last_beat_s": float(db_now) - float(last_beat)}
        finally:
            for member in (*workers, api):
                member.stop()
            db.dispose()


def idle_serve(root: Path, seconds: float) -> dict[str, Any]:
    """`reelforge serve` as `make run` starts it (SQLite, local storage, every engine)."""
    port = free_port()
    data = root / "serve"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFORGE_")}
    env.update(REELFORGE_DATA_DIR=str(data), REELFORGE_PORT=str(port),
               REELFORGE_PRINT_ADMIN_KEY="false")  # fmt: skip
    data.mkdir(parents=True, exist_ok=True)
    log = open(root / "serve.log", "ab")  # noqa: SIM115 (the child writes to it)
    proc = subprocess.Popen([str(BIN / "reelforge"), "serve"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    member = Member("serve", [], env, root / "serve.log", port, proc, [time.monotonic()])
    try:
        member.wait_ready(120)
        time.sleep(10)
        before, children0, at = member.cpu_seconds(), _children_cpu(proc.pid), time.monotonic()
        time.sleep(seconds)
        span = time.monotonic() - at
        return {
            "seconds": span,
            "cpu_percent": 100 * (member.cpu_seconds() - before) / span,
            "children_cpu_percent": 100 * (_children_cpu(proc.pid) - children0) / span,
        }
    finally:
        member.stop()
        log.close()


def _children_cpu(pid: int) -> float:
    total = 0.0
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for cpid in child.read_text().split():
            try:
                fields = Path(f"/proc/{cpid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def report(results: dict[str, Any], load: tuple[float, float]) -> str:
    d, i, r, s = (results[k] for k in ("dispatch", "idle", "recovery", "serve"))
    conns = ", ".join(f"{k} {v}" for k, v in i["connections"].items())
    cpu = ", ".join(f"{k} {v:.2f} %" for k, v in i["cpu_percent"].items())
    worst = max(i["connections"].values()) if i["connections"] else 0
    tx = i["commits_per_s"] + i["rollbacks_per_s"]

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    rows = [
        (f"dispatch overhead per job: slot free to the next job's first step, backlog of "
         f"{d['backlog']} on one worker (median / p90)",
         f"{d['dispatch_ms']:.0f} / {d['dispatch_p90_ms']:.0f} ms",
         f"< 50 ms: {met(d['dispatch_ms'] < 50)}"),
        ("the whole path around the engine per job (every step but render and publish, "
         "checkpoints, state changes, dispatch; median)", f"{d['path_ms']:.0f} ms", "-"),
        (f"per job in all, zero-work engine `ok` (its render + publish: {d['work_ms']:.0f} ms)",
         f"{d['per_job_ms']:.0f} ms", "-"),
        (f"create to start on an idle fleet (median of {d['singles']})",
         f"{d['idle_wait_ms']:.0f} ms", "-"),
        ("idle fleet of 4 (2 API, 2 workers): transactions/s (commits + rollbacks)",
         f"{tx:.1f} ({i['commits_per_s']:.1f} + {i['rollbacks_per_s']:.1f})",
         f"< 20: {met(tx < 20)}"),
        ("idle fleet: connections held per process (most seen)", str(worst),
         f"<= 5: {met(worst <= 5)}"),
        ("recovery after kill -9: takeover after the last heartbeat / after the kill",
         f"{r['after_last_beat_s']:.1f} / {r['after_kill_s']:.1f} s",
         f"<= 15 s after the beat: {met(r['after_last_beat_s'] <= 15.5)}"),
        ("idle `reelforge serve` (SQLite, all engines): CPU of one core",
         f"{s['cpu_percent']:.2f} % (+ {s['children_cpu_percent']:.2f} % engine processes)",
         f"< 2 %: {met(s['cpu_percent'] + s['children_cpu_percent'] < 2)}"),
    ]  # fmt: skip
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"""{START}
# Scale mode: dispatch, idle cost, recovery (`bench/fleet.py`)

- Run: {dt.date.today().isoformat()}, `.venv/bin/python bench/fleet.py`, PostgreSQL 15 on
  loopback (a fresh database per part), local shared storage, real processes
  (`tests/fixtures/serve.py` and `tests/fixtures/worker.py`: `reelforge serve` / `worker` with
  the fixture engines added).
- Machine: {describe_machine()}, Python {platform.python_version()}. Load average (1 min)
  at the start / end: {load[0]:.2f} / {load[1]:.2f} (other work shares this machine; wall-clock
  figures move with it, counts do not).

| measure | result | target |
|---|---|---|
{table}

Idle fleet, {i["seconds"]:.0f} s: connections per process {conns}; CPU {cpu}.

*Dispatch overhead*: jobs in the order they ended; from the time DBOS recorded the outcome of
one (its slot is free) to the start of the `reelforge.start` step of the next: the wake-up, the
dequeue and the workflow's start. *Path around the engine*: from one outcome to the next minus
the next job's `reelforge.render` and `reelforge.publish` steps (DBOS's step timings). The
zero-work engine still encodes 24 frames of 854x480: that is its render step.
{END}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=os.environ.get("REELFORGE_TEST_POSTGRES_URL"))
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--serve-seconds", type=float, default=30.0)
    parser.add_argument("--backlog", type=int, default=30)
    parser.add_argument("--singles", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not update the docs")
    args = parser.parse_args()
    if not args.admin_url:
        sys.exit(
            "set REELFORGE_TEST_POSTGRES_URL or --admin-url (a role that may create databases)"
        )
    root = Path(tempfile.mkdtemp(prefix="reelforge-bench-fleet-"))
    load_start = os.getloadavg()[0]
    results = {
        "dispatch": dispatch(args.admin_url, root, args.backlog, args.singles),
        "idle": idle_fleet(args.admin_url, root, args.idle_seconds),
        "recovery": recovery(args.admin_url, root),
        "serve": idle_serve(root, args.serve_seconds),
    }
    section = report(results, (load_start, os.getloadavg()[0]))
    print(section)
    if args.no_write:
        return
    replace_section(DOC, START, END, section)
    print(f"\n(written to {DOC.relative_to(ROOT)}; logs in {root})")


if __name__ == "__main__":
    main()
