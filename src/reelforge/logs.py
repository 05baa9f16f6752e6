"""Structured JSON logs with the request id and job id of the work at hand."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reelforge_request_id", default=None
)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reelforge_job_id", default=None
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("job_id", job_id_var)):
            value = getattr(record, key, None) or var.get()
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """Called once by `reelforge serve` (never at import)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))  # fmt: skip
    root = logging.getLogger("reelforge")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


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
