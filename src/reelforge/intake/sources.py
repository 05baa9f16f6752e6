"""Where a reference's bytes come from: data URIs, raw base64, uploads, file ids, URLs."""

from __future__ import annotations

import base64
import binascii
import re

from reelforge import codes
from reelforge.errors import InvalidReference

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)
_WHITESPACE = re.compile(r"\s+")
_FILE_ID = re.compile(r"^(asset://)?(?P<id>file_[A-Za-z0-9]{8,64})$")


def file_id_of(value: str) -> str | None:
    """`file_abc` or `asset://file_abc` -> `file_abc`; None for anything else."""
    m = _FILE_ID.match(value.strip())
    return m.group("id") if m else None


def decode_data_uri(uri: str, *, param: str, index: int | None) -> tuple[bytes, str | None]:
    m = _DATA_URI.match(uri)
    if not m:
        raise InvalidReference(
            f"{param} is a data URI without ';base64,'; only base64 data URIs are accepted",
            code=codes.INVALID_REFERENCE_DATA_URI, param=param, reference_index=index,
        )  # fmt: skip
    return decode_base64(uri[m.end() :], param=param, index=index), m.group("mime")


def decode_base64(text: str, *, param: str, index: int | None) -> bytes:
    # Most clients send one unbroken line: decode it as it is (a regex pass over megabytes of
    # base64 cost more than the decode). Wrapped lines (MIME, PEM) or stray spaces: strip, retry.
    try:
        return _padded_b64decode(text)
    except (binascii.Error, ValueError):
        pass
    try:
        return _padded_b64decode(_WHITESPACE.sub("", text))
    except (binascii.Error, ValueError) as exc:
        raise InvalidReference(
            f"{param} is neither a URL, a file id nor valid base64 data",
            code=codes.INVALID_REFERENCE_BASE64, param=param, reference_index=index,
        ) from exc  # fmt: skip


def _padded_b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def looks_like_url(value: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))
