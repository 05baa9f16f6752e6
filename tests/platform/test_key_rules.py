"""Keys and secrets (issue 12): the last admin key stays, an offline recovery path, webhook
secrets only for keys that can use them and sealed at rest, owner-only files whatever the
umask, signed links kept out of the access log, the admin key printed only when generated,
and a start-up that fails in one line before creating anything."""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from reelforge.api.app import create_app
from reelforge.cli import app as cli
from reelforge.logs import RedactSignedLinks, redact_url
from reelforge.store.secret_box import PREFIX, SecretBox, SecretBoxError
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path / "data"), engines=fixture_registry())
    with TestClient(app, headers=AUTH) as c:
        yield c


def _admin_id(client: TestClient) -> str:
    keys = client.get("/v1/keys").json()["data"]
    return next(k["id"] for k in keys if "admin" in k["scopes"] and not k["revoked_at"])


# ---- the last admin key -------------------------------------------------------------------


def test_the_last_active_admin_key_cannot_be_revoked(client: TestClient) -> None:
    first = _admin_id(client)
    r = client.delete(f"/v1/keys/{first}")
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "conflict.last_admin_key" and err["param"] == "id"
    assert "last active admin key" in err["message"]
    assert client.get("/v1/keys/me").status_code == 200  # still works

    second = client.post("/v1/keys", json={"name": "ops", "scopes": ["admin"]}).json()
    assert client.delete(f"/v1/keys/{first}").status_code == 200  # another admin is left
    ops = {"Authorization": f"Bearer {second['key']}"}
    r = client.delete(f"/v1/keys/{second['id']}", headers=ops)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict.last_admin_key"
    # Non-admin keys are revoked as before.
    plain = client.post("/v1/keys", json={"name": "app"}, headers=ops).json()
    assert client.delete(f"/v1/keys/{plain['id']}", headers=ops).status_code == 200


def _race_two_admins(db_url: str) -> None:
    """Two admins revoke each other at once, 10 times over: one admin always remains."""
    from concurrent.futures import ThreadPoolExecutor

    from reelforge.errors import Conflict
    from reelforge.platform.keys import ALL_SCOPES, KeyRing
    from reelforge.store.database import open_database
    from reelforge.store.key_repository import KeyRepository

    engine = open_database(db_url)
    try:
        ring = KeyRing(KeyRepository(engine))
        for _ in range(10):
            a = ring.create("a", ALL_SCOPES).record.id
            b = ring.create("b", ALL_SCOPES).record.id
            for k in ring.list_all():  # only a and b are active admins
                if k.id not in (a, b) and k.revoked_at is None:
                    ring.revoke(k.id)

            def revoke(key_id: str) -> bool:
                try:
                    ring.revoke(key_id)
                except Conflict:
                    return False
                return True

            with ThreadPoolExecutor(2) as pool:
                done = list(pool.map(revoke, [a, b]))
            assert done.count(True) == 1, done
            active = [k for k in ring.list_all() if k.revoked_at is None]
            assert len(active) == 1 and "admin" in active[0].scopes
    finally:
        engine.dispose()


def test_two_admins_revoking_each_other_at_once_leave_one(tmp_path: Path) -> None:
    _race_two_admins(f"sqlite:///{tmp_path / 'keys.db'}")


@pytest.mark.postgres
def test_the_last_admin_key_rule_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url=postgres_url)
    with TestClient(create_app(settings, engines=fixture_registry()), headers=AUTH) as c:
        first = _admin_id(c)
        assert c.delete(f"/v1/keys/{first}").status_code == 409
        second = c.post("/v1/keys", json={"name": "ops", "scopes": ["admin"]}).json()
        assert c.delete(f"/v1/keys/{second['id']}").status_code == 200
        assert c.delete(f"/v1/keys/{first}").status_code == 409
        me = c.get("/v1/keys/me").json()
        assert me["webhook_secret"].startswith("whsec_")  # sealed, opened on read
    _race_two_admins(postgres_url)


# ---- webhook secrets ----------------------------------------------------------------------


