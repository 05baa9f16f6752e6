"""The `reelforge` command line: run the server, render one file locally, or drive a server.

Server-side modules (`reelforge.api.app`, `reelforge.oneshot`, `uvicorn`) are imported
inside the commands that need them, so the client commands start fast and stay light.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from reelforge.client import DEFAULT_BASE_URL, Client, ReelforgeClientError, Video
from reelforge.errors import ReelforgeError
from reelforge.spec import (
    DEFAULT_SECONDS,
    AspectRatio,
    Codec,
    GenerationSpec,
    ReferenceInput,
    ReferenceKind,
    Resolution,
)

app = typer.Typer(
    name="reelforge",
    help="Self-hostable reference-to-video service.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Manage API keys (needs an admin key).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

VARIANTS = ("video", "thumbnail", "last_frame", "spritesheet")


@dataclass
class _Context:
    url: str
    api_key: str | None

    def client(self) -> Client:
        return Client(base_url=self.url, api_key=self.api_key or _admin_key())


def _admin_key() -> str:
    """The admin key a fresh server wrote to `<data_dir>/admin_key`."""
    from reelforge.settings import Settings

    path = Settings().admin_key_path
    try:
        key = path.read_text().strip()
    except OSError:
        key = ""
    if not key:
        _fail(
            f"no API key: pass --api-key, set REELFORGE_API_KEY, or start `reelforge serve` "
            f"once so that it writes {path}",
            code=2,
        )
    return key


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@contextmanager
def _client(ctx: typer.Context) -> Iterator[Client]:
    """A client for the command; API and network errors become a one-line message, exit 1."""
    state: _Context = ctx.obj
    try:
        with state.client() as client:
            yield client
    except ReelforgeClientError as exc:
        _fail(str(exc))
    except httpx.TransportError as exc:
        _fail(f"cannot reach {state.url}: {exc}")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def _check_seconds(value: str | None) -> str | None:
    if value is None or value == "auto":
        return value
    if not value.isdigit() or not 1 <= int(value) <= 15:
        raise typer.BadParameter("an integer 1..15 or 'auto'")
    return value


def _seconds(value: str | None) -> int | str | None:
    return value if value is None or value == "auto" else int(value)


def _print_video(video: Video) -> None:
    typer.echo(f"id:       {video.id}")
    typer.echo(f"status:   {video.status}")
    typer.echo(f"progress: {video.progress:.0f}%" + (f" ({video.stage})" if video.stage else ""))
    typer.echo(f"engine:   {video.engine or '-'}")
    if video.error:
        typer.echo(f"error:    {video.error.get('code')}: {video.error.get('message')}")


def _wait_with_bar(client: Client, video_id: str, timeout: float | None) -> Video:
    with _progress_bar() as bar:
        task = bar.add_task(video_id, total=100)

        def show(video: Video) -> None:
            bar.update(task, completed=video.progress, description=f"{video_id} {video.status}")

        return client.wait(video_id, timeout=timeout, on_progress=show)


def _exit_for(video: Video) -> None:
    if video.status != "completed":
        if video.error:
            typer.echo(f"{video.status}: {video.error.get('code')}: {video.error.get('message')}")
        raise typer.Exit(1)


# -- options shared by generate and submit -------------------------------------------------

PromptOpt = Annotated[str, typer.Option("--prompt", "-p", help="What to render.")]
FileList = list[Path] | None
ImageOpt = Annotated[
    FileList,
    typer.Option("--image", exists=True, dir_okay=False, help="Reference image (repeatable)."),
]
VideoOpt = Annotated[
    FileList,
    typer.Option("--video", exists=True, dir_okay=False, help="Reference video (repeatable)."),
]
AudioOpt = Annotated[
    FileList,
    typer.Option("--audio", exists=True, dir_okay=False, help="Reference audio (repeatable)."),
]
SecondsOpt = Annotated[
    str | None,
    typer.Option("--seconds", callback=_check_seconds, help="Duration, 1..15 or 'auto'."),
]
ResolutionOpt = Annotated[Resolution | None, typer.Option("--resolution")]
AspectOpt = Annotated[AspectRatio | None, typer.Option("--aspect-ratio")]
CodecOpt = Annotated[Codec | None, typer.Option("--codec")]
SeedOpt = Annotated[int | None, typer.Option("--seed")]
NoAudioOpt = Annotated[bool, typer.Option("--no-audio", help="Render a silent video.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model name or alias.")]


# -- commands --------------------------------------------------------------------------------


@app.callback()
def _main(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option("--url", envvar="REELFORGE_URL", help="Server base URL.")
    ] = DEFAULT_BASE_URL,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="REELFORGE_API_KEY",
            help="API key; default: <REELFORGE_DATA_DIR or ./data>/admin_key.",
        ),
    ] = None,
) -> None:
    ctx.obj = _Context(url=url, api_key=api_key)


def _settings_or_exit(**update: Any) -> Any:
    """Settings from the environment (and `update`), or one clear line and exit 2."""
    from pydantic import ValidationError

    from reelforge.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        _fail(f"bad setting REELFORGE_{where.upper().replace('.', '__')}: {first['msg']}", code=2)
    update = {k: v for k, v in update.items() if v is not None}
    return settings.model_copy(update=update) if update else settings


def _bind(host: str, port: int) -> Any:
    """The listening socket, bound before anything is created or printed; one line and exit 2
    when the address cannot be had (port taken, no such address, no permission)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2)
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
    settings = _settings_or_exit(host=host, port=port)
    from reelforge.api.app import check_settings, create_app

    try:
        check_settings(settings)
    except ReelforgeError as exc:
        _fail(f"bad setting {exc.param}: {exc.message}", code=2)
    sock = _bind(settings.host, settings.port)
    from reelforge.logs import configure_logging

    configure_logging(settings.log_level, json_logs=settings.log_format == "json")
    application = create_app(settings)
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(application, log_level="info"))
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
    from reelforge.worker import run_worker

    settings = _settings_or_exit()
    configure_logging(settings.log_level, json_logs=settings.log_format == "json")
    try:
        run_worker(settings, engine)
    except ReelforgeError as exc:
        _fail(f"{exc.code}: {exc.message}", code=2)


