"""The error tree in Ark's shape.

HTTP errors: `{"error": {"code", "message", "param", "type"}}` as Ark sends them (the SDKs
read `code`, `param` and `type` from it), plus `reelforge_code` (our stable code, also at the
end of the message) and `reference_index`. The HTTP status is the shared one (`api/errors.py`).

| our error | Ark code | type |
|---|---|---|
| unknown model | `InvalidEndpointOrModel.NotFound` | NotFound |
| a required field missing | `MissingParameter` | BadRequest |
| `moderation.input.text` | `InputTextSensitiveContentDetected` | BadRequest |
| `moderation.input.reference` | `InputImageSensitiveContentDetected` | BadRequest |
| `moderation.output...` (a task's error) | `OutputVideoSensitiveContentDetected` | BadRequest |
| any other invalid request or reference (400, 413, 422) | `InvalidParameter` | BadRequest |
| 401 | `AuthenticationError` | Unauthorized |
| 402 out of credits | `AccountOverdueError` | Forbidden |
| 403 | `AccessDenied` | Forbidden |
| 404 | `ResourceNotFound` | NotFound |
| 409 (e.g. deleting a running task) | `OperationDenied` | Conflict |
| 429 | `RateLimitExceeded` | TooManyRequests |
| 503 | `ServerOverloaded` | ServiceUnavailable |
| other 5xx | `InternalServiceError` | InternalServerError |

A failed task's `error` uses the same codes (`{code, message, reelforge_code}`); a failure
while rendering is `InternalServiceError`, a reference refused while rendering
`InvalidParameter`, a task that waited past its deadline `TaskExpired`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reelforge.api.common.dialect_common import rename_reference_params
from reelforge.errors import ReelforgeError
from reelforge.logs import request_id_var

_BY_STATUS = {
    400: ("InvalidParameter", "BadRequest"),
    401: ("AuthenticationError", "Unauthorized"),
    402: ("AccountOverdueError", "Forbidden"),
    403: ("AccessDenied", "Forbidden"),
    404: ("ResourceNotFound", "NotFound"),
    405: ("InvalidParameter", "BadRequest"),
    409: ("OperationDenied", "Conflict"),
    413: ("InvalidParameter", "BadRequest"),
    422: ("InvalidParameter", "BadRequest"),
    429: ("RateLimitExceeded", "TooManyRequests"),
    503: ("ServerOverloaded", "ServiceUnavailable"),
}
_BY_CODE = {
    "invalid_request.unknown_model": ("InvalidEndpointOrModel.NotFound", "NotFound"),
    "invalid_request.missing_parameter": ("MissingParameter", "BadRequest"),
    "invalid_request.prompt": ("MissingParameter", "BadRequest"),
    "moderation.input.text": ("InputTextSensitiveContentDetected", "BadRequest"),
    "moderation.input.reference": ("InputImageSensitiveContentDetected", "BadRequest"),
    "moderation.output": ("OutputVideoSensitiveContentDetected", "BadRequest"),
    "expired.execution": ("TaskExpired", "BadRequest"),
}
_SERVER = ("InternalServiceError", "InternalServerError")


def ark_code(code: str, http_status: int) -> tuple[str, str]:
    """(Ark code, Ark type) for one of our codes."""
    for ours, ark in _BY_CODE.items():
        if code == ours or code.startswith(ours + "."):
            return ark
    return _BY_STATUS.get(http_status, _SERVER)


def ark_error_body(err: ReelforgeError) -> dict[str, Any]:
    """The HTTP error body (registered for /api/v3 with `register_error_renderer`)."""
    code, kind = ark_code(err.code, err.http_status)
    message = f"{err.message} ({err.code})"
    request_id = request_id_var.get()
    if request_id:
        message += f" Request id: {request_id}"
    return {
        "error": {
            "code": code,
            "message": message,
            "param": err.param or "",
            "type": kind,
            "reelforge_code": err.code,
            "reference_index": err.reference_index,
        }
    }


def task_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    """A job's stored error as a task's `error` object."""
    if not error:
        return None
    ours = str(error.get("code") or "internal")
    code, _ = ark_code(
        ours, 400 if ours.startswith(("invalid_request", "invalid_reference")) else 500
    )
    return {"code": code, "message": f"{error.get('message') or ''} ({ours})",
            "reelforge_code": ours}  # fmt: skip


_RENAMES = {"seconds": "duration", "aspect_ratio": "ratio", "prompt": "content",
            "webhook_url": "callback_url", "references": "content",
            "end_user_id": "safety_identifier"}  # fmt: skip


def name_ark_fields(err: ReelforgeError, content_index: Sequence[int]) -> ReelforgeError:
    """Rename the shared checks' field names to the Ark request's: `references[2]` becomes
    `content[3]` (the content item it came from), `seconds` `duration`, and so on."""
    rename_reference_params(err, [f"content[{i}]" for i in content_index])
    if err.param:
        err.param = _RENAMES.get(err.param, err.param)
    return err
