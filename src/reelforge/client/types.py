"""Typed results of the SDK: frozen dataclasses parsed leniently from the server's JSON (a
missing field is `None`, an unknown one is kept in `raw`), so a newer server never breaks an
older SDK."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

TERMINAL_STATUSES = frozenset({"completed", "failed", "canceled", "expired"})
BATCH_TERMINAL_STATUSES = frozenset({"completed", "canceled"})

_ItemT = TypeVar("_ItemT")


def _dict(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Video:
    """The native Video object; fields not named here are in `raw`."""

    id: str
    status: str
    progress: float
    stage: str | None
    model: str | None
    engine: str | None
    seconds: int | str | None
    size: str | None
    error: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Video:
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or ""),
            progress=float(data.get("progress") or 0),
            stage=data.get("stage"),
            model=data.get("model"),
            engine=data.get("engine"),
            seconds=data.get("seconds"),
            size=data.get("size"),
            error=_dict(data.get("error")),
            raw=dict(data),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def cost(self) -> float | None:
        """What the job is billed (`usage.cost`; 0 unless it completed)."""
        return _float((_dict(self.raw.get("usage")) or {}).get("cost"))

    @property
    def currency(self) -> str | None:
        return _str((_dict(self.raw.get("usage")) or {}).get("currency"))

    @property
    def urls(self) -> dict[str, str]:
        """Signed download links by variant (`video`, `thumbnail`, ...), once completed."""
        return {k: str(v) for k, v in (_dict(self.raw.get("urls")) or {}).items() if v}

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [dict(w) for w in self.raw.get("warnings") or () if isinstance(w, Mapping)]

    @property
    def metadata(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (_dict(self.raw.get("metadata")) or {}).items()}

    @property
    def seed(self) -> int | None:
        return _int(self.raw.get("seed"))

    @property
    def codec(self) -> str | None:
        return _str(self.raw.get("codec"))

    @property
    def alpha(self) -> bool:
        """A transparent background (ProRes 4444 in .mov or VP9 in .webm)."""
        return bool(self.raw.get("alpha"))

    @property
    def container(self) -> str | None:
        """The video file's container: mp4, mov or webm (name a download after it)."""
        return _str(self.raw.get("container"))


@dataclass(frozen=True)
class _Page(Generic[_ItemT]):
    """One cursor page of a list; pass `last_id` as `after` while `has_more`."""

    data: list[_ItemT]
    has_more: bool
    first_id: str | None
    last_id: str | None

    @classmethod
    def _parse(cls, page: Mapping[str, Any], item: Callable[[Mapping[str, Any]], _ItemT]) -> Self:
        return cls(
            data=[item(x) for x in page.get("data") or ()],
            has_more=bool(page.get("has_more")),
            first_id=page.get("first_id"),
            last_id=page.get("last_id"),
        )


@dataclass(frozen=True)
class VideoList(_Page[Video]):
    """One cursor page of `GET /v1/videos`; pass `last_id` as `after` while `has_more`."""

    @classmethod
    def from_json(cls, page: Mapping[str, Any]) -> VideoList:
        return cls._parse(page, Video.from_json)


@dataclass(frozen=True)
class VideoEvent:
    """One change of a video's status, stage or progress. `type` is `video.<status>`;
    `source` says whether it came from the server-sent event stream or from polling."""

    type: str
    video: Video
    source: str

    @property
    def is_terminal(self) -> bool:
        return self.video.is_terminal


@dataclass(frozen=True)
class Quote:
    """`POST /v1/videos/quote`: the request checked (references probed) and priced."""

    model: str | None
    engine: str | None
    size: str | None
    seconds: int | str | None
    billed_seconds: float | None
    cost: float
    currency: str | None
    warnings: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Quote:
        return cls(
            model=data.get("model"),
            engine=data.get("engine"),
            size=data.get("size"),
            seconds=data.get("seconds"),
            billed_seconds=_float(data.get("billed_seconds")),
            cost=_float(data.get("cost")) or 0.0,
            currency=data.get("currency"),
            warnings=[dict(w) for w in data.get("warnings") or () if isinstance(w, Mapping)],
            raw=dict(data),
        )


