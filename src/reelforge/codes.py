"""Every error code reelforge answers, as named constants: the one list the docs are checked
against (tests/test_error_codes.py). A code is stable: clients branch on it.

Families built from a value (`too_many_images`, `image_file_too_large`, ...) are listed in
`FAMILIES` with every member spelled out."""

from __future__ import annotations

AUTHENTICATION_FAILED = "authentication_failed"
AUTHENTICATION_FAILED_INVALID_KEY = "authentication_failed.invalid_key"
AUTHENTICATION_FAILED_MISSING_KEY = "authentication_failed.missing_key"
CANCELED = "canceled"
CONFLICT = "conflict"
CONFLICT_EXECUTOR_ID = "conflict.executor_id"
CONFLICT_IDEMPOTENCY_KEY = "conflict.idempotency_key"
CONFLICT_LAST_ADMIN_KEY = "conflict.last_admin_key"
CONFLICT_NOT_CANCELABLE = "conflict.not_cancelable"
CONFLICT_NOT_TERMINAL = "conflict.not_terminal"
CONFLICT_RUNNING = "conflict.running"
ENGINE_CRASHED = "engine.crashed"
ENGINE_REFERENCES_LEFT_OUT = "engine.references_left_out"  # a warning on the job
ENGINE_UNAVAILABLE = "engine.unavailable"
EXPIRED_EXECUTION = "expired.execution"
GENERATION_FAILED = "generation_failed"
INSUFFICIENT_CREDITS = "insufficient_credits"
INSUFFICIENT_CREDITS_BALANCE = "insufficient_credits.balance"
INSUFFICIENT_CREDITS_DAILY_BUDGET = "insufficient_credits.daily_budget"
IGNORED_PARAMETER = "ignored_parameter"  # a warning on the job, not an error
INTERNAL = "internal"
INVALID_REFERENCE = "invalid_reference"
INVALID_REFERENCE_ASSET = "invalid_reference.asset"
INVALID_REFERENCE_BASE64 = "invalid_reference.base64"
INVALID_REFERENCE_DATA_URI = "invalid_reference.data_uri"
INVALID_REFERENCE_DUPLICATE = "invalid_reference.duplicate"
INVALID_REFERENCE_EMPTY = "invalid_reference.empty"
INVALID_REFERENCE_FILE_NOT_FOUND = "invalid_reference.file_not_found"
INVALID_REFERENCE_FORMAT = "invalid_reference.format"
INVALID_REFERENCE_MISSING_FILE = "invalid_reference.missing_file"
INVALID_REFERENCE_MISSING_MENTION = "invalid_reference.missing_mention"
INVALID_REFERENCE_MISSING_SOURCE = "invalid_reference.missing_source"
INVALID_REFERENCE_ROLE = "invalid_reference.role"
INVALID_REFERENCE_SOURCE_TYPE = "invalid_reference.source_type"
INVALID_REFERENCE_TOO_LARGE = "invalid_reference.too_large"
INVALID_REFERENCE_TOO_MANY_PIXELS = "invalid_reference.too_many_pixels"
INVALID_REFERENCE_TOO_MANY_REFERENCES = "invalid_reference.too_many_references"
INVALID_REFERENCE_TYPE = "invalid_reference.type"
INVALID_REFERENCE_UNPROCESSABLE = "invalid_reference.unprocessable"
INVALID_REFERENCE_URL_CONTENT_ENCODING = "invalid_reference.url_content_encoding"
INVALID_REFERENCE_URL_FETCH_FAILED = "invalid_reference.url_fetch_failed"
INVALID_REFERENCE_URL_FORBIDDEN_ADDRESS = "invalid_reference.url_forbidden_address"
INVALID_REFERENCE_URL_INVALID = "invalid_reference.url_invalid"
INVALID_REFERENCE_URL_SCHEME = "invalid_reference.url_scheme"
INVALID_REFERENCE_URL_TIMEOUT = "invalid_reference.url_timeout"
INVALID_REFERENCE_URL_TOO_MANY_REDIRECTS = "invalid_reference.url_too_many_redirects"
INVALID_REFERENCE_URL_UNRESOLVABLE = "invalid_reference.url_unresolvable"
INVALID_REQUEST = "invalid_request"
INVALID_REQUEST_ASPECT_RATIO = "invalid_request.aspect_ratio"
# `alpha: true` without an alpha codec (prores_4444, vp9), or an alpha codec without it
INVALID_REQUEST_ALPHA = "invalid_request.alpha"
# `alpha: true` on an engine that cannot render the subjects on transparency
INVALID_REQUEST_ALPHA_UNSUPPORTED = "invalid_request.alpha_unsupported"
INVALID_REQUEST_BATCH_CUSTOM_ID = "invalid_request.batch_custom_id"
INVALID_REQUEST_BATCH_EMPTY = "invalid_request.batch_empty"
INVALID_REQUEST_BATCH_TAKES = "invalid_request.batch_takes"
INVALID_REQUEST_BATCH_TOO_LARGE = "invalid_request.batch_too_large"
INVALID_REQUEST_BOOLEAN_NOT_NUMBER = "invalid_request.boolean_not_number"
INVALID_REQUEST_CODEC = "invalid_request.codec"
INVALID_REQUEST_CONTENT_TYPE = "invalid_request.content_type"
INVALID_REQUEST_DEPTH = "invalid_request.depth"
INVALID_REQUEST_ENCODING = "invalid_request.encoding"
INVALID_REQUEST_END_USER_ID = "invalid_request.end_user_id"
INVALID_REQUEST_EXECUTION_EXPIRES_AFTER = "invalid_request.execution_expires_after"
INVALID_REQUEST_EXECUTOR_ID = "invalid_request.executor_id"
INVALID_REQUEST_FILENAME = "invalid_request.filename"
INVALID_REQUEST_FORM = "invalid_request.form"
INVALID_REQUEST_FPS = "invalid_request.fps"
INVALID_REQUEST_IDEMPOTENCY_KEY = "invalid_request.idempotency_key"
INVALID_REQUEST_INPUT = "invalid_request.input"
INVALID_REQUEST_JSON = "invalid_request.json"
INVALID_REQUEST_KEY_FORMAT = "invalid_request.key_format"
INVALID_REQUEST_MAX_COST = "invalid_request.max_cost"
INVALID_REQUEST_MENTION = "invalid_request.mention"
INVALID_REQUEST_METADATA = "invalid_request.metadata"
INVALID_REQUEST_MISSING_PARAMETER = "invalid_request.missing_parameter"
INVALID_REQUEST_MODE = "invalid_request.mode"
INVALID_REQUEST_NUMBER = "invalid_request.number"
INVALID_REQUEST_PLAN = "invalid_request.plan"
INVALID_REQUEST_PROMPT = "invalid_request.prompt"
INVALID_REQUEST_PROMPT_TOO_LONG = "invalid_request.prompt_too_long"
INVALID_REQUEST_REFERENCE_LIST = "invalid_request.reference_list"
INVALID_REQUEST_REMIX_SOURCE = "invalid_request.remix_source"
INVALID_REQUEST_RESOLUTION = "invalid_request.resolution"
INVALID_REQUEST_SCOPE = "invalid_request.scope"
INVALID_REQUEST_SECONDS = "invalid_request.seconds"
INVALID_REQUEST_SEED = "invalid_request.seed"
INVALID_REQUEST_SIZE = "invalid_request.size"
INVALID_REQUEST_STORAGE_KEY = "invalid_request.storage_key"
INVALID_REQUEST_TEXT = "invalid_request.text"
INVALID_REQUEST_TOO_LARGE = "invalid_request.too_large"
INVALID_REQUEST_UNKNOWN_ENGINE = "invalid_request.unknown_engine"
INVALID_REQUEST_TOO_MANY_SHOTS = "invalid_request.too_many_shots"
INVALID_REQUEST_UNKNOWN_MODEL = "invalid_request.unknown_model"
INVALID_REQUEST_UNKNOWN_PARAMETER = "invalid_request.unknown_parameter"
INVALID_REQUEST_UNLIMITED_BALANCE = "invalid_request.unlimited_balance"
INVALID_REQUEST_UNSUPPORTED_PARAMETER = "invalid_request.unsupported_parameter"
INVALID_REQUEST_UPLOADS_NOT_SUPPORTED = "invalid_request.uploads_not_supported"
INVALID_REQUEST_URL = "invalid_request.url"
INVALID_REQUEST_VARIANT = "invalid_request.variant"
MODEL_NOT_AVAILABLE = "model_not_available"
PROMPT_CAMERA_MOVES_DROPPED = "prompt.camera_moves_dropped"  # a warning on the job
PROMPT_NO_VISUAL_REFERENCE = "prompt.no_visual_reference"  # a warning on the job
PROMPT_SUPPLIED = "prompt.supplied"  # a warning on the job (Ark task without text)
REFERENCES_AUDIO_NOT_HEARD = "references.audio_not_heard"  # a warning on the job
MODERATION_INPUT_REFERENCE = "moderation.input.reference"
MODERATION_INPUT_TEXT = "moderation.input.text"
MODERATION_OUTPUT = "moderation.output"
NOT_FOUND = "not_found"
NOT_FOUND_BATCH = "not_found.batch"
NOT_FOUND_CONTENT = "not_found.content"
NOT_FOUND_FILE = "not_found.file"
NOT_FOUND_LINK_EXPIRED = "not_found.link_expired"
NOT_FOUND_OUTPUT_EXPIRED = "not_found.output_expired"
NOT_FOUND_TASK = "not_found.task"
NOT_FOUND_VIDEO = "not_found.video"
NOT_FOUND_WEBHOOK_EVENT = "not_found.webhook_event"
PERMISSION_DENIED = "permission_denied"
PERMISSION_DENIED_SCOPE = "permission_denied.scope"
RATE_LIMITED = "rate_limited"
RATE_LIMITED_CONCURRENCY = "rate_limited.concurrency"
RATE_LIMITED_CREATES_PER_MINUTE = "rate_limited.creates_per_minute"
SERVICE_UNAVAILABLE = "service_unavailable"
SKIPPED_BUDGET = "skipped.budget"  # a batch item not started: the batch's max_cost was reached
SKIPPED_CANCELED = "skipped.canceled"  # a batch item not started: the batch was canceled
INVALID_REFERENCE_AUDIO_TOO_LONG = "invalid_reference.audio_too_long"
INVALID_REFERENCE_AUDIO_TOTAL_TOO_LONG = "invalid_reference.audio_total_too_long"
INVALID_REFERENCE_AUDIO_WITHOUT_VISUAL = "invalid_reference.audio_without_visual"
INVALID_REFERENCE_CODEC = "invalid_reference.codec"
INVALID_REFERENCE_DUPLICATE_FRAME_ROLE = "invalid_reference.duplicate_frame_role"
INVALID_REFERENCE_EXTENSION_MISMATCH = "invalid_reference.extension_mismatch"
INVALID_REFERENCE_FRAME_ROLE_KIND = "invalid_reference.frame_role_kind"
INVALID_REFERENCE_IMAGE_ASPECT = "invalid_reference.image_aspect"
INVALID_REFERENCE_IMAGE_TOO_LARGE = "invalid_reference.image_too_large"
INVALID_REFERENCE_IMAGE_TOO_MANY_PIXELS = "invalid_reference.image_too_many_pixels"
INVALID_REFERENCE_IMAGE_TOO_SMALL = "invalid_reference.image_too_small"
INVALID_REFERENCE_KIND_MISMATCH = "invalid_reference.kind_mismatch"
INVALID_REFERENCE_LAST_FRAME_WITHOUT_FIRST_FRAME = (
    "invalid_reference.last_frame_without_first_frame"
)
INVALID_REFERENCE_MIME_MISMATCH = "invalid_reference.mime_mismatch"
INVALID_REFERENCE_MODE_CONFLICT = "invalid_reference.mode_conflict"
INVALID_REFERENCE_PROBE_TIMEOUT = "invalid_reference.probe_timeout"
INVALID_REFERENCE_TOO_MANY_STREAMS = "invalid_reference.too_many_streams"
INVALID_REFERENCE_TRUNCATED = "invalid_reference.truncated"
INVALID_REFERENCE_UNDECODABLE = "invalid_reference.undecodable"
INVALID_REFERENCE_VIDEOS_TOTAL_TOO_LARGE = "invalid_reference.videos_total_too_large"
INVALID_REFERENCE_VIDEOS_TOTAL_TOO_LONG = "invalid_reference.videos_total_too_long"
INVALID_REFERENCE_VIDEO_FPS_TOO_HIGH = "invalid_reference.video_fps_too_high"
INVALID_REFERENCE_VIDEO_FPS_TOO_LOW = "invalid_reference.video_fps_too_low"
INVALID_REFERENCE_VIDEO_TOO_FEW_PIXELS = "invalid_reference.video_too_few_pixels"
INVALID_REFERENCE_VIDEO_TOO_MANY_FRAMES = "invalid_reference.video_too_many_frames"
INVALID_REFERENCE_VIDEO_TOO_MANY_PIXELS = "invalid_reference.video_too_many_pixels"


