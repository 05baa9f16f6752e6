"""`reelforge eval VIDEO --request JSON`: the quality report of any file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reelforge.cli.base import app, fail
from reelforge.spec import ReferenceKind, ReferenceRole

if TYPE_CHECKING:
    from reelforge.core.references import StoredReference


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
    from reelforge.media.beats import soundtrack_beats
    from reelforge.media.probe import probe_media
    from reelforge.planning.references import soundtrack_ref
    from reelforge.planning.serialize import plan_from_dict
    from reelforge.planning.shots import plan_shots
    from reelforge.quality import quality_report

    try:
        body = json.loads(request.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read the request {request}: {exc}", code=2)
    refs = tuple(
        replace(ref, seconds=r.get("seconds") or ref.seconds)
        for ref, r in _references(request.parent, body.get("references", ()))
    )
    fps = int(body.get("fps", 24))
    if "plan" in body:
        plan = plan_from_dict(body["plan"])
    else:
        seconds = body.get("seconds") or probe_media(video).duration or 5.0
        frames = round(float(seconds) * fps)
        audio = soundtrack_ref(body.get("prompt", ""), refs)
        beats = soundtrack_beats(audio.path, frames / fps) if audio is not None else ()
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


def _references(
    folder: Path, listed: Iterable[dict[str, Any]]
) -> Iterator[tuple[StoredReference, dict[str, Any]]]:
    """Each reference of the request file, read in place (paths relative to `folder`)."""
    from reelforge.errors import ReelforgeError
    from reelforge.intake.local import local_reference

    for i, r in enumerate(listed):
        try:
            path = (folder / str(r["path"])).resolve()
            kind, role = ReferenceKind(r["kind"]), ReferenceRole(r.get("role", "reference"))
            index = int(r["index"])
        except (KeyError, TypeError, ValueError) as exc:
            fail(f"references[{i}] needs kind (image|video|audio), index and path: {exc!r}", code=2)
        if not path.is_file():
            fail(f"references[{i}]: no file at {path}", code=2)
        try:
            ref = local_reference(
                path, kind, role=role, index=index, param=f"references[{i}]", position=i
            )
        except ReelforgeError as exc:
            fail(f"references[{i}] ({path}): {exc.message}", code=2)
        yield ref, r