@dataclass(frozen=True)
class FileObject:
    """An uploaded reference (`POST /v1/files`), used in a request by `file_id`."""

    id: str
    bytes: int | None
    kind: str | None
    mime_type: str | None
    filename: str | None
    sha256: str | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileObject:
        return cls(
            id=str(data["id"]),
            bytes=_int(data.get("bytes")),
            kind=data.get("kind"),
            mime_type=data.get("mime_type"),
            filename=data.get("filename"),
            sha256=data.get("sha256"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Usage:
    """`GET /v1/usage`: the calling key's jobs and spend, grouped by `group_by`."""

    group_by: str | None
    currency: str | None
    total_cost: float
    total_billed_seconds: float
    data: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Usage:
        return cls(
            group_by=data.get("group_by"),
            currency=data.get("currency"),
            total_cost=_float(data.get("total_cost")) or 0.0,
            total_billed_seconds=_float(data.get("total_billed_seconds")) or 0.0,
            data=[dict(d) for d in data.get("data") or () if isinstance(d, Mapping)],
            raw=dict(data),
        )

    @property
    def videos(self) -> int:
        """Jobs created in the period, whatever became of them."""
        return sum(int(d.get("videos") or 0) for d in self.data)


@dataclass(frozen=True)
class Model:
    """One entry of `GET /v1/models`: an engine, alias or hosted model id, ready or not."""

    id: str
    kind: str | None
    engine: str | None
    preset: str | None
    ready: bool
    reason: str | None
    accepts: dict[str, Any]
    pricing: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        return cls(
            id=str(data["id"]),
            kind=data.get("kind"),
            engine=data.get("engine"),
            preset=data.get("preset"),
            ready=bool(data.get("ready")),
            reason=data.get("reason"),
            accepts=_dict(data.get("accepts")) or {},
            pricing=_dict(data.get("pricing")) or {},
            raw=dict(data),
        )

    def price_per_second(self, resolution: str) -> float | None:
        return _float((_dict(self.pricing.get("per_second")) or {}).get(resolution))


@dataclass(frozen=True)
class BatchItem:
    """One item of a server-side batch (docs/api/batches.md) and what became of it: `status`
    is `pending`, its video's status once admitted, or `skipped` (`error.code`
    `skipped.budget` / `skipped.canceled`); a request with `n` takes gives `n` items with the
    same `custom_id` and `take` 0..n-1, each with its own `seed`."""

    index: int | None
    custom_id: str | None
    take: int | None
    seed: int | None
    status: str
    video_id: str | None
    quote: float | None
    cost: float | None
    error: dict[str, Any] | None
    urls: dict[str, str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchItem:
        return cls(
            index=_int(data.get("index")),
            custom_id=_str(data.get("custom_id")),
            take=_int(data.get("take")),
            seed=_int(data.get("seed")),
            status=str(data.get("status") or ""),
            video_id=_str(data.get("video_id")),
            quote=_float(data.get("quote")),
            cost=_float(data.get("cost")),
            error=_dict(data.get("error")),
            urls={str(k): str(v) for k, v in (_dict(data.get("urls")) or {}).items() if v},
            raw=dict(data),
        )

    @property
    def error_code(self) -> str | None:
        return None if self.error is None else _str(self.error.get("code"))


@dataclass(frozen=True)
class Batch:
    """A server-side batch (`/v1/batches`): its status (`in_progress`, `canceling`, then
    `completed` or `canceled`), counts, spend and items (empty in lists and events)."""

    id: str
    status: str
    request_counts: dict[str, int]
    cost: float | None
    committed: float | None
    max_cost: float | None
    currency: str | None
    metadata: dict[str, Any]
    items: list[BatchItem]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Batch:
        usage = _dict(data.get("usage")) or {}
        counts = _dict(data.get("request_counts")) or {}
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or ""),
            request_counts={str(k): _int(v) or 0 for k, v in counts.items()},
            cost=_float(usage.get("cost")),
            committed=_float(usage.get("committed")),
            max_cost=_float(usage.get("max_cost")),
            currency=_str(usage.get("currency")),
            metadata=_dict(data.get("metadata")) or {},
            items=[
                BatchItem.from_json(i) for i in data.get("items") or () if isinstance(i, Mapping)
            ],
            raw=dict(data),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in BATCH_TERMINAL_STATUSES


@dataclass(frozen=True)
class BatchList(_Page[Batch]):
    """One cursor page of `GET /v1/batches` (Batch objects without their items)."""

    @classmethod
    def from_json(cls, page: Mapping[str, Any]) -> BatchList:
        return cls._parse(page, Batch.from_json)