def too_many(kind: str) -> str:
    """`invalid_reference.too_many_images` / `_videos` / `_audios` for a reference kind."""
    return f"invalid_reference.too_many_{kind}s"


def file_too_large(kind: str) -> str:
    """`invalid_reference.image_file_too_large` / `video_...` / `audio_...`."""
    return f"invalid_reference.{kind}_file_too_large"


def no_stream(kind: str) -> str:
    """`invalid_reference.no_video_stream` / `no_audio_stream`."""
    return f"invalid_reference.no_{kind}_stream"


def too_long(kind: str) -> str:
    """`invalid_reference.video_too_long` / `audio_too_long` (from the header's claim)."""
    return f"invalid_reference.{kind}_too_long"


def too_short(kind: str) -> str:
    """`invalid_reference.video_too_short` / `audio_too_short`."""
    return f"invalid_reference.{kind}_too_short"


def http_status(status: int) -> str:
    """What the HTTP layer itself refuses (no such route `http_404`, method `http_405`, ...)."""
    return f"http_{status}"


FAMILIES: dict[str, tuple[str, ...]] = {
    "too_many": tuple(too_many(k) for k in ("image", "video", "audio")),
    "file_too_large": tuple(file_too_large(k) for k in ("image", "video", "audio")),
    "no_stream": tuple(no_stream(k) for k in ("video", "audio")),
    "too_long": tuple(too_long(k) for k in ("video", "audio")),
    "too_short": tuple(too_short(k) for k in ("video", "audio")),
    "http_status": tuple(http_status(s) for s in (404, 405)),
}


def all_codes() -> set[str]:
    """Every code: the constants and every member of each family."""
    values = {v for k, v in globals().items() if k.isupper() and isinstance(v, str)}
    return values | {c for family in FAMILIES.values() for c in family}
