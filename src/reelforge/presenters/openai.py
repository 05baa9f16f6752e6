"""A job's view -> the Video object of the OpenAI Videos API, as served under `/openai/v1`.

The native Video object (`presenters.native`) with OpenAI's four status words: a canceled or
expired video is `failed`, its `error.code` saying which (`canceled`, `expired.execution`), so
`openai.types.Video` validates every answer and `videos.poll` returns on it. The native
extras (`engine`, `usage`, `urls`, ...) stay: the SDK keeps them as extra attributes.
"""

from __future__ import annotations

from typing import Any

from reelforge import codes
from reelforge.core.job import JobStatus
from reelforge.jobs.views import JobView
from reelforge.presenters.native import NATIVE_STATUS, video_object

OPENAI_STATUS = {
    **NATIVE_STATUS,
    JobStatus.CANCELED: "failed",
    JobStatus.EXPIRED: "failed",
}

_ENDED_WITHOUT_VIDEO = {
    JobStatus.CANCELED: (codes.CANCELED, "the video was canceled"),
    JobStatus.EXPIRED: (codes.EXPIRED_EXECUTION, "the video expired before it could start"),
}


def openai_video_object(view: JobView) -> dict[str, Any]:
    job = view.job
    body = video_object(view)
    body["status"] = OPENAI_STATUS[job.status]
    if job.status in _ENDED_WITHOUT_VIDEO and body.get("error") is None:
        code, message = _ENDED_WITHOUT_VIDEO[job.status]
        body["error"] = {"code": code, "message": message}
    return body
