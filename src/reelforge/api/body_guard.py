"""One edge guard for every request body (and URL), whatever its route or dialect.

Before a route sees a body, `BodyGuard` reads it whole (it is capped by `BodyLimit` and by
`max_bytes`) and checks what no route should have to think about:

- A body that is neither JSON nor a form (`Content-Type` not JSON-like, multipart or
  urlencoded, e.g. `application/xml`) is a 415 `invalid_request.content_type`.
- JSON (no type, `application/json`, `*+json`, `text/json`, `text/plain`): strict UTF-8;
  nesting depth at most `max_depth`, counted on the text before it is parsed (no
  `RecursionError`); valid JSON without `NaN`/`Infinity`; every number within +-2**53
  (`MAX_NUMBER`); every string, object key included, free of lone surrogates (`"\\ud800"`)
  and NUL; a boolean never where a number is expected (`NUMERIC_FIELDS`, e.g.
  `seconds: true`, `{"balance": false}`).
- `multipart/form-data` and `application/x-www-form-urlencoded`: the same for every field name,
  text value and file name (strict UTF-8, no NUL); a file's bytes are not looked at.
- The URL: the path and every query parameter, percent-decoded, free of NUL (`/v1/videos/%00`
  is a 400 `invalid_request.text`, never a database error).
- A text value that is itself JSON (a form's `references`, each::labs' stringified `input`, a
  flat dialect's `"[...]"` URL list) gets the JSON checks too, within the same depth budget.

A refusal is a 400 (`invalid_request.encoding`, `.json`, `.depth`, `.text`, `.number`,
`.boolean_not_number`, `.form`, `.filename` for a file name over 255 characters) or a 413
(`invalid_request.too_large`) or a 415 (`invalid_request.content_type`) in the body of
the dialect that owns the path (`api.errors.render_error`), naming the field (`param`),
before any route runs: nothing is stored. The whole body has been read, so the connection
stays usable; only a body refused for its size part-way is answered with `Connection: close`.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge import codes
from reelforge.api.errors import render_error
from reelforge.errors import (
    InvalidRequest,
    PayloadTooLarge,
    ReelforgeError,
    UnsupportedMediaType,
)

MAX_NUMBER = 2**53
"""Numbers in a body lie strictly within +-2**53: what every JSON reader holds exactly."""

NUMERIC_FIELDS = frozenset({
    "seconds", "duration", "seed", "fps", "frames", "execution_expires_after", "priority",
    "balance", "amount", "daily_budget", "creates_per_minute", "max_active_jobs",
})  # fmt: skip
"""Fields that are numbers in every dialect that has them: `true`/`false` there is refused
(Python reads `True` as 1)."""

MAX_FILENAME_CHARS = 255
"""An uploaded file's name (as file systems allow; it is stored with the file record)."""

_INLINE_BYTES = 256 * 1024  # bodies up to this size are checked on the event loop (< 10 ms)

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET_OR_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