def test_webhook_secret_only_for_keys_that_can_create_jobs(client: TestClient) -> None:
    reader = client.post("/v1/keys", json={"name": "ro", "scopes": ["read"]}).json()
    writer = client.post("/v1/keys", json={"name": "rw"}).json()
    me = client.get("/v1/keys/me", headers={"Authorization": f"Bearer {reader['key']}"}).json()
    assert me["webhook_secret"] is None
    me = client.get("/v1/keys/me", headers={"Authorization": f"Bearer {writer['key']}"}).json()
    assert me["webhook_secret"] == writer["webhook_secret"]
    assert client.get("/v1/keys/me").json()["webhook_secret"].startswith("whsec_")


def test_webhook_secrets_are_sealed_at_rest(client: TestClient, tmp_path: Path) -> None:
    created = client.post("/v1/keys", json={"name": "alice"}).json()
    db = tmp_path / "data" / "reelforge.db"
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT id, webhook_secret FROM api_keys").fetchall())
    assert all(v.startswith(PREFIX) for v in stored.values()), stored
    assert created["webhook_secret"] not in stored[created["id"]]
    for f in tmp_path.glob("data/reelforge.db*"):
        assert created["webhook_secret"].encode() not in f.read_bytes()
    # Read back through the API as it was issued.
    alice = {"Authorization": f"Bearer {created['key']}"}
    assert (
        client.get("/v1/keys/me", headers=alice).json()["webhook_secret"]
        == (created["webhook_secret"])
    )


def test_plain_secrets_from_before_are_sealed_at_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers=AUTH) as c:
        created = c.post("/v1/keys", json={"name": "old"}).json()
    db = tmp_path / "data" / "reelforge.db"
    with sqlite3.connect(db) as conn:  # as an older version stored it
        conn.execute(
            "UPDATE api_keys SET webhook_secret = ? WHERE id = ?",
            (created["webhook_secret"], created["id"]),
        )
    with TestClient(create_app(settings, engines=fixture_registry()), headers=AUTH) as c:
        key = {"Authorization": f"Bearer {created['key']}"}
        assert (
            c.get("/v1/keys/me", headers=key).json()["webhook_secret"]
            == (created["webhook_secret"])
        )
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute(
            "SELECT webhook_secret FROM api_keys WHERE id = ?", (created["id"],)
        ).fetchone()
    assert value.startswith(PREFIX)


def test_secret_box_binds_the_row_and_the_key() -> None:
    box = SecretBox.from_signing_secret(b"s" * 32)
    sealed = box.seal("whsec_abc", context="key_1")
    assert box.open(sealed, context="key_1") == "whsec_abc"
    with pytest.raises(SecretBoxError):
        box.open(sealed, context="key_2")  # copied onto another row
    with pytest.raises(SecretBoxError):
        SecretBox.from_signing_secret(b"t" * 32).open(sealed, context="key_1")


# ---- files --------------------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_owner_only_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings, engines=fixture_registry()), headers=AUTH) as c:
        vid = c.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"})
        assert vid.status_code == 202
        data = settings.data_dir
        assert _mode(data) == 0o700
        files = [data / "reelforge.db", data / "dbos.sqlite", settings.admin_key_path,
                 settings.signing_key_path]  # fmt: skip
        files += [p for p in data.glob("*.sqlite-*")] + [p for p in data.glob("*.db-*")]
        assert (data / "reelforge.db-wal").exists()
        for path in files:
            assert _mode(path) == 0o600, f"{path.name} is {oct(_mode(path))}"


def test_files_left_open_by_an_older_version_are_tightened(tmp_path: Path, umask_022: None) -> None:
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings, engines=fixture_registry()), headers=AUTH):
        pass
    for path in (settings.data_dir, settings.data_dir / "reelforge.db", settings.signing_key_path):
        path.chmod(0o755 if path.is_dir() else 0o644)
    with TestClient(create_app(settings, engines=fixture_registry()), headers=AUTH):
        assert _mode(settings.data_dir) == 0o700
        assert _mode(settings.data_dir / "reelforge.db") == 0o600
        assert _mode(settings.signing_key_path) == 0o600


# ---- access log ---------------------------------------------------------------------------


def test_redact_url() -> None:
    assert redact_url("GET /v1/videos/v/content?expires=9&signature=abc HTTP/1.1") == (
        "GET /v1/videos/v/content?expires=9&signature=REDACTED HTTP/1.1"
    )
    assert redact_url("/x?X-Amz-Signature=f00&a=1") == "/x?X-Amz-Signature=REDACTED&a=1"
    assert redact_url("/v1/videos?limit=2") == "/v1/videos?limit=2"


