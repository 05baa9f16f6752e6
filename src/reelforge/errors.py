"""The one error tree of reelforge. Every error has a stable `code`; one place maps them to HTTP
(`api/errors.py`) and each dialect renders them in its own shape.

    ReelforgeError                       (code "internal", 500)
    ├── InvalidRequest                   (400) a field of the request is wrong
    │   ├── InvalidReference             (400) one reference is wrong (`reference_index`)
    │   │   └── UnprocessableMedia       (422) the bytes do not decode as the media they claim
    │   ├── PayloadTooLarge              (413)
    │   ├── ModerationBlocked            (400) the operator's policy refused the input
    │   │                                      (`moderation.input.text`, `.input.reference`)
    │   └── UnknownModel                 (404 in native, per dialect elsewhere)
    ├── AuthenticationFailed             (401)
    ├── PermissionDenied                 (403) the key lacks a scope
    ├── NotFound                         (404) also for another key's objects
    ├── Conflict                         (409) e.g. idempotency key reused with another body,
    │                                          deleting a job that is still running
    ├── InsufficientCredits              (402)
    ├── RateLimited                      (429, `retry_after`)
    ├── JobFailed                        (a job's terminal error, stored on the job)
    │   └── EngineCrashed                (jobs/engine_host.py) the engine's process died
    └── ServiceUnavailable               (503)
        └── EngineUnavailable            (503) an engine cannot run here (extra, weights or
                                               device missing); the operator has to act

Codes are dotted, stable strings such as `invalid_request.seconds` or
`invalid_reference.too_many_images`; clients may rely on them.
"""

from __future__ import annotations

from reelforge import codes


class ReelforgeError(Exception):
    code = codes.INTERNAL
    http_status = 500
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        reference_index: int | None = None,
        stage: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.reference_index = reference_index
        self.stage = stage

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "reference_index": self.reference_index,
            "stage": self.stage,
            "retryable": self.retryable,
        }


class InvalidRequest(ReelforgeError):
    code = codes.INVALID_REQUEST
    http_status = 400


class InvalidReference(InvalidRequest):
    code = codes.INVALID_REFERENCE


class UnprocessableMedia(InvalidReference):
    code = codes.INVALID_REFERENCE_UNPROCESSABLE
    http_status = 422


class PayloadTooLarge(InvalidRequest):
    code = codes.INVALID_REQUEST_TOO_LARGE
    http_status = 413


class UnsupportedMediaType(InvalidRequest):
    code = codes.INVALID_REQUEST_CONTENT_TYPE
    http_status = 415


class ModerationBlocked(InvalidRequest):
    code = codes.MODERATION_INPUT_TEXT


class UnknownModel(InvalidRequest):
    code = codes.INVALID_REQUEST_UNKNOWN_MODEL
    http_status = 404


class AuthenticationFailed(ReelforgeError):
    code = codes.AUTHENTICATION_FAILED
    http_status = 401


class PermissionDenied(ReelforgeError):
    code = codes.PERMISSION_DENIED
    http_status = 403


class NotFound(ReelforgeError):
    code = codes.NOT_FOUND
    http_status = 404


class Conflict(ReelforgeError):
    code = codes.CONFLICT
    http_status = 409


class InsufficientCredits(ReelforgeError):
    code = codes.INSUFFICIENT_CREDITS
    http_status = 402


class RateLimited(ReelforgeError):
    code = codes.RATE_LIMITED
    http_status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class JobFailed(ReelforgeError):
    code = codes.GENERATION_FAILED
    http_status = 500


class ServiceUnavailable(ReelforgeError):
    code = codes.SERVICE_UNAVAILABLE
    http_status = 503
    retryable = True


class EngineUnavailable(ServiceUnavailable):
    """An engine cannot run here: its extra is not installed, its weights are missing, or the
    device is not there. Not retryable: the operator has to act."""

    code = codes.ENGINE_UNAVAILABLE
    retryable = False
