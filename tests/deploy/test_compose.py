"""deploy/compose.yaml, run without containers: every service it declares (its default profile)
becomes a local process started with the file's own command and environment, in the order its
`depends_on` gives, and the fleet must answer: a job created through one API replica completes,
rendered by a worker (never by an API replica), and is read and downloaded through the other.

What stands in for the containers: the `postgres` image is a fresh database on the test server
($REELFORGE_TEST_POSTGRES_URL); the S3 server's image is moto's standalone server
(`moto_server`); every other service runs its `command` from this checkout (`reelforge` and
`python` of the test's environment). Service hostnames and container ports become 127.0.0.1 and
free local ports, and each process gets its own REELFORGE_DATA_DIR (the image's
/var/lib/reelforge). Nothing else of the environment is changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.postgres import postgres_url  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
BIN = Path(sys.executable).parent
ADMIN_KEY = "rf_" + secrets.token_hex(20)
VARIABLES = {"REELFORGE_BOOTSTRAP_KEY": ADMIN_KEY, "REELFORGE_SIGNING_KEY": secrets.token_hex(32)}
_AWS_ENV = re.compile(r"^AWS_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's variable syntax: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error},
    ${NAME?error}, and $$ for a literal $."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3)
        value = variables.get(name)
        unset_or_empty = value is None or (op is not None and op.startswith(":") and not value)
        if op and op.endswith("-"):
            return arg if unset_or_empty else str(value)
        if op and op.endswith("?"):
            if unset_or_empty:
                raise AssertionError(f"compose needs {name}: {arg}")
            return str(value)
        return value or ""

    return _VAR.sub(one, text)


def test_interpolation_follows_compose() -> None:
    v = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET}/${UNSET:-d}/${EMPTY:-d}/${EMPTY-d}/$$HOME", v) == "x/d/d//$HOME"
    with pytest.raises(AssertionError, match="needs UNSET: say so"):
        interpolate("${UNSET:?say so}", v)


def container_ports(service: dict[str, Any]) -> list[int]:
    ports = [int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports", [])]
    ports += [int(str(p).split("/")[0]) for p in service.get("expose", [])]
    return sorted(set(ports))


def start_order(services: dict[str, dict[str, Any]]) -> list[str]:
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        assert name not in path, f"depends_on cycle: {path}"
        if name in order:
            return
        for dep in services[name].get("depends_on", {}):
            visit(dep, (*path, name))
        order.append(name)

    for name in services:
        visit(name)
    return order


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    ports: dict[int, int] = field(default_factory=dict)

    def tail(self, n: int = 30) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} (exit {self.proc.poll()}) ---\n" + "\n".join(lines[-n:])


class Fleet:
    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp = tmp
        self.database_url = sa.make_url(database_url)
        self.addresses: dict[str, str] = {}  # "service:port" -> "127.0.0.1:port"
        self.procs: dict[str, Proc] = {}

    # -- what stands in for each image -------------------------------------------------------

    def start(self, name: str, service: dict[str, Any]) -> None:
        image = str(service.get("image", ""))
        if image.startswith("postgres:"):
            port = self.database_url.port or 5432
            self.addresses[f"{name}:5432"] = f"{self.database_url.host}:{port}"
            self.postgres_service = name
            return
        if image.startswith(("minio/", "chrislusf/seaweedfs", "quay.io/minio/")):
            local = free_port()
            for port in container_ports(service):
                self.addresses[f"{name}:{port}"] = f"127.0.0.1:{local}"
            self._spawn(name, [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(local)],
                        self._base_env(), {})  # fmt: skip
            self._wait_port(name, local)
            return
        ports = {p: free_port() for p in container_ports(service)}
        for p, local in ports.items():
            self.addresses[f"{name}:{p}"] = f"127.0.0.1:{local}"
        env = self._base_env()
        env["REELFORGE_DATA_DIR"] = str(self.tmp / name / "data")  # the image's data directory
        for key, raw in (service.get("environment") or {}).items():
            env[key] = self._rewrite(interpolate(str(raw), VARIABLES), ports)
        command = [self._rewrite(interpolate(str(a), VARIABLES), ports) for a in service["command"]]
        command[0] = {"reelforge": str(BIN / "reelforge"), "python": sys.executable}[command[0]]
        self._spawn(name, command, env, ports)

    def _rewrite(self, value: str, own_ports: dict[int, int]) -> str:
        try:
            url = sa.make_url(value)
        except Exception:
            url = None
        if url is not None and url.host == getattr(self, "postgres_service", None):
            fresh = self.database_url.set(drivername=url.drivername)
            return fresh.render_as_string(hide_password=False)
        for address, local in self.addresses.items():
            value = value.replace(address, local)
        if value == "0.0.0.0":
            return "127.0.0.1"
        for port, local in own_ports.items():
            if value == str(port):
                return str(local)
            value = value.replace(f"127.0.0.1:{port}", f"127.0.0.1:{local}")
        return value

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("REELFORGE_") and not _AWS_ENV.match(k)}  # fmt: skip
        env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
        return env

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str], ports: dict[int, int]) -> None:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # fmt: skip
        self.procs[name] = Proc(name, proc, log, ports)

    def _wait_port(self, name: str, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            self.check_alive(name)
            assert time.monotonic() < deadline, self.procs[name].tail()
            time.sleep(0.1)

    # -- conditions ------------------------------------------------------------------------

    def check_alive(self, name: str) -> None:
        p = self.procs[name]
        assert p.proc.poll() is None, p.tail()

    def wait(self, name: str, condition: str, timeout: float = 120) -> None:
        if name not in self.procs:  # the database: the test server is up
            return
        if condition == "service_completed_successfully":
            p = self.procs[name]
            try:
                code = p.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise AssertionError(p.tail()) from None
            assert code == 0, p.tail()

    def wait_ready(self, name: str, port: int, timeout: float = 120) -> None:
        local = self.procs[name].ports[port]
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{local}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            self.check_alive(name)
            assert time.monotonic() < deadline, self.procs[name].tail()
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, two seconds, then SIGKILL to each process's group (its engine children
        too): the graceful stop is the fleet tests' subject, not this one's."""
        for p in self.procs.values():
            if p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 2
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.proc.pid, signal.SIGKILL)
            p.proc.wait()


