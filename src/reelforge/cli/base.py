"""What every command shares: the typer apps, the global options, the client and the
error exit, the progress bar and the options of generate and submit (`RenderOptions`)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, get_type_hints

import httpx
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from reelforge.client import DEFAULT_BASE_URL, Client, ReelforgeClientError, Video
from reelforge.spec import (
    AspectRatio,
    Codec,
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
        fail(
            f"no API key: pass --api-key, set REELFORGE_API_KEY, or start `reelforge serve` "
            f"once so that it writes {path}",
            code=2,
        )
    return key


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@contextmanager
def client_for(ctx: typer.Context) -> Iterator[Client]:
    """A client for the command; API and network errors become a one-line message, exit 1."""
    state: _Context = ctx.obj
    try:
        with state.client() as client:
            yield client
    except ReelforgeClientError as exc:
        fail(str(exc))
    except httpx.TransportError as exc:
        fail(f"cannot reach {state.url}: {exc}")


def progress_bar() -> Progress:
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
    # past 15 s (up to 60) by planned continuation, where the engine's limits allow it
    if not value.isdigit() or not 1 <= int(value) <= 60:
        raise typer.BadParameter("an integer 1..60 or 'auto'")
    return value


def seconds_value(value: str | None) -> int | str | None:
    return value if value is None or value == "auto" else int(value)


def print_video(video: Video) -> None:
    typer.echo(f"id:       {video.id}")
    typer.echo(f"status:   {video.status}")
    typer.echo(f"progress: {video.progress:.0f}%" + (f" ({video.stage})" if video.stage else ""))
    typer.echo(f"engine:   {video.engine or '-'}")
    if video.error:
        typer.echo(f"error:    {video.error.get('code')}: {video.error.get('message')}")


def wait_with_bar(client: Client, video_id: str, timeout: float | None) -> Video:
    with progress_bar() as bar:
        task = bar.add_task(video_id, total=100)

        def show(video: Video) -> None:
            bar.update(task, completed=video.progress, description=f"{video_id} {video.status}")

        return client.wait(video_id, timeout=timeout, on_progress=show)


def exit_for(video: Video) -> None:
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
    typer.Option("--seconds", callback=_check_seconds, help="Duration, 1..60 or 'auto'."),
]
ResolutionOpt = Annotated[Resolution | None, typer.Option("--resolution")]
AspectOpt = Annotated[AspectRatio | None, typer.Option("--aspect-ratio")]
CodecOpt = Annotated[Codec | None, typer.Option("--codec")]
SeedOpt = Annotated[int | None, typer.Option("--seed")]
NoAudioOpt = Annotated[bool, typer.Option("--no-audio", help="Render a silent video.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model name or alias.")]
AlphaOpt = Annotated[
    bool,
    typer.Option(
        "--alpha",
        help="The subjects on a transparent background (with --codec prores_4444 or vp9).",
    ),
]


@dataclass(frozen=True)
class RenderOptions:
    """What generate and submit both take besides the prompt: the references, the duration,
    the format, the seed and the model. Each field is one command-line option
    (`with_render_options`)."""

    image: ImageOpt = None
    video: VideoOpt = None
    audio: AudioOpt = None
    seconds: SecondsOpt = None
    resolution: ResolutionOpt = None
    aspect_ratio: AspectOpt = None
    codec: CodecOpt = None
    seed: SeedOpt = None
    no_audio: NoAudioOpt = False
    model: ModelOpt = None
    alpha: AlphaOpt = False


def with_render_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command` takes a parameter `render: RenderOptions`; the command typer sees takes the
    fields of `RenderOptions` in its place, as options of their own, and passes them on as one
    `RenderOptions`."""
    hints = get_type_hints(RenderOptions, include_extras=True)
    fields = dataclasses.fields(RenderOptions)
    shared = [
        inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=hints[f.name], default=f.default)
        for f in fields
    ]  # fmt: skip
    signature = inspect.signature(command, eval_str=True)
    params = [
        q for p in signature.parameters.values() for q in (shared if p.name == "render" else [p])
    ]

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        render = RenderOptions(**{f.name: kwargs.pop(f.name) for f in fields})
        command(render=render, **kwargs)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return run


def _print_version(value: bool) -> None:
    if value:
        from reelforge import __version__

        typer.echo(f"reelforge {__version__}")
        raise typer.Exit()


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
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    ctx.obj = _Context(url=url, api_key=api_key)


def settings_or_exit(**update: Any) -> Any:
    """Settings from the environment (and `update`), or one clear line and exit 2."""
    from pydantic import ValidationError

    from reelforge.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        fail(f"bad setting REELFORGE_{where.upper().replace('.', '__')}: {first['msg']}", code=2)
    update = {k: v for k, v in update.items() if v is not None}
    return settings.model_copy(update=update) if update else settings
