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

from reelforge.api.common.dialect_common import (
    rename_reference_params,
)
from reelforge.errors import ReelforgeError
from reelforge.logs import request_id_var
from reelforge.presenters.ark import ark_code


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