class _BadNumber:
    """What the JSON reader returns for a number out of range (reported with its path)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_int(text: str) -> int | _BadNumber:
    if len(text.lstrip("-")) > 16:  # longer than 2**53 can be; no huge int() either
        return _BadNumber(text)
    value = int(text)
    return value if -MAX_NUMBER < value < MAX_NUMBER else _BadNumber(text)


def _parse_float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) and abs(value) < MAX_NUMBER else _BadNumber(text)


def _parse_constant(text: str) -> _BadNumber:  # NaN, Infinity, -Infinity: not JSON
    return _BadNumber(text)


def _where(param: str) -> str:
    return param or "the request body"


def _shown(key: str) -> str:
    """A key as it may appear in a message or `param`: ASCII, at most 64 characters."""
    text = ascii(key)[1:-1]
    return text if len(text) <= 64 else text[:61] + "..."


def check_text(value: str, param: str, *, what: str | None = None) -> None:
    """A string that can be stored and read back anywhere: no lone surrogate, no NUL."""
    # An ASCII string (known in O(1)) has no surrogate: only NUL is left to look for, which
    # `in` finds far faster than the regex does over a megabyte-long base64 reference.
    if value.isascii() and "\x00" not in value:
        return
    m = _BAD_CHAR.search(value)
    if m is None:
        return
    bad = "NUL (U+0000)" if m.group() == "\x00" else f"a lone surrogate (U+{ord(m.group()):04X})"
    raise InvalidRequest(
        f"{what or _where(param)} contains {bad} at character {m.start()}; text must be valid "
        "Unicode without lone surrogates or NUL",
        code=codes.INVALID_REQUEST_TEXT, param=param or "body",
    )  # fmt: skip


def _utf8(raw: bytes, param: str) -> str:
    try:
        return raw.decode("utf-8")  # strict: invalid bytes and encoded surrogates both refused
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"{_where(param)} is not valid UTF-8 (byte {exc.start}: {exc.reason})",
            code=codes.INVALID_REQUEST_ENCODING, param=param or "body",
        ) from None  # fmt: skip


def check_depth(text: str, max_depth: int, param: str) -> None:
    """Refuse JSON text nested deeper than `max_depth` arrays/objects, counted without parsing
    (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= max_depth:  # no way deeper: skip the scan
        return
    depth = 0
    for m in _BRACKET_OR_STRING.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise InvalidRequest(
                    f"{_where(param)} is nested more than {max_depth} levels deep",
                    code=codes.INVALID_REQUEST_DEPTH, param=param or "body",
                )  # fmt: skip
        elif token in "]}":
            depth -= 1


def _loads(text: str) -> Any:
    return json.loads(
        text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
    )


def _looks_like_json(text: str) -> bool:
    head = text.lstrip()[:1]
    return head in ("[", "{")


def _walk(value: Any, param: str, depth: int, max_depth: int) -> None:
    if isinstance(value, str):
        check_text(value, param)
        if _looks_like_json(value):
            check_embedded_json(value, param, max_depth - depth)
    elif isinstance(value, dict):
        for k, v in value.items():
            child = f"{param}.{_shown(k)}" if param else _shown(k)
            check_text(k, child, what=f"the key {_shown(k)!r}")
            if k in NUMERIC_FIELDS and isinstance(v, bool):
                raise InvalidRequest(
                    f"{child} is {json.dumps(v)}; it must be a number (a boolean is not one)",
                    code=codes.INVALID_REQUEST_BOOLEAN_NOT_NUMBER, param=child,
                )  # fmt: skip
            _walk(v, child, depth + 1, max_depth)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{param}[{i}]", depth + 1, max_depth)
    elif isinstance(value, _BadNumber):
        shown = value.text if len(value.text) <= 40 else value.text[:20] + "..."
        raise InvalidRequest(
            f"{_where(param)} is {shown}; numbers must be finite and within +-2**53",
            code=codes.INVALID_REQUEST_NUMBER, param=param or "body",
        )  # fmt: skip


def check_embedded_json(text: str, param: str, max_depth: int) -> None:
    """A string that holds JSON (parsed again later by a route): the same checks, within what
    is left of the depth budget. Text that does not parse is left to the route to refuse."""
    check_depth(text, max(max_depth, 1), param)
    try:
        value = _loads(text)
    except ValueError:
        return
    _walk(value, param, 0, max(max_depth, 1))


def check_json(raw: bytes, max_depth: int) -> None:
    text = _utf8(raw, "")
    check_depth(text, max_depth, "")
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})",
            code=codes.INVALID_REQUEST_JSON, param="body",
        ) from None  # fmt: skip
    _walk(value, "", 0, max_depth)


def _check_field(name: bytes | str, value: bytes | str | None, max_depth: int) -> None:
    key = name if isinstance(name, str) else _utf8(name, "")
    check_text(key, _shown(key), what=f"the form field name {_shown(key)!r}")
    key = _shown(key)
    if value is None:
        return
    text = value if isinstance(value, str) else _utf8(value, key)
    check_text(text, key)
    if _looks_like_json(text):
        check_embedded_json(text, key, max_depth)


def check_urlencoded(raw: bytes, max_depth: int) -> None:
    text = _utf8(raw, "")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"a form field is not valid UTF-8 once percent-decoded ({exc.reason})",
            code=codes.INVALID_REQUEST_ENCODING, param="body",
        ) from None  # fmt: skip
    for name, value in pairs:
        _check_field(name, value, max_depth)


