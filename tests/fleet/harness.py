"""A fleet on loopback for the fleet tests and `bench/fleet.py`: a fresh PostgreSQL database,
TCP proxies that can cut PostgreSQL and S3 off (the shared PostgreSQL server is never
stopped), moto's S3 server, and reelforge processes as an operator runs them (`reelforge
serve`, `reelforge worker --engine ...`, or their fixture-engine twins)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_KEY = "rf_" + "f" * 40
POSTGRES_ENV = "REELFORGE_TEST_POSTGRES_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- PostgreSQL ---------------------------------------------------------------------------


def admin_engine(admin_url: str) -> sa.Engine:
    url = sa.make_url(admin_url).set(drivername="postgresql+psycopg")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str = "reelforge_fleet_") -> Iterator[sa.URL]:
    """A new, empty database on the server of `admin_url`, dropped afterwards."""
    admin = admin_engine(admin_url)
    name = prefix + secrets.token_hex(5)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name, drivername="postgresql")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class DbCounters:
    commits: int
    rollbacks: int
    at: float


def db_counters(admin_url: str, database: str) -> DbCounters:
    """pg_stat_database's transaction counters of `database` (a snapshot; the statistics
    collector flushes about once a second)."""
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            row = conn.execute(
                sa.text(
                    "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = :d"
                ),
                {"d": database},
            ).one()
    finally:
        engine.dispose()
    return DbCounters(int(row[0]), int(row[1]), time.monotonic())


def connections_by_process(admin_url: str, database: str) -> dict[str, int]:
    """Open connections to `database` per process, from the application names reelforge gives
    them (`reelforge/<pid>`, and `reelforge/<pid>-<tag> lease` for the executor lease)."""
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT application_name FROM pg_stat_activity WHERE datname = :d "
                    "AND pid <> pg_backend_pid()"
                ),
                {"d": database},
            ).scalars()
            counts: dict[str, int] = {}
            for name in rows:
                found = re.match(r"reelforge/(\d+)", name or "")
                key = f"pid {found.group(1)}" if found else (name or "?")
                counts[key] = counts.get(key, 0) + 1
            return counts
    finally:
        engine.dispose()


# ---- a TCP proxy that can cut a server off ------------------------------------------------

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` drops every connection and refuses new
    ones (as a server that went away); `restore()` listens again on the same port."""

    def __init__(self, target: tuple[str, int], port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self.cuts = 0
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(256)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            pairs, self._pairs = list(self._pairs), set()
        for a, b in pairs:
            for s in (a, b):
                # shutdown() first: a close() would wait for the pump blocked in recv().
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()
        self.cuts += 1

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._pairs.add(pair)
            threading.Thread(target=self._pump, args=(client, upstream, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair: Any) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        # One side ended: end both (a killed client's server session must end too).
        with self._lock:
            self._pairs.discard(pair)
        for s in pair:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()


# ---- S3 -----------------------------------------------------------------------------------


class MotoServer:
    """moto's standalone S3 server (`moto_server`, from the dev dependencies) on loopback."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_dir / "moto.log", "ab")  # noqa: SIM115 (kept for the process)
        self._proc = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT, env=s3_free_env(os.environ),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    raise AssertionError("moto_server did not start") from None
                time.sleep(0.1)

    def make_bucket(self, name: str) -> None:
        import boto3

        boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        ).create_bucket(Bucket=name)  # fmt: skip

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._log.close()


_AWS_ENV = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
)  # fmt: skip


def s3_free_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the host's AWS configuration (no instance-metadata lookups either)."""
    out = {k: v for k, v in env.items() if k not in _AWS_ENV}
    out.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    return out


# ---- reelforge processes ------------------------------------------------------------------


@dataclass
class Member:
    """One reelforge process of the fleet."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None  # API port, or the worker's health port
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child writes to it)
        log.write(f"\n----- start {time.strftime('%H:%M:%S')} -----\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)  # fmt: skip
        log.close()
        self.starts.append(time.monotonic())

    def ready(self) -> bool:
        if self.port is None:
            return self.alive()
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout: float = 90) -> float:
        """Seconds from the last start until /readyz answers 200."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.returncode()}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready after {timeout} s:\n{self.tail()}")
            time.sleep(0.1)
        return time.monotonic() - self.starts[-1]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 60) -> int | None:
        if not self.alive():
            return self.returncode()
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process (its children not included)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class FleetConfig:
    """What every member shares: the database (through the proxy), storage, the signing key."""

    database_url: str
    data_root: Path
    storage_url: str | None = None
    s3_endpoint: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, name: str, **settings: str) -> dict[str, str]:
        values = {
            "DATA_DIR": str(self.data_root / name),
            "DATABASE_URL": self.database_url,
            "BOOTSTRAP_KEY": ADMIN_KEY,
            "SIGNING_KEY": "s" * 40,
            "PRINT_ADMIN_KEY": "false",
            "LOG_FORMAT": "text",
            "QUALITY_REPORTS": "false",
            "ALLOW_PRIVATE_URLS": "true",
            **({"STORAGE_URL": self.storage_url} if self.storage_url else {}),
            **(
                {
                    "S3_ENDPOINT_URL": self.s3_endpoint,
                    "S3_REGION": "us-east-1",
                    "S3_ACCESS_KEY_ID": "testing",
                    "S3_SECRET_ACCESS_KEY": "testing",
                    "S3_ADDRESSING_STYLE": "path",
                }
                if self.s3_endpoint
                else {}
            ),
            **self.extra,
            **settings,
        }
        env = s3_free_env(os.environ)
        env = {k: v for k, v in env.items() if not k.startswith("REELFORGE_")}
        env.update({f"REELFORGE_{k}": v for k, v in values.items()})
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        return env

    def api(self, name: str, *, fixtures: bool = False, **settings: str) -> Member:
        """`reelforge serve` with workers off (`fixtures`: with the fixture engines too)."""
        port = free_port()
        env = self.env(name, PORT=str(port), RUN_WORKERS="false", **settings)
        args = (
            [sys.executable, "-m", "tests.fixtures.serve"]
            if fixtures
            else [str(BIN / "reelforge"), "serve"]
        )
        return Member(name, args, env, self.data_root / f"{name}.log", port)

    def worker(self, name: str, engines: list[str], *, fixtures: bool = False,
               **settings: str) -> Member:  # fmt: skip
        """`reelforge worker --engine ...` (`fixtures`: with the fixture engines too)."""
        port = free_port()
        env = self.env(name, WORKER_HEALTH_PORT=str(port), **settings)
        flags = [a for e in engines for a in ("--engine", e)]
        args = (
            [sys.executable, "-m", "tests.fixtures.worker", *flags]
            if fixtures
            else [str(BIN / "reelforge"), "worker", *flags]
        )
        return Member(name, args, env, self.data_root / f"{name}.log", port)


def start_all(members: list[Member], timeout: float = 120) -> dict[str, float]:
    """Start `members` at the same moment; seconds each took to be ready."""
    for member in members:
        member.start()
    return {m.name: m.wait_ready(timeout) for m in members}
