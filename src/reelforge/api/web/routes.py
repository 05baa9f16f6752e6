"""The playground and gallery (docs/playground.md): `/` and its static assets (`reelforge/web/`:
index.html, app.css, main.js and the ES modules it imports; plain JavaScript, nothing built,
nothing fetched from elsewhere), and `/web/limits`, the reference limits the page shows before
anything is uploaded.

The page talks to the native API with the key it keeps in the browser (`Authorization`
header, never a URL); videos and posters load from the signed links of the Video object.
Its Content-Security-Policy lets it reach this server only (and the object store, when
downloads redirect to presigned URLs: `docs/storage.md`).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from reelforge.api.deps import DownloadsDep, IntakeDep, OptionsDep, ReadKey
from reelforge.errors import NotFound
from reelforge.storage.base import Storage

router = APIRouter(include_in_schema=False)

_ASSETS = files("reelforge") / "web"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated: a new version's page is never stale
}


def _asset(name: str) -> tuple[bytes, str]:
    """A file of `reelforge/web/` by its exact name, and its media type (a plain name of a
    known type only: no path reaches anything else)."""
    suffix = "." + name.rpartition(".")[2] if "." in name else ""
    path = _ASSETS / name
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in _TYPES:
        raise NotFound(f"no page asset {name!r}", param="path")
    if not path.is_file():
        raise NotFound(f"no page asset {name!r}", param="path")
    return path.read_bytes(), _TYPES[suffix]


def storage_origin(storage: Storage) -> str | None:
    """The origin downloads redirect to when the store hands out presigned URLs (S3), so the
    page may show videos from there; None when this server serves the bytes itself."""
    url = storage.download_url("web/origin-probe", 60, "probe.mp4", "video/mp4")
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(media_origin: str | None) -> str:
    media = f"'self' blob: {media_origin}" if media_origin else "'self' blob:"
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {media} data:",
        f"media-src {media}",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ))  # fmt: skip


@router.get("/")
def index(downloads: DownloadsDep) -> Response:
    headers = {
        **_SECURITY_HEADERS,
        "Content-Security-Policy": content_security_policy(storage_origin(downloads.storage)),
    }
    body, media_type = _asset("index.html")
    return Response(body, media_type=media_type, headers=headers)


@router.get("/web/limits")
def limits(intake: IntakeDep, options: OptionsDep, _key: ReadKey) -> dict[str, Any]:
    """What a reference may be, for the page to show before an upload (docs/api/limits.md)."""
    lim = intake.limits
    return {
        "max_request_bytes": options.max_request_bytes,
        "max_prompt_tokens": lim.max_prompt_tokens,
        "max_prompt_chars": lim.max_prompt_chars,
        "max_references": lim.max_references,
        "audio_requires_visual": lim.audio_requires_visual,
        "image": {
            "count": lim.max_images, "bytes": lim.max_image_bytes,
            "formats": list(lim.image_formats), "min_side": lim.min_image_side,
            "max_side": lim.max_image_side, "min_aspect": lim.min_image_aspect,
            "max_aspect": lim.max_image_aspect,
        },
        "video": {
            "count": lim.max_videos, "bytes": lim.max_video_bytes,
            "bytes_total": lim.max_video_bytes_total, "formats": list(lim.video_formats),
            "min_seconds": lim.min_video_seconds, "max_seconds": lim.max_video_seconds,
            "max_seconds_total": lim.max_video_seconds_total,
            "min_pixels": lim.min_video_pixels, "max_pixels": lim.max_video_pixels,
            "min_fps": lim.min_video_fps, "max_fps": lim.max_video_fps,
        },
        "audio": {
            "count": lim.max_audios, "bytes": lim.max_audio_bytes,
            "formats": list(lim.audio_formats), "min_seconds": lim.min_audio_seconds,
            "max_seconds": lim.max_audio_seconds,
            "max_seconds_total": lim.max_audio_seconds_total,
        },
    }  # fmt: skip


@router.get("/web/{name}")
def asset(name: str) -> Response:
    if name == "index.html":  # served at `/` only, with its Content-Security-Policy
        raise NotFound(f"no page asset {name!r}", param="path")
    body, media_type = _asset(name)
    return Response(body, media_type=media_type, headers=_SECURITY_HEADERS)