@pytest.fixture
def fleet(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Fleet, dict[str, Any]]]:  # noqa: F811
    spec = yaml.safe_load(COMPOSE.read_text())
    services = {n: s for n, s in spec["services"].items() if not s.get("profiles")}
    fleet = Fleet(tmp_path, postgres_url)
    try:
        for name in start_order(services):
            for dep, cond in (services[name].get("depends_on") or {}).items():
                fleet.wait(dep, cond["condition"])
            fleet.start(name, services[name])
        yield fleet, services
    except BaseException:
        print("\n".join(p.tail() for p in fleet.procs.values()))
        raise
    finally:
        fleet.stop()


def _metric(body: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


@pytest.mark.postgres
@pytest.mark.s3
@pytest.mark.slow
def test_the_compose_fleet_renders_a_job_through_its_api_replicas(
    fleet: tuple[Fleet, dict[str, Any]],
) -> None:
    f, services = fleet
    role = {n: str(s.get("command", ["", ""])[1]) for n, s in services.items()}
    api = sorted(n for n in services if role[n] == "serve")
    workers = sorted(n for n in services if role[n] == "worker")
    assert len(api) == 2 and len(workers) == 2, (api, workers)
    for name in api:
        f.wait_ready(name, 8000)
    for name in workers:
        f.wait_ready(name, 8001)
    first, second = (f"http://127.0.0.1:{f.procs[n].ports[8000]}" for n in api)
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    created = httpx.post(
        f"{first}/v1/videos", headers=auth, timeout=30,
        json={"prompt": "a paper boat drifts on a pond", "seconds": 1, "resolution": "480p"},
    )  # fmt: skip
    assert created.status_code == 202, created.text
    video_id = created.json()["id"]
    deadline = time.monotonic() + 90
    while True:
        body = httpx.get(f"{second}/v1/videos/{video_id}", headers=auth, timeout=10).json()
        if body["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["status"] == "completed", body
    content = httpx.get(f"{second}/v1/videos/{video_id}/content", headers=auth, timeout=30,
                        follow_redirects=True)  # fmt: skip
    assert content.status_code == 200 and len(content.content) > 1000

    # Rendered by a worker (its metrics, on its health port), by no API replica.
    rendered = {
        n: _metric(httpx.get(f"http://127.0.0.1:{f.procs[n].ports[port]}/metrics").text,
                   "reelforge_jobs_finished_total", engine="preview", status="succeeded")
        for n, port in [*((w, 8001) for w in workers), *((a, 8000) for a in api)]
    }  # fmt: skip
    assert sum(rendered[w] for w in workers) == 1, rendered
    assert all(rendered[a] == 0 for a in api), rendered
    api_metrics = httpx.get(f"{first}/metrics").text
    assert _metric(api_metrics, "reelforge_create_seconds_count", engine="preview") == 1
    assert "reelforge_queue_depth{" in api_metrics
