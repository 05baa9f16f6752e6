"""`serve` and `worker`: the processes of the service."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from reelforge.cli.base import app, fail, settings_or_exit
from reelforge.errors import ReelforgeError


def _bind(host: str, port: int) -> Any:
    """The listening socket, bound before anything is created or printed; one line and exit 2
    when the address cannot be had (port taken, no such address, no permission)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2)
    sock.set_inheritable(True)
    return sock


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535)] = None,
) -> None:
    """Run the API and, in embedded mode, the workers in one process.

    Start-up checks the settings and binds the port before it creates or prints anything; a bad
    setting or a taken port is one line on stderr and exit status 2."""
    settings = settings_or_exit(host=host, port=port)
    from reelforge.api.app import check_settings, create_app

    try:
        check_settings(settings)
    except ReelforgeError as exc:
        fail(f"bad setting {exc.param}: {exc.message}", code=2)
    sock = _bind(settings.host, settings.port)
    from reelforge.logs import configure_logging

    configure_logging(settings.log_level, json_logs=settings.log_format == "json")
    application = create_app(settings)
    import uvicorn

    # log_config=None: uvicorn's loggers go through the handler configure_logging set (JSON)
    config = uvicorn.Config(application, log_level="info", log_config=None)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(3)  # start-up failed; the log says why


@app.command()
def worker(
    engine: Annotated[
        list[str], typer.Option("--engine", help="Engine whose queue to serve (repeatable).")
    ],
) -> None:
    """Render jobs of the given engines, serving no HTTP (scale mode)."""
    from reelforge.errors import ReelforgeError
    from reelforge.logs import configure_logging
    from reelforge.store.database import SchemaNotReady
    from reelforge.worker import run_worker

    settings = settings_or_exit()
    configure_logging(settings.log_level, json_logs=settings.log_format == "json")
    try:
        run_worker(settings, engine)
    except ReelforgeError as exc:
        fail(f"{exc.code}: {exc.message}", code=2)
    except SchemaNotReady as exc:
        fail(str(exc), code=2)
