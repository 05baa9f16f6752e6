"""`reelforge keys ...`: create (also offline, for recovery), list, revoke."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from reelforge.cli.base import client_for, fail, keys_app, settings_or_exit
from reelforge.errors import ReelforgeError


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="A label for the key.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="Scope to grant (repeatable).")
    ] = None,
    admin: Annotated[
        bool,
        typer.Option(
            "--admin",
            help="Create an admin key directly in the data directory's database, with no "
            "server and no key (recovery: run it on the server as the service's user).",
        ),
    ] = False,
) -> None:
    """Create a key; its secret is printed only now."""
    if admin:
        typer.echo(json.dumps(_create_admin_key_offline(name), indent=2))
        return
    with client_for(ctx) as client:
        created = client.create_key(name, scope)
    typer.echo(json.dumps(created, indent=2))


def _create_admin_key_offline(name: str) -> dict[str, Any]:
    """An admin key written straight into the store that `REELFORGE_DATA_DIR` /
    `REELFORGE_DATABASE_URL` name (the server may be running or not), saved owner-only to
    `<data_dir>/admin_key` as well."""
    from reelforge.platform.keys import ALL_SCOPES, KeyLimits, KeyRing, save_admin_key
    from reelforge.storage.signing import signing_secret
    from reelforge.store.database import open_database, private_dir
    from reelforge.store.key_repository import KeyRepository
    from reelforge.store.secret_box import SecretBox

    settings = settings_or_exit()
    try:
        private_dir(settings.data_dir)
        configured = settings.signing_key.get_secret_value() if settings.signing_key else None
        box = SecretBox.from_signing_secret(signing_secret(configured, settings.signing_key_path))
        database = open_database(settings.resolved_database_url)
    except (OSError, ValueError) as exc:
        fail(f"cannot open the store of {settings.data_dir}: {exc}", code=2)
    try:
        created = KeyRing(KeyRepository(database, box)).create(name, ALL_SCOPES, limits=KeyLimits())
    except ReelforgeError as exc:
        fail(exc.message, code=2)
    finally:
        database.dispose()
    save_admin_key(settings.admin_key_path, created.key)
    return {
        "id": created.record.id,
        "name": created.record.name,
        "scopes": list(created.record.scopes),
        "key": created.key,
        "saved_to": str(settings.admin_key_path),
    }


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """List keys (never their secrets)."""
    with client_for(ctx) as client:
        keys = client.list_keys()
    for k in keys:
        revoked = " revoked" if k.get("revoked_at") else ""
        scopes = ",".join(k.get("scopes") or [])
        typer.echo(f"{k.get('id')}\t{k.get('name')}\t{scopes}{revoked}")


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="Key id.")]) -> None:
    """Revoke a key."""
    with client_for(ctx) as client:
        client.revoke_key(key_id)
    typer.echo(f"{key_id} revoked")
