"""Commands that make and follow jobs: generate (local), submit, status, wait, download,
cancel, models, list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reelforge.cli.base import (
    VARIANTS,
    PromptOpt,
    RenderOptions,
    app,
    client_for,
    exit_for,
    fail,
    print_video,
    progress_bar,
    seconds_value,
    wait_with_bar,
    with_render_options,
)
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


@app.command()
@with_render_options
def generate(
    prompt: PromptOpt,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", dir_okay=False, help="Video to write (MP4, .mov / .webm if --alpha)."
        ),
    ],
    render: RenderOptions,
) -> None:
    """Render one video locally, without a server."""
    secs = seconds_value(render.seconds)

    from reelforge.settings import Settings

    refs = tuple(
        ReferenceInput(kind=kind, data=path.read_bytes(), filename=path.name)
        for kind, paths in (
            (ReferenceKind.IMAGE, render.image),
            (ReferenceKind.VIDEO, render.video),
            (ReferenceKind.AUDIO, render.audio),
        )
        for path in paths or ()
    )
    settings = Settings()
    spec = GenerationSpec(
        prompt=prompt,
        model=render.model or settings.default_model,
        seconds=DEFAULT_SECONDS if secs is None else (secs if isinstance(secs, int) else None),
        resolution=render.resolution or Resolution.P720,
        aspect_ratio=render.aspect_ratio or AspectRatio.R16_9,
        references=refs,
        generate_audio=not render.no_audio,
        seed=render.seed,
        codec=render.codec or Codec.H264,
        alpha=render.alpha,
    )
    from reelforge.oneshot import generate_file

    with progress_bar() as bar:
        task = bar.add_task("rendering", total=100)

        def progress(value: float) -> None:
            # a fraction 0..1 like the engines' ProgressCallback; a percentage is tolerated
            bar.update(task, completed=value * 100 if value <= 1.0 else value)

        try:
            result = generate_file(spec, output, settings=settings, progress=progress)
        except ReelforgeError as exc:
            fail(f"{exc.code}: {exc.message}")
        bar.update(task, completed=100)
    typer.echo(str(result))


@app.command()
@with_render_options
def submit(
    ctx: typer.Context,
    prompt: PromptOpt,
    render: RenderOptions,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the job ends.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Video object.")] = False,
) -> None:
    """Submit a job to a server and print its id."""
    with client_for(ctx) as client:
        result = client.create_video(
            prompt,
            model=render.model,
            seconds=seconds_value(render.seconds),
            resolution=render.resolution.value if render.resolution else None,
            aspect_ratio=render.aspect_ratio.value if render.aspect_ratio else None,
            codec=render.codec.value if render.codec else None,
            alpha=render.alpha or None,
            images=render.image or [],
            videos=render.video or [],
            audios=render.audio or [],
            generate_audio=False if render.no_audio else None,
            seed=render.seed,
            idempotency_key=idempotency_key,
        )
        if wait:
            result = client.wait(result.id) if as_json else wait_with_bar(client, result.id, None)
    typer.echo(json.dumps(result.raw, indent=2) if as_json else result.id)
    if wait:
        exit_for(result)


@app.command()
def status(ctx: typer.Context, video_id: Annotated[str, typer.Argument(help="Job id.")]) -> None:
    """Show a job's status, progress, engine and error."""
    with client_for(ctx) as client:
        print_video(client.get_video(video_id))


@app.command("wait")
def wait_cmd(
    ctx: typer.Context,
    video_id: Annotated[str, typer.Argument(help="Job id.")],
    timeout: Annotated[float | None, typer.Option("--timeout", min=0, help="Seconds.")] = None,
) -> None:
    """Show a progress bar until the job ends; exit 0 when completed, 1 otherwise."""
    with client_for(ctx) as client:
        result = wait_with_bar(client, video_id, timeout)
    exit_for(result)


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
    with client_for(ctx) as client:
        typer.echo(str(client.download(video_id, output, variant=variant)))


@app.command()
def cancel(ctx: typer.Context, video_id: Annotated[str, typer.Argument(help="Job id.")]) -> None:
    """Cancel a queued or running job."""
    with client_for(ctx) as client:
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
    with client_for(ctx) as client:
        found = client.models()
    for m in found:
        if m.kind != "engine" and not aliases:
            continue
        refs = m.accepts["references"]
        prices = ", ".join(f"{r} {p:g}" for r, p in m.pricing["per_second"].items())
        state = "ready" if m.ready else f"NOT READY: {m.reason}"
        target = f"{m.engine}" + ("" if m.preset == "default" else f":{m.preset}")
        typer.echo(
            f"{m.id}\t-> {target}\t{state}\t"
            f"refs {refs['image']} img / {refs['video']} vid / {refs['audio']} aud\t"
            f"{m.accepts['seconds']['min']}-{m.accepts['seconds']['max']} s\t"
            f"{m.pricing['currency']}/s: {prices}"
        )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 20,
    status_filter: Annotated[str | None, typer.Option("--status")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Cursor: a job id.")] = None,
) -> None:
    """List recent jobs."""
    with client_for(ctx) as client:
        page = client.list_videos(limit=limit, after=after, status=status_filter)
    for v in page.data:
        typer.echo(f"{v.id}\t{v.status}\t{v.progress:.0f}%\t{v.engine or '-'}\t{v.model or '-'}")
    if page.has_more:
        typer.echo(f"(more: --after {page.last_id})", err=True)