def _multipart_parts(raw: bytes, boundary: bytes) -> list[tuple[dict[bytes, bytes], bytes]]:
    """(options of Content-Disposition, data) of each part; a file part's data is not kept."""
    parts: list[tuple[dict[bytes, bytes], bytes]] = []
    state: dict[str, Any] = {"field": b"", "value": b"", "disposition": b"", "data": []}

    def on_part_begin() -> None:
        state["disposition"] = b""
        state["data"] = []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        if state["field"].lower() == b"content-disposition":
            state["disposition"] = state["value"]
        state["field"] = b""
        state["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"].append(data[start:end])

    def on_part_end() -> None:
        _, options = parse_options_header(state["disposition"])
        is_file = b"filename" in options
        parts.append((options, b"" if is_file else b"".join(state["data"])))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(raw)
        parser.finalize()
    except Exception as exc:  # python-multipart's own parse errors
        raise InvalidRequest(
            f"the multipart body cannot be read: {exc}",
            code=codes.INVALID_REQUEST_FORM,
            param="body",
        ) from None
    return parts


def check_multipart(raw: bytes, content_type: str, max_depth: int) -> None:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidRequest(
            "multipart/form-data without a boundary", code=codes.INVALID_REQUEST_FORM, param="body"
        )
    for options, data in _multipart_parts(raw, boundary):
        name = options.get(b"name", b"")
        if b"filename" in options:
            _check_field(name, None, max_depth)
            key = _shown(_utf8(name, ""))
            filename = _utf8(options[b"filename"], f"{key} (file name)")
            check_text(filename, f"{key} (file name)")
            if len(filename) > MAX_FILENAME_CHARS:
                raise InvalidRequest(
                    f"{key}: the file name is {len(filename)} characters; at most "
                    f"{MAX_FILENAME_CHARS}",
                    code=codes.INVALID_REQUEST_FILENAME, param=f"{key} (file name)",
                )  # fmt: skip
        else:
            _check_field(name, data, max_depth)


_JSON_MEDIA = ("", "application/json", "text/json", "text/plain")
"""Bodies read as JSON: no type at all (curl -d sends urlencoded, but some clients none) and
`text/plain` (a browser's `fetch` with a string body) included."""


def check_body(raw: bytes, content_type: str, max_depth: int) -> None:
    """Every check above for one body; raises `InvalidRequest` naming the field."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        check_multipart(raw, content_type, max_depth)
    elif media == "application/x-www-form-urlencoded":
        check_urlencoded(raw, max_depth)
    elif media in _JSON_MEDIA or media.endswith("+json"):
        check_json(raw, max_depth)
    else:
        raise UnsupportedMediaType(
            f"Content-Type {media!r} is not accepted; send JSON (application/json) or a form "
            "(multipart/form-data)",
            param="content-type",
        )


def check_url(scope: Scope) -> None:
    """The path and every query parameter (name and value, percent-decoded) free of NUL: ids
    and cursors go into SQL, where PostgreSQL refuses NUL in text."""
    check_text(scope.get("path", ""), "path", what="the URL path")
    query = scope.get("query_string", b"")
    if not query:
        return
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        check_text(name, "query", what="a query parameter name")
        check_text(value, _shown(name), what=f"the query parameter {_shown(name)!r}")


def _has_body(scope: Scope) -> tuple[bool, int | None]:
    length: int | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = True
    return (bool(length) or chunked), length


class BodyGuard:
    """ASGI middleware: read, check and replay every request body (module docstring)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_url(scope)
        except InvalidRequest as err:
            await self._refuse(scope, send, err, close=_has_body(scope)[0])  # body left unread
            return
        has_body, length = _has_body(scope)
        if not has_body:
            await self.app(scope, receive, send)
            return
        if length is not None and length > self.max_bytes:
            too_large = PayloadTooLarge(
                f"request body is {length} bytes; at most {self.max_bytes}", param="body"
            )
            await self._refuse(scope, send, too_large, close=True)
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client left; nobody to answer
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except ReelforgeError as err:  # BodyLimit: over the limit part-way
            await self._refuse(scope, send, err, close=True)
            return
        body = b"".join(chunks)
        del chunks
        content_type = ""
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                content_type = value.decode("latin-1")
        try:
            if len(body) > _INLINE_BYTES:  # a large body: checked off the event loop
                await asyncio.to_thread(check_body, body, content_type, self.max_depth)
            else:
                check_body(body, content_type, self.max_depth)
        except InvalidRequest as err:
            await self._refuse(scope, send, err, close=False)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, err: ReelforgeError, *, close: bool) -> None:
        response = render_error(Request(scope), err)
        if close:
            response.headers["connection"] = "close"

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)
