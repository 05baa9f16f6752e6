"""Where a reference's bytes come from: data URIs, raw base64, uploads, file ids, URLs."""

from __future__ import annotations

import base64
import binascii
import re

from reelforge import codes
from reelforge.errors import InvalidReference

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)
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
    cleaned = re.sub(r"\s+", "", text)
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidReference(
            f"{param} is neither a URL, a file id nor valid base64 data",
            code=codes.INVALID_REFERENCE_BASE64, param=param, reference_index=index,
        ) from exc  # fmt: skip


def looks_like_url(value: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))