@app.command()
def generate(
    prompt: PromptOpt,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False, help="MP4 to write.")],
    image: ImageOpt = None,
    video: VideoOpt = None,
    audio: AudioOpt = None,
    seconds: SecondsOpt = None,
    resolution: ResolutionOpt = None,
    aspect_ratio: AspectOpt = None,
    codec: CodecOpt = None,
    seed: SeedOpt = None,
    no_audio: NoAudioOpt = False,
    model: ModelOpt = None,
) -> None:
    """Render one video locally, without a server."""
    secs = _seconds(seconds)

    from reelforge.settings import Settings

    refs = tuple(
        ReferenceInput(kind=kind, data=path.read_bytes(), filename=path.name)
        for kind, paths in (
            (ReferenceKind.IMAGE, image),
            (ReferenceKind.VIDEO, video),
            (ReferenceKind.AUDIO, audio),
        )
        for path in paths or ()
    )
    settings = Settings()
    spec = GenerationSpec(
        prompt=prompt,
        model=model or settings.default_model,
        seconds=DEFAULT_SECONDS if secs is None else (secs if isinstance(secs, int) else None),
        resolution=resolution or Resolution.P720,
        aspect_ratio=aspect_ratio or AspectRatio.R16_9,
        references=refs,
        generate_audio=not no_audio,
        seed=seed,
        codec=codec or Codec.H264,
    )
    from reelforge.oneshot import generate_file

    with _progress_bar() as bar:
        task = bar.add_task("rendering", total=100)

        def progress(value: float) -> None:
            # a fraction 0..1 like the engines' ProgressCallback; a percentage is tolerated
            bar.update(task, completed=value * 100 if value <= 1.0 else value)

        try:
            result = generate_file(spec, output, settings=settings, progress=progress)
        except ReelforgeError as exc:
            _fail(f"{exc.code}: {exc.message}")
        bar.update(task, completed=100)
    typer.echo(str(result))