def test_access_log_line_of_a_signed_link_has_no_signature(tmp_path: Path) -> None:
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    access = logging.getLogger("uvicorn.access")
    handler = Keep()
    port = _free_port()
    app = create_app(make_settings(tmp_path / "data"), engines=fixture_registry())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            thread.join(0.02)
        access.addHandler(handler)  # after uvicorn set its loggers up (that drops handlers)
        url = f"http://127.0.0.1:{port}/v1/videos/video_x/content?expires=9&signature=s3cr3t"
        httpx.get(url, timeout=10)
    finally:
        server.should_exit = True
        thread.join(30)
        access.removeHandler(handler)
        for f in [f for f in access.filters if isinstance(f, RedactSignedLinks)]:
            access.removeFilter(f)
    lines = [line for line in seen if "/content" in line]
    assert lines, seen
    assert all("s3cr3t" not in line and "signature=REDACTED" in line for line in lines), lines


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the admin key on start ---------------------------------------------------------------


def test_admin_key_printed_only_when_generated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preset = make_settings(tmp_path / "a", print_admin_key=True)
    with TestClient(create_app(preset, engines=fixture_registry())):
        pass
    err = capsys.readouterr().err
    assert "serving at" in err and ADMIN_KEY not in err
    assert "REELFORGE_BOOTSTRAP_KEY" in err

    generated = make_settings(tmp_path / "b", print_admin_key=True, bootstrap_key=None)
    with TestClient(create_app(generated, engines=fixture_registry())):
        pass
    err = capsys.readouterr().err
    key = generated.admin_key_path.read_text().strip()
    assert key in err and "shown once" in err


# ---- reelforge serve and keys create --admin ----------------------------------------------


def _env(data: Path, **extra: str) -> dict[str, str]:
    return {"REELFORGE_DATA_DIR": str(data), "REELFORGE_PRINT_ADMIN_KEY": "true", **extra}


def test_serve_with_a_short_bootstrap_key_exits_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["serve"], env=_env(data, REELFORGE_BOOTSTRAP_KEY="rf_short"))
    assert result.exit_code == 2
    out = result.output.strip()
    assert len(out.splitlines()) == 1 and "Traceback" not in out
    assert "REELFORGE_BOOTSTRAP_KEY" in out and "32 characters" in out
    assert not data.exists()


def test_serve_with_a_bad_setting_exits_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["serve"], env=_env(data, REELFORGE_PORT="not-a-port"))
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "REELFORGE_PORT" in result.output
    assert not data.exists()


def test_worker_with_a_bad_setting_exits_in_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", REELFORGE_ENGINE_ISOLATION="nonsense")
    result = CliRunner().invoke(cli, ["worker", "--engine", "ok"], env=env)
    assert result.exit_code == 2, result.output
    out = result.output.strip()
    assert len(out.splitlines()) == 1 and "REELFORGE_ENGINE_ISOLATION" in out


def test_serve_on_a_taken_port_exits_before_creating_or_printing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--host", "127.0.0.1", "--port", str(port)], env=_env(data)
        )
    assert result.exit_code == 2
    out = result.output.strip()
    assert len(out.splitlines()) == 1 and f"127.0.0.1:{port}" in out
    assert "serving at" not in out and "rf_" not in out
    assert not data.exists()


def test_keys_create_admin_works_offline_and_recovers_access(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings, engines=fixture_registry()), headers=AUTH):
        pass  # a store that exists, whose admin key is then lost
    settings.admin_key_path.unlink()
    result = CliRunner().invoke(
        cli, ["keys", "create", "--admin", "--name", "recovery"],
        env={"REELFORGE_DATA_DIR": str(settings.data_dir)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["scopes"] == ["generate", "read", "admin"]
    assert settings.admin_key_path.read_text().strip() == created["key"]
    assert _mode(settings.admin_key_path) == 0o600
    with TestClient(create_app(settings, engines=fixture_registry())) as c:
        recovered = {"Authorization": f"Bearer {created['key']}"}
        assert c.get("/v1/keys", headers=recovered).status_code == 200
        me = c.get("/v1/keys/me", headers=recovered).json()
        assert me["webhook_secret"].startswith("whsec_")  # sealed with the same signing key
