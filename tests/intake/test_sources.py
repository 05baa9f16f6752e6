"""Inline reference data: base64 as clients send it (one line, wrapped, unpadded, in a data URI)
decodes to the same bytes; anything else is refused naming the reference."""

from __future__ import annotations

import base64
import os
import textwrap

import pytest

from reelforge import codes
from reelforge.errors import InvalidReference
from reelforge.intake.sources import decode_base64, decode_data_uri

PAYLOAD = os.urandom(3000) + b"\x89PNG"
LINE = base64.b64encode(PAYLOAD).decode()


@pytest.mark.parametrize(
    "text",
    [
        LINE,
        LINE.rstrip("="),  # unpadded
        "\n".join(textwrap.wrap(LINE, 76)) + "\n",  # MIME lines
        "\r\n".join(textwrap.wrap(LINE, 64)),  # PEM lines, CRLF
        f"  {LINE[:100]} \t{LINE[100:]}  ",  # stray spaces and tabs
    ],
    ids=["one-line", "unpadded", "mime", "pem-crlf", "spaces"],
)
def test_base64_as_clients_send_it_decodes_to_the_same_bytes(text: str) -> None:
    assert decode_base64(text, param="references[0]", index=0) == PAYLOAD


def test_a_data_uri_gives_its_bytes_and_media_type() -> None:
    data, mime = decode_data_uri(f"data:image/png;base64,{LINE}", param="image", index=None)
    assert (data, mime) == (PAYLOAD, "image/png")


@pytest.mark.parametrize(
    "text",
    [LINE[:50] + "!" + LINE[51:], LINE[:-8] + "-_" + LINE[-6:], "=" + LINE, LINE + "é", "a"],
    ids=["symbol", "url-safe-alphabet", "leading-padding", "non-ascii", "one-char"],
)
def test_what_is_not_base64_is_refused_naming_the_reference(text: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        decode_base64(text, param="references[2]", index=2)
    err = caught.value
    assert (err.code, err.param, err.reference_index) == (
        codes.INVALID_REFERENCE_BASE64,
        "references[2]",
        2,
    )
    assert "references[2]" in err.message