@app.command()
def submit(
    ctx: typer.Context,
    prompt: PromptOpt,
    image: ImageOpt = None,
    video: VideoOpt = None,
    audio: AudioOpt = None,
    seconds: SecondsOpt = None,
    resolution: ResolutionOpt = None,
    aspect_ratio: AspectOpt = None,
    codec: CodecOpt = None,
    seed: SeedOpt = None,
    no_audio: NoAudioOpt = False,
    model: ModelOpt = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the job ends.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Video object.")] = False,
) -> None:
    """Submit a job to a server and print its id."""
    secs = _seconds(seconds)
    with _client(ctx) as client:
        result = client.create_video(
            prompt,
            model=model,
            seconds=secs,
            resolution=resolution.value if resolution else None,
            aspect_ratio=aspect_ratio.value if aspect_ratio else None,
            codec=codec.value if codec else None,
            images=image or [],
            videos=video or [],
            audios=audio or [],
            generate_audio=False if no_audio else None,
            seed=seed,
            idempotency_key=idempotency_key,
        )
        if wait:
            result = client.wait(result.id) if as_json else _wait_with_bar(client, result.id, None)
    typer.echo(json.dumps(result.raw, indent=2) if as_json else result.id)
    if wait:
        _exit_for(result)


@app.command()
def status(ctx: typer.Context, video_id: Annotated[str, typer.Argument(help="Job id.")]) -> None:
    """Show a job's status, progress, engine and error."""
    with _client(ctx) as client:
        _print_video(client.get_video(video_id))


@app.command("wait")
def wait_cmd(
    ctx: typer.Context,
    video_id: Annotated[str, typer.Argument(help="Job id.")],
    timeout: Annotated[float | None, typer.Option("--timeout", min=0, help="Seconds.")] = None,
) -> None:
    """Show a progress bar until the job ends; exit 0 when completed, 1 otherwise."""
    with _client(ctx) as client:
        result = _wait_with_bar(client, video_id, timeout)
    _exit_for(result)


def _check_variant(value: str) -> str:
    if value not in VARIANTS:
        raise typer.BadParameter(f"one of {', '.join(VARIANTS)}")
    return value


@app.command()
def download(
    ctx: typer.Context,
    video_id: Annotated[str, typer.Argument(help="Job id.")],
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False)],
    variant: Annotated[
        str, typer.Option("--variant", callback=_check_variant, help="|".join(VARIANTS))
    ] = "video",
) -> None:
    """Download a finished job's video (or thumbnail, last frame)."""
    with _client(ctx) as client:
        typer.echo(str(client.download(video_id, output, variant=variant)))


@app.command()
def cancel(ctx: typer.Context, video_id: Annotated[str, typer.Argument(help="Job id.")]) -> None:
    """Cancel a queued or running job."""
    with _client(ctx) as client:
        result = client.cancel_video(video_id)
    typer.echo(f"{result.id} {result.status}")


