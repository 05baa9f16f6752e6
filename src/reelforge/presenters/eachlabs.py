"""A job's view -> each::labs prediction and webhook body; the each::labs error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reelforge.core.job import JobStatus
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_error, job_warnings, status_words

DIALECT = "eachlabs"

# each::labs polls on `processing`; `success` and `error` end it. A queued job is `processing`
# (the provider has no queued word); `cancelled` is the provider's own word for a cancel.
STATUS = status_words(
    queued="processing", running="processing", succeeded="success", failed="error",
    canceled="cancelled", expired="error",
)  # fmt: skip


def _iso(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z") if t else None


def _details(code: str, param: str | None) -> str:
    return f"code={code}" + (f", param={param}" if param else "")


def error_body(err: ReelforgeError) -> dict[str, Any]:
    """each::labs errors: `{status: "error", message, details}`; our stable `code` and the
    `param` ride along as extra fields."""
    return {
        "status": "error",
        "message": err.message,
        "details": _details(err.code, err.param),
        "code": err.code,
        "param": err.param,
    }


def prediction(view: JobView) -> dict[str, Any]:
    """`GET /v1/prediction/{id}`."""
    job = view.job
    predict_time = (
        round(job.completed_at - job.started_at, 3) if job.started_at and job.completed_at else None
    )
    body: dict[str, Any] = {
        "id": job.id,
        "predictionID": job.id,
        "model": job.model,
        "engine": job.resolved.label,
        "status": STATUS[job.status],
        "input": {
            "prompt": job.prompt,
            "resolution": job.resolution.value,
            "duration": str(job.seconds) if job.seconds else "auto",
            "aspect_ratio": job.aspect_ratio.value,
            "generate_audio": job.generate_audio,
            "seed": str(job.seed),
            "end_user_id": job.end_user_id,
        },
        "output": view.url("video"),
        # each::labs' place for messages about a run: the warnings, one line each
        "logs": "\n".join(f"warning {w.code}: {w.message}" for w in job.warnings) or None,
        "warnings": job_warnings(job),
        "progress": int(job.progress),
        "metrics": {
            "predict_time": predict_time,
            "cost": view.cost,
        },
        "urls": {
            "get": view.link(f"/v1/prediction/{job.id}"),
            "cancel": view.link(f"/v1/prediction/{job.id}/cancel"),
        },
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "completed_at": _iso(job.completed_at),
    }
    err = job_error(job)
    if err is not None:  # "Failed - read message / details"
        body.update(message=err["message"], details=_details(err["code"], None), code=err["code"])
    return body


def webhook_body(
    view: JobView, _event_id: str, _event_type: str, _created: float
) -> dict[str, Any]:
    """The body each::labs POSTs when a prediction ends: `{exec_id, status, output, error}`,
    `status` `succeeded` or `failed` (a canceled or expired job is `failed`, its error says
    which), `error` "" on success and `"<code>: <message>"` otherwise."""
    job = view.job
    succeeded = job.status is JobStatus.SUCCEEDED
    err = job_error(job)
    return {
        "exec_id": job.id,
        "status": "succeeded" if succeeded else "failed",
        "output": (view.url("video") or "") if succeeded else "",
        "error": f"{err['code']}: {err['message']}" if err else "",
    }
