"""What `reelforge batch` reads and writes: the rows of a CSV or JSONL file turned into items
(prompt from the template, references expanded from paths, URLs and folders, options, a
content-derived idempotency key), and the manifest of every item."""

from __future__ import annotations

import csv
import hashlib
import json
import mimetypes
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge.cli.base import fail
from reelforge.client.files import FileCache
from reelforge.client.protocol import is_url

MEDIA_KINDS = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"), "image"),
    **dict.fromkeys((".mp4", ".mov", ".m4v", ".webm"), "video"),
    **dict.fromkeys((".mp3", ".wav", ".m4a", ".aac", ".ogg", ".flac"), "audio"),
}
OVERRIDE_COLUMNS = ("model", "seconds", "resolution", "aspect_ratio", "seed")
NAME_COLUMNS = ("name", "id", "sku", "slug")
MANIFEST_FIELDS = (
    "row", "name", "status", "video_id", "cost", "currency", "error_code", "error_message",
    "output", "prompt", "idempotency_key",
)  # fmt: skip
FILES_CACHE = ".reelforge-files.json"


class RowError(Exception):
    """A row that cannot become a request (its item fails without being submitted)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Ref:
    kind: str
    source: str  # a URL, or a local path
    local: bool

    def fingerprint(self, files: FileCache) -> str:
        return files.digest(Path(self.source)) if self.local else self.source


@dataclass
class Item:
    row: int  # 1-based, as a person counts the rows of the file
    name: str
    prompt: str = ""
    refs: list[Ref] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    status: str = "pending"
    video_id: str | None = None
    quote: float | None = None
    cost: float | None = None
    currency: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    output: str | None = None
    reserved: float = 0.0  # its quote, held in the ledger while its job runs
    counted: bool = False  # its actual cost is in the ledger

    def fail(self, code: str, message: str) -> None:
        self.status, self.error_code, self.error_message = "failed", code, message

    def record(self) -> dict[str, Any]:
        return {
            "row": self.row, "name": self.name, "status": self.status,
            "video_id": self.video_id, "cost": self.cost, "currency": self.currency,
            "error_code": self.error_code, "error_message": self.error_message,
            "output": self.output, "prompt": self.prompt, "idempotency_key": self.key,
        }  # fmt: skip

    def request(self) -> dict[str, Any]:
        """The SDK options of the item's create (references in order, local files by path)."""
        refs = [{"type": r.kind, ("path" if r.local else "url"): r.source} for r in self.refs]
        return {**self.options, "references": refs}


# -- reading the batch file ------------------------------------------------------------------


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                fail(f"{path}:{n}: not JSON: {exc}", code=2)
            if not isinstance(row, dict):
                fail(f"{path}:{n}: each line must be a JSON object", code=2)
            rows.append(row)
        return rows
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [dict(r) for r in csv.DictReader(fh)]


class _Row(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        raise RowError(
            "template.missing_column", f"the template names {{{key}}}, which the row lacks"
        )


def fill_template(template: str, row: Mapping[str, Any]) -> str:
    try:
        return template.format_map(_Row(row))
    except (ValueError, IndexError, AttributeError) as exc:
        raise RowError("template.invalid", f"the template cannot be filled: {exc}") from exc


def expand_refs(value: Any, base: Path) -> list[Ref]:
    """A cell (or `--bundle`) as references: paths, URLs or folders (every media file in a
    folder, by name), several separated by `;` or `|` (or a JSON list)."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else re.split(r"[;|\n]", str(value))
    refs: list[Ref] = []
    for entry in (str(e).strip() for e in entries):
        if not entry:
            continue
        if is_url(entry):
            suffix = Path(entry.split("?", 1)[0]).suffix.lower()
            refs.append(Ref(MEDIA_KINDS.get(suffix, "image"), entry, local=False))
            continue
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else base / path
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in MEDIA_KINDS)
            if not found:
                raise RowError("reference.empty_folder", f"{entry}: no image, video or audio in it")
            refs.extend(Ref(MEDIA_KINDS[p.suffix.lower()], str(p), True) for p in found)
        elif path.is_file():
            kind = MEDIA_KINDS.get(path.suffix.lower())
            if kind is None:
                guessed = (mimetypes.guess_type(path.name)[0] or "").split("/")[0]
                kind = guessed if guessed in ("image", "video", "audio") else "image"
            refs.append(Ref(kind, str(path), True))
        else:
            raise RowError("reference.not_found", f"{entry}: no such file or folder")
    return refs


def plan_items(
    rows: Sequence[Mapping[str, Any]], *, template: str | None, ref_columns: Sequence[str],
    bundles: Sequence[str], base: Path, defaults: Mapping[str, Any], files: FileCache,
) -> list[Item]:  # fmt: skip
    items: list[Item] = []
    names: Counter[str] = Counter()
    repeats: Counter[str] = Counter()
    shared: list[Ref] = []
    for bundle in bundles:
        try:
            shared.extend(expand_refs(bundle, Path.cwd()))
        except RowError as exc:
            fail(f"--bundle {bundle}: {exc}", code=2)
    for n, row in enumerate(rows, 1):
        item = Item(row=n, name=_name(row, n, names))
        items.append(item)
        try:
            if template is not None:
                item.prompt = fill_template(template, row)
            elif row.get("prompt"):
                item.prompt = str(row["prompt"])
            else:
                raise RowError("template.no_prompt", "no --template and no prompt column")
            for column in ref_columns:
                item.refs.extend(expand_refs(row.get(column), base))
            item.refs.extend(shared)
            item.options = _options(row, defaults)
            content = json.dumps(
                {"prompt": item.prompt, "options": item.options,
                 "refs": [[r.kind, r.fingerprint(files)] for r in item.refs]},
                sort_keys=True, default=str,
            )  # fmt: skip
        except RowError as exc:
            item.fail(exc.code, str(exc))
            continue
        except OSError as exc:
            item.fail("reference.unreadable", str(exc))
            continue
        repeats[content] += 1  # identical rows are distinct items, each its own job
        digest = hashlib.sha256(f"{content}#{repeats[content]}".encode()).hexdigest()
        item.key = "rfb-" + digest[:48]
    return items


def _name(row: Mapping[str, Any], n: int, seen: Counter[str]) -> str:
    raw = next((str(row[c]) for c in NAME_COLUMNS if row.get(c) not in (None, "")), f"row-{n:04d}")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-.") or f"row-{n:04d}"
    seen[slug] += 1
    return slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"


def _options(row: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    options = {k: v for k, v in defaults.items() if v is not None}
    for column in OVERRIDE_COLUMNS:
        value = row.get(column)
        if value in (None, ""):
            continue
        if column == "seed" or (column == "seconds" and str(value).isdigit()):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise RowError(
                    f"row.{column}", f"{column} is {value!r}; expected an integer"
                ) from None
        options[column] = value
    return options


# -- the manifest ----------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """Records of a previous run, by idempotency key."""
    if not path.exists():
        return {}
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    else:
        with path.open(newline="", encoding="utf-8") as fh:
            records = list(csv.DictReader(fh))
    return {str(r["idempotency_key"]): r for r in records if r.get("idempotency_key")}


def write_manifest(path: Path, items: Sequence[Item]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            for item in items:
                out.write(json.dumps(item.record()) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=MANIFEST_FIELDS)
            writer.writeheader()
            for item in items:
                writer.writerow({k: "" if v is None else v for k, v in item.record().items()})
    os.replace(tmp, path)