@app.command()
def models(
    ctx: typer.Context,
    aliases: Annotated[
        bool, typer.Option("--aliases", help="Also list the hosted model ids that resolve here.")
    ] = False,
) -> None:
    """List the server's engines (and model names): ready or not and why, limits, prices."""
    with _client(ctx) as client:
        found = client.models()
    for m in found:
        if m["kind"] != "engine" and not aliases:
            continue
        refs = m["accepts"]["references"]
        prices = ", ".join(f"{r} {p:g}" for r, p in m["pricing"]["per_second"].items())
        state = "ready" if m["ready"] else f"NOT READY: {m['reason']}"
        target = m["engine"] + ("" if m["preset"] == "default" else f":{m['preset']}")
        typer.echo(
            f"{m['id']}\t-> {target}\t{state}\t"
            f"refs {refs['image']} img / {refs['video']} vid / {refs['audio']} aud\t"
            f"{m['accepts']['seconds']['min']}-{m['accepts']['seconds']['max']} s\t"
            f"{m['pricing']['currency']}/s: {prices}"
        )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 20,
    status_filter: Annotated[str | None, typer.Option("--status")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Cursor: a job id.")] = None,
) -> None:
    """List recent jobs."""
    with _client(ctx) as client:
        page = client.list_videos(limit=limit, after=after, status=status_filter)
    for v in page.data:
        typer.echo(f"{v.id}\t{v.status}\t{v.progress:.0f}%\t{v.engine or '-'}\t{v.model or '-'}")
    if page.has_more:
        typer.echo(f"(more: --after {page.last_id})", err=True)


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
    with _client(ctx) as client:
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

    settings = _settings_or_exit()
    try:
        private_dir(settings.data_dir)
        configured = settings.signing_key.get_secret_value() if settings.signing_key else None
        box = SecretBox.from_signing_secret(signing_secret(configured, settings.signing_key_path))
        database = open_database(settings.resolved_database_url)
    except (OSError, ValueError) as exc:
        _fail(f"cannot open the store of {settings.data_dir}: {exc}", code=2)
    try:
        created = KeyRing(KeyRepository(database, box)).create(name, ALL_SCOPES, limits=KeyLimits())
    except ReelforgeError as exc:
        _fail(exc.message, code=2)
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
    with _client(ctx) as client:
        keys = client.list_keys()
    for k in keys:
        revoked = " revoked" if k.get("revoked_at") else ""
        scopes = ",".join(k.get("scopes") or [])
        typer.echo(f"{k.get('id')}\t{k.get('name')}\t{scopes}{revoked}")


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="Key id.")]) -> None:
    """Revoke a key."""
    with _client(ctx) as client:
        client.revoke_key(key_id)
    typer.echo(f"{key_id} revoked")


@app.command("eval")
def eval_cmd(
    video: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Video to judge.")],
    request: Annotated[
        Path,
        typer.Option(
            "--request",
            exists=True,
            dir_okay=False,
            help=(
                'JSON: {"prompt", "seconds", "fps" (24), "width", "height", "codec", '
                '"generate_audio", "references": [{"kind", "index", "path", "role"}], "plan" '
                "(a stored ShotPlan; else planned from the prompt)}; paths relative to the file."
            ),
        ),
    ],
) -> None:
    """Quality report of a video against its request (JSON on stdout; exit 1 if a check
    fails)."""
    from reelforge.engines.base import DecodedReference
    from reelforge.media.beats import soundtrack_beats
    from reelforge.media.probe import probe_media
    from reelforge.planning.references import soundtrack_ref
    from reelforge.planning.serialize import plan_from_dict
    from reelforge.planning.shots import plan_shots
    from reelforge.quality import quality_report
    from reelforge.spec import ReferenceRole

    try:
        body = json.loads(request.read_text())
    except (OSError, ValueError) as exc:
        _fail(f"cannot read the request {request}: {exc}", code=2)
    refs = tuple(
        DecodedReference(
            kind=ReferenceKind(r["kind"]),
            role=ReferenceRole(r.get("role", "reference")),
            index=int(r["index"]),
            path=(request.parent / r["path"]).resolve(),
            seconds=r.get("seconds"),
        )
        for r in body.get("references", ())
    )
    fps = int(body.get("fps", 24))
    if "plan" in body:
        plan = plan_from_dict(body["plan"])
    else:
        seconds = body.get("seconds") or probe_media(video).duration or 5.0
        frames = round(float(seconds) * fps)
        audio = soundtrack_ref(body.get("prompt", ""), refs)
        beats = (
            soundtrack_beats(audio.path, frames / fps)
            if isinstance(audio, DecodedReference)
            else ()
        )
        plan = plan_shots(body.get("prompt", ""), frames, fps, references=refs, beats=beats)
    report = quality_report(
        video,
        plan,
        refs,
        width=body.get("width"),
        height=body.get("height"),
        codec=body.get("codec"),
        generate_audio=body.get("generate_audio"),
    )
    typer.echo(json.dumps(report.to_dict(), indent=2))
    if not report.passed:
        raise typer.Exit(1)


def main() -> None:
    app()
