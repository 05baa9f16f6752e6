"""Logs: one JSON object per line (python-json-logger) for every logger of the process, the
server's access log and the durable-execution library's included, with the request id and job
id of the work at hand (context variables set by the HTTP middleware and the job workflow).

`configure_logging` is called once by `reelforge serve` and `reelforge worker` (never at
import); an engine's child process calls `inherit_logging` to log the same way as its parent.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reelforge_request_id", default=None
)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reelforge_job_id", default=None
)

# Set by configure_logging for child processes (engines run in spawned processes): "json:INFO".
_INHERIT_ENV = "REELFORGE_LOGGING_INHERITED"
# Loggers whose INFO lines are the service's own news; every other library logs WARNING and up
# (httpx, for one, logs each request at INFO).
_OWN_LOGGERS = ("reelforge", "uvicorn", "uvicorn.error", "uvicorn.access")


class ContextFields(logging.Filter):
    """On the handler, so that it sees every logger's records: adds `request_id` and `job_id`
    from the context (unless the call passed its own in `extra`), and gives an access-log line
    its parts as fields (`http_method`, `path`, `status_code`, `client_addr`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, var in (("request_id", request_id_var), ("job_id", job_id_var)):
            if getattr(record, key, None) is None:
                value = var.get()
                if value:
                    setattr(record, key, value)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            args = record.args
            if len(args) == 5:  # uvicorn's '%s - "%s %s HTTP/%s" %d'
                record.client_addr, record.http_method, record.path = args[0], args[1], args[2]
                record.http_version, record.status_code = args[3], args[4]
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """`{"time", "level", "logger", "message", ...extra fields}`; lowercase levels."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            # uvicorn's colour copy of a message is noise in a log store
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        if isinstance(log_data.get("level"), str):
            log_data["level"] = log_data["level"].lower()


_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_handler: logging.Handler | None = None


def json_logging() -> bool:
    """Whether this process logs JSON lines (configure_logging ran with json_logs=True)."""
    return _handler is not None and isinstance(_handler.formatter, JsonFormatter)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at each record, not the stream of the moment it was
    made: a stream swapped and closed later (a test runner's capture) never breaks logging."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """One handler on stderr, on the root logger, for every logger of the process."""
    global _handler
    level = level.upper()
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(ContextFields())
    root = logging.getLogger()
    if _handler is not None and _handler in root.handlers:
        root.removeHandler(_handler)
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    # LOG_LEVEL=DEBUG: every library's debug lines too; otherwise theirs from WARNING up
    root.setLevel(numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
    for name in _OWN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(numeric)
    # DBOS adds a plain-text handler of its own unless its logger already has one.
    dbos = logging.getLogger("dbos")
    dbos.handlers[:] = [handler]
    dbos.propagate = False
    _handler = handler
    install_access_log_redaction()
    os.environ[_INHERIT_ENV] = f"{'json' if json_logs else 'text'}:{level}"


def inherit_logging() -> None:
    """In a child process (an engine's): log as the parent configured, if it did."""
    spec = os.environ.get(_INHERIT_ENV, "")
    kind, _, level = spec.partition(":")
    if kind in ("json", "text"):
        configure_logging(level or "INFO", json_logs=kind == "json")


_SECRET_QUERY = re.compile(
    r"((?:^|[?&])(?:signature|sig|token|X-Amz-Signature|X-Amz-Credential)=)[^&#\s]*", re.I
)


def redact_url(text: str) -> str:
    """`text` with the values of signed-link query parameters replaced by `REDACTED`: a
    download link (`?expires=...&signature=...`) is a bearer credential for its lifetime."""
    return _SECRET_QUERY.sub(r"\1REDACTED", text)


class RedactSignedLinks(logging.Filter):
    """On uvicorn's access logger: its path argument (`"GET /v1/...?signature=... HTTP/1.1"`)
    is written without the signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def install_access_log_redaction() -> None:
    """Called when the app starts (after the server set its loggers up); idempotent."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSignedLinks) for f in access.filters):
        access.addFilter(RedactSignedLinks())
