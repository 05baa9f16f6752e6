"""An incremental parser of `text/event-stream` (the WHATWG server-sent events format): feed it
bytes as they arrive, get whole events back."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        self._buffer += self._decoder.decode(chunk)
        out: list[ServerSentEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return out
            line, self._buffer = self._buffer[: cut[0]], self._buffer[cut[1] :]
            event = self._line(line)
            if event is not None:
                out.append(event)

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data and not self._event:
                return None
            event = ServerSentEvent(
                self._event or "message", "\n".join(self._data), self._id, self._retry
            )
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def _line_end(text: str) -> tuple[int, int] | None:
    """Where the first line of `text` ends and the next begins (CRLF, LF or CR); None if no
    whole line yet (a CR at the very end may still be followed by LF)."""
    for i, ch in enumerate(text):
        if ch == "\n":
            return i, i + 1
        if ch == "\r":
            if i + 1 == len(text):
                return None
            return (i, i + 2) if text[i + 1] == "\n" else (i, i + 1)
    return None
