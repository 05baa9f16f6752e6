"""`reelforge batch FILE.csv|FILE.jsonl`: one video per row, driven from this machine through
the SDK (`reelforge.AsyncClient`).

- The prompt is `--template` filled from the row (`"{product} on a marble table, @Image1"`), or
  the row's `prompt` column. Reference bundles come from `--refs COLUMN` (paths, URLs or
  folders, several separated by `;`), then from `--bundle PATH` (shared by every row); a path is
  taken relative to the batch file. Columns named `model`, `seconds`, `resolution`,
  `aspect_ratio` or `seed` override the options for their row.
- `--budget USD` is checked with quotes (`POST /v1/videos/quote`) before anything is submitted,
  and enforced while running: the quoted cost of an item is reserved before it is submitted,
  and an item that no longer fits ends `skipped.budget`. Spend never exceeds the budget.
- Each item's `Idempotency-Key` is derived from its content (prompt, references by SHA-256 or
  URL, options, and which repeat of identical content it is), and the manifest records each
  job: running the same command again resumes, waits for what is still running, downloads what
  is missing and never creates or pays for a job twice. Uploads are remembered in
  `OUT/.reelforge-files.json` so that a rerun sends byte-for-byte the same requests.
- The manifest (`OUT/manifest.csv`, or `--manifest x.jsonl`) lists every row with its status,
  video id, cost, error and output path; it is rewritten as items move.
- Exit status: 0 every item completed; 1 some item failed; 3 none failed but some were skipped
  for the budget (or not reached).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from reelforge.cli.base import (
    AspectOpt,
    ModelOpt,
    NoAudioOpt,
    ResolutionOpt,
    SecondsOpt,
    SeedOpt,
    _admin_key,
    _Context,
    app,
    fail,
    seconds_value,
)
from reelforge.cli.batch_rows import (
    FILES_CACHE,
    Item,
    plan_items,
    read_manifest,
    read_rows,
    write_manifest,
)
from reelforge.client import (
    AsyncClient,
    ReelforgeAPIError,
    ReelforgeClientError,
    ReelforgeConnectionError,
    Video,
)
from reelforge.client.files import FileCache

EXIT_FAILED = 1
EXIT_INCOMPLETE = 3


# -- running ---------------------------------------------------------------------------------


@dataclass
class Ledger:
    """Money committed by this batch: actual costs of finished jobs plus the quoted cost of
    jobs submitted and not finished. An item is submitted only if its quote still fits."""

    budget: float | None
    committed: float = 0.0

    def fits(self, amount: float) -> bool:
        return self.budget is None or self.committed + amount <= self.budget + 1e-9

    def left(self) -> float | None:
        return None if self.budget is None else max(0.0, self.budget - self.committed)


class BatchRun:
    def __init__(
        self, client: AsyncClient, items: list[Item], *, out: Path, manifest: Path,
        ledger: Ledger, concurrency: int, poll_interval: float, console: Console,
    ) -> None:  # fmt: skip
        self.client = client
        self.items = items
        self.out = out
        self.manifest = manifest
        self.ledger = ledger
        self.concurrency = max(1, concurrency)
        self.poll_interval = poll_interval
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
            console=console, transient=False,
        )  # fmt: skip
        self.overall: TaskID | None = None
        self._saved = 0.0

    # -- phases

    async def run(self, previous: Mapping[str, Mapping[str, Any]]) -> None:
        with self.progress:
            self.overall = self.progress.add_task("batch", total=len(self.items), info="")
            for item in self.items:
                if item.status == "failed":
                    self._finished(item)
            await self._gather(
                self._resume(i, previous[i.key]) for i in self._todo() if i.key in previous
            )
            await self._quote_all([i for i in self._todo() if i.video_id is None])
            self._plan()
            self._save(force=True)
            await self._submit_all()
            self._save(force=True)

    def _todo(self) -> list[Item]:
        return [i for i in self.items if i.status == "pending"]

    async def _gather(self, coros: Any) -> None:
        sem = asyncio.Semaphore(self.concurrency)

        async def bounded(coro: Any) -> None:
            async with sem:
                await coro

        await asyncio.gather(*(bounded(c) for c in coros))

    async def _resume(self, item: Item, record: Mapping[str, Any]) -> None:
        """What a previous run left: a finished job (its cost committed), or one still
        running (its quote reserved); a job the server no longer has starts afresh."""
        video_id = record.get("video_id") or None
        if not video_id:
            return
        try:
            video = await self.client.get_video(str(video_id))
        except ReelforgeAPIError as exc:
            if exc.status_code == 404:
                return
            raise
        item.video_id = video.id
        if video.status == "completed":
            self._charge(item, video)
            output = record.get("output") or ""
            if output and Path(output).exists():
                self._complete(item, video, Path(output))
        elif video.is_terminal:
            self._failed_video(item, video)
        else:
            try:
                quote = (await self.client.quote(item.prompt, **item.request())).cost
            except ReelforgeAPIError:
                quote = self.ledger.left() or 0.0  # price unknown: hold what is left, to be safe
            item.quote = quote
            self._reserve(item, quote)

    async def _quote_all(self, items: list[Item]) -> None:
        """Price every item before anything is submitted. Items that differ only in their
        prompt (same references, same explicit seconds and options) cost the same: one quote
        stands for them all; a group whose quote is refused is quoted item by item, so each
        item carries its own error."""
        groups: dict[str, list[Item]] = {}
        for item in items:
            explicit = isinstance(item.options.get("seconds"), int)
            shape = json.dumps([item.options, [[r.kind, r.source] for r in item.refs]], default=str)
            groups.setdefault(shape if explicit else item.key, []).append(item)

        async def price(group: list[Item]) -> None:
            if not await self._quote(group[0], fail=len(group) == 1):
                await self._gather(self._quote(i) for i in group)
                return
            for other in group[1:]:
                other.quote, other.currency = group[0].quote, group[0].currency

        await self._gather(price(g) for g in groups.values())

    async def _quote(self, item: Item, fail: bool = True) -> bool:
        try:
            quote = await self.client.quote(item.prompt, **item.request())
        except ReelforgeAPIError as exc:
            if fail:
                item.fail(exc.code, exc.message)
                self._finished(item)
            return False
        item.quote, item.currency = quote.cost, quote.currency
        return True

    def _plan(self) -> None:
        new = [i for i in self._todo() if i.video_id is None]
        quoted = sum(i.quote or 0.0 for i in new)
        message = f"{len(self.items)} rows; {len(new)} to submit, quoted {quoted:.4f}"
        if self.ledger.budget is not None:
            fit, left = 0, self.ledger.budget - self.ledger.committed
            for i in new:
                if (i.quote or 0.0) <= left + 1e-9:
                    fit, left = fit + 1, left - (i.quote or 0.0)
            message += (
                f"; budget {self.ledger.budget:.4f}, {self.ledger.committed:.4f} already "
                f"committed: admits {fit} of them"
            )
        self.console.print(message)

    async def _submit_all(self) -> None:
        sem = asyncio.Semaphore(self.concurrency)
        tasks = []
        for item in self._todo():  # in row order: earlier rows are admitted first
            await sem.acquire()
            if item.video_id is None:
                cost = item.quote or 0.0
                if not self.ledger.fits(cost):
                    item.status = "skipped.budget"
                    self._finished(item)
                    sem.release()
                    continue
                self._reserve(item, cost)  # before the create is sent
            tasks.append(asyncio.create_task(self._drive(item, sem)))
        await asyncio.gather(*tasks)

    async def _drive(self, item: Item, sem: asyncio.Semaphore) -> None:
        task = self.progress.add_task(item.name, total=100, info="submitting")
        try:
            if item.video_id is None:
                video = await self.client.create_video(
                    item.prompt, idempotency_key=item.key, **item.request()
                )
                item.video_id, item.status = video.id, "submitted"
                self._save(force=True)

            def show(v: Video) -> None:
                self.progress.update(task, completed=v.progress, info=v.status)

            video = await self.client.wait(
                str(item.video_id), poll_interval=self.poll_interval, on_progress=show
            )
            self._release(item)
            if video.status != "completed":
                self._failed_video(item, video)
                return
            self._charge(item, video)
            self.progress.update(task, info="downloading")
            path = await self.client.download(video.id, self.out / f"{item.name}.mp4")
            self._complete(item, video, path)
        except ReelforgeConnectionError as exc:
            # The job may exist: keep its reservation; a rerun finds it by its key.
            item.fail("connection", str(exc))
            self._finished(item)
        except ReelforgeAPIError as exc:
            if item.video_id is None:
                self._release(item)  # refused: nothing was made
            item.fail(exc.code, exc.message)
            self._finished(item)
        finally:
            self.progress.remove_task(task)
            sem.release()

    # -- bookkeeping

    def _reserve(self, item: Item, amount: float) -> None:
        item.reserved += amount
        self.ledger.committed += amount

    def _release(self, item: Item) -> None:
        self.ledger.committed -= item.reserved
        item.reserved = 0.0

    def _charge(self, item: Item, video: Video) -> None:
        if not item.counted:
            item.counted = True
            self.ledger.committed += video.cost or 0.0

    def _complete(self, item: Item, video: Video, path: Path) -> None:
        item.status, item.cost, item.currency = "completed", video.cost, video.currency
        item.output = str(path)
        item.error_code = item.error_message = None
        self._finished(item)

    def _failed_video(self, item: Item, video: Video) -> None:
        error = video.error or {}
        item.fail(str(error.get("code") or video.status), str(error.get("message") or ""))
        item.cost = video.cost
        self._finished(item)

    def _finished(self, item: Item) -> None:
        if self.overall is not None:
            left = self.ledger.left()
            info = f"spent {self.ledger.committed:.4f}" + (
                "" if left is None else f" of {self.ledger.budget:.4f}"
            )
            self.progress.update(self.overall, advance=1, info=info)
        self._save()

    def _save(self, force: bool = False) -> None:
        """Rewrite the manifest (at most every half second while items move; always at the
        end and when a job id is first known)."""
        now = time.monotonic()
        if force or now - self._saved >= 0.5:
            self._saved = now
            write_manifest(self.manifest, self.items)


@app.command()
def batch(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Rows: a .csv or .jsonl file.")
    ],
    template: Annotated[
        str | None,
        typer.Option(
            "--template", help='Prompt filled from the row: "{product} on a table, @Image1".'
        ),
    ] = None,
    refs: Annotated[
        list[str] | None,
        typer.Option(
            "--refs",
            help="Column of references: paths, URLs or folders, ';'-separated (repeatable).",
        ),
    ] = None,
    bundle: Annotated[
        list[str] | None,
        typer.Option(
            "--bundle", help="References for every row, after the row's own (repeatable)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Where videos go.")] = Path(
        "batch-out"
    ),
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="Default OUT/manifest.csv; .jsonl for JSON lines."),
    ] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", min=0, help="Most to spend (the server's currency).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64)] = 4,
    model: ModelOpt = None,
    seconds: SecondsOpt = None,
    resolution: ResolutionOpt = None,
    aspect_ratio: AspectOpt = None,
    seed: SeedOpt = None,
    no_audio: NoAudioOpt = False,
    poll_interval: Annotated[float, typer.Option("--poll-interval", min=0.05)] = 1.0,
) -> None:
    """Make one video per row of a CSV or JSONL file, within a budget; rerun to resume."""
    state: _Context = ctx.obj
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = manifest or out / "manifest.csv"
    files = FileCache(out / FILES_CACHE)
    defaults = {
        "model": model, "seconds": seconds_value(seconds),
        "resolution": resolution.value if resolution else None,
        "aspect_ratio": aspect_ratio.value if aspect_ratio else None,
        "seed": seed, "generate_audio": False if no_audio else None,
    }  # fmt: skip
    rows = read_rows(file)
    if refs is None:
        refs = [c for c in ("images", "videos", "audios", "references") if rows and c in rows[0]]
    items = plan_items(
        rows, template=template, ref_columns=refs, bundles=bundle or [],
        base=file.resolve().parent, defaults=defaults, files=files,
    )  # fmt: skip
    console = Console(stderr=True)
    run = BatchRun(
        AsyncClient(state.url, api_key=state.api_key or _admin_key(), file_cache=files),
        items, out=out, manifest=manifest_path, ledger=Ledger(budget), concurrency=concurrency,
        poll_interval=poll_interval, console=console,
    )  # fmt: skip

    async def main() -> None:
        async with run.client:
            await run.run(read_manifest(manifest_path))

    try:
        asyncio.run(main())
    except ReelforgeClientError as exc:
        write_manifest(manifest_path, items)
        fail(str(exc))
    counts = Counter(i.status for i in items)
    spent = sum(i.cost or 0.0 for i in items if i.status == "completed")
    console.print(
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + f"; spent {spent:.4f}" + ("" if budget is None else f" of {budget:.4f}")
        + f"; manifest {manifest_path}"
    )  # fmt: skip
    if counts["failed"]:
        raise typer.Exit(EXIT_FAILED)
    if counts["completed"] != len(items):
        raise typer.Exit(EXIT_INCOMPLETE)
