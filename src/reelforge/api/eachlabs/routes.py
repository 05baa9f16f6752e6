"""each::labs prediction API (seed 003): create, get, cancel under `/v1/prediction`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from reelforge import codes
from reelforge.api.common.dialect_common import (
    FLAT_HINTS,
    FlatShape,
    create_job,
    parse_flat,
    read_json_body,
)
from reelforge.api.common.dialect_router import DialectRouter
from reelforge.api.common.strict_fields import Fields, Unsupported, check_fields
from reelforge.api.deps import GenerateKey, JobsDep, OptionsDep, ReadKey, SubmissionsDep, ViewsDep
from reelforge.errors import InvalidRequest
from reelforge.presenters.eachlabs import DIALECT, error_body, prediction
from reelforge.spec import AspectRatio

SHAPE = FlatShape(
    dialect=DIALECT,
    images=("image_urls",),
    videos=("video_urls",),
    audios=("audio_urls",),
    default_seconds=None,  # each::labs: duration defaults to "auto"
    default_aspect=AspectRatio.AUTO,
)

# No silent drops: the fields each::labs documents for the request and for this model's `input`.
TOP_FIELDS = Fields.of(
    ("model", "input", "webhook_url", "version"),  # version: deprecated, ignored there too
    unsupported={
        "webhook_secret": Unsupported(
            "reelforge signs every webhook one way, Standard Webhooks with the key's secret "
            "(GET /v1/keys/me); each::labs' hex HMAC with a secret of your own is not offered"
        ),
    },
)
INPUT_FIELDS = Fields.of(
    ("prompt", "image_urls", "video_urls", "audio_urls", "resolution", "duration",
     "aspect_ratio", "generate_audio", "seed", "end_user_id"),
    hints=FLAT_HINTS,
)  # fmt: skip

router = DialectRouter(render=error_body, prefixes=("/v1/prediction",), tags=["each::labs"])


def _input(body: dict[str, Any]) -> dict[str, Any]:
    check_fields(body, TOP_FIELDS)
    value = body.get("input")
    if isinstance(value, str):  # a stringified object: accepted, though the provider says not to
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise InvalidRequest(
            "input is required: an object with at least a prompt", param="input",
            code=codes.INVALID_REQUEST_INPUT,
        )  # fmt: skip
    check_fields(value, INPUT_FIELDS, "input.")
    fields = dict(value)
    fields["model"] = body.get("model")
    if body.get("webhook_url"):
        fields["webhook_url"] = body["webhook_url"]
    return fields


async def create_prediction(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    """`{model, input: {prompt, image_urls, video_urls, audio_urls, resolution, duration,
    aspect_ratio, generate_audio, seed, end_user_id}, webhook_url}` -> `{status: "success",
    message, predictionID}`. `version` is accepted and ignored (deprecated at each::labs too);
    `webhook_secret` and any field each::labs does not document are refused, naming it."""
    body = await read_json_body(request, options)
    parsed = parse_flat(_input(body), SHAPE, default_model=options.default_model)
    job = await create_job(request, submissions, key, parsed)
    return {
        "status": "success",
        "message": "Prediction created successfully",
        "predictionID": job.id,
    }


def get_prediction(
    prediction_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey
) -> dict[str, Any]:
    return prediction(views.view(jobs.get(key.id, prediction_id)))


def cancel_prediction(
    prediction_id: str, jobs: JobsDep, views: ViewsDep, key: GenerateKey
) -> dict[str, Any]:
    """A queued prediction is cancelled at once, a running one stops within a frame or two;
    answers the prediction (poll it for `cancelled`)."""
    return prediction(views.view(jobs.cancel(key.id, prediction_id)))


router.add("/v1/prediction", create_prediction, methods=["POST"], summary="Create a prediction")
router.add("/v1/prediction/{prediction_id}", get_prediction, methods=["GET"],
           summary="Get a prediction")  # fmt: skip
router.add("/v1/prediction/{prediction_id}/cancel", cancel_prediction, methods=["POST"],
           summary="Cancel a prediction")  # fmt: skip
