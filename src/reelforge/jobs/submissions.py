"""Submissions: where a job enters. One path decides everything before the 202:

    validate (fields, request rules, resolve model, the engine's own limits: nothing fetched
    yet) -> admission precheck (with references only) -> moderation (prompt) -> intake
    (references fetched, probed, stored once) -> moderation (references) -> price -> admit
    -> insert -> enqueue

`quote` runs the same path up to the price and creates nothing; `remix` submits a new job from
a finished one's references and settings with a new prompt.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from reelforge import codes
from reelforge.core.admission import AdmissionTicket
from reelforge.core.job import Job, JobStatus, JobWarning, ResolvedModel, Stage
from reelforge.core.references import StoredReference
from reelforge.engines.limits import EngineLimits, check_engine_limits, references_left_out
from reelforge.engines.models import resolve_model
from reelforge.errors import InvalidRequest
from reelforge.intake.limits import Limits
from reelforge.intake.references import ReferenceIntake
from reelforge.intake.rules import (
    check_mentions,
    check_metadata,
    check_prompt,
    check_request_rules,
)
from reelforge.jobs.fingerprint import spec_fingerprint
from reelforge.jobs.ports import AdmissionControl, Clock, JobStore, Moderation, Pricing
from reelforge.jobs.service import JobService, Lifecycle, log_transition
from reelforge.planning.mentions import iter_mentions
from reelforge.planning.notes import count_shots, prompt_notes
from reelforge.planning.shots import MAX_SHOTS, choose_seconds
from reelforge.platform.metrics import timed_create
from reelforge.platform.moderation import enforce_prompt, enforce_references
from reelforge.spec import (
    FPS,
    MAX_CONTINUATION_SECONDS,
    MIN_SECONDS,
    AspectRatio,
    GenerationSpec,
    ReferenceKind,
    nearest_aspect,
    output_size,
)


@dataclass(frozen=True)
class ModelCatalog:
    """What `Submissions` needs to know of the engines: names, aliases and each one's limits."""

    engine_names: Callable[[], list[str]]
    limits: Callable[[str], EngineLimits]
    default_model: str
    aliases: Mapping[str, str]
    # Why an engine cannot render a job now (None: it can); `jobs.readiness`.
    unavailable: Callable[[str], str | None] = lambda _engine: None
    # Whether an engine renders the planner's shot plan (camera moves, cuts) rather than
    # reading the prompt's text itself: then what the planner leaves out is a warning.
    follows_plan: Callable[[str], bool] = lambda _engine: False
    # An engine's own preset names (`ltx2:two_stage`), besides fast/pro/default.
    presets: Callable[[str], tuple[str, ...]] = lambda _engine: ()

    def resolve(self, model: str | None) -> ResolvedModel:
        return resolve_model(
            model,
            default_model=self.default_model,
            engines=self.engine_names(),
            aliases=self.aliases,
            presets=self.presets,
        )


@dataclass(frozen=True)
class PreparedRequest:
    """A request that passed every check, with its references stored and its price known."""

    spec: GenerationSpec
    resolved: ResolvedModel
    references: tuple[StoredReference, ...]
    aspect_ratio: AspectRatio
    width: int
    height: int
    billed_seconds: float  # what a success will bill (auto: the planner's length)
    cost: float
    currency: str
    # What was accepted but will not be done as asked (fields, prompt parts), said on the job.
    warnings: tuple[JobWarning, ...] = ()


class Submissions:
    def __init__(
        self,
        store: JobStore,
        jobs: JobService,
        intake: ReferenceIntake,
        models: ModelCatalog,
        pricing: Pricing,
        moderation: Moderation,
        *,
        admission: AdmissionControl | None = None,
        lifecycle: Lifecycle | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._intake = intake
        self._models = models
        self._pricing = pricing
        self._moderation = moderation
        self._admission = admission
        self._lifecycle = lifecycle or Lifecycle()
        self._clock = clock or jobs.clock

    # ---- checks ------------------------------------------------------------------------

    def validate(self, spec: GenerationSpec) -> ResolvedModel:
        """Check what can be checked without fetching the references (the fields, the
        request's rules, the engine's own limits); raise naming the field."""
        return validate_request(
            spec, self._models, self._intake.limits, self._intake.check_callback_url
        )

    def prepare(self, owner_key_id: str, spec: GenerationSpec) -> PreparedRequest:
        """Validate the whole request, references included (fetched, probed and stored once by
        content hash), and work out the output and its price; nothing is created."""
        return self._prepare(owner_key_id, spec, self.validate(spec))

    def _prepare(
        self, owner_key_id: str, spec: GenerationSpec, resolved: ResolvedModel
    ) -> PreparedRequest:
        enforce_prompt(self._moderation, spec.prompt)
        refs = tuple(self._intake.ingest(owner_key_id, spec.references))
        enforce_references(
            self._moderation, [(i, r.kind.value, r.sha256) for i, r in enumerate(refs)]
        )
        return self._priced(spec, resolved, refs)

    def _priced(
        self, spec: GenerationSpec, resolved: ResolvedModel, refs: tuple[StoredReference, ...]
    ) -> PreparedRequest:
        aspect = choose_aspect(spec.aspect_ratio, [(r.kind, r.width, r.height) for r in refs])
        width, height = spec.size or output_size(spec.resolution, aspect)
        # `auto`: the planner's choice, from the same text and reference metadata the worker
        # will plan with, so the quote and the credit hold match what a success bills.
        seconds = spec.seconds or choose_seconds(spec.prompt, refs)
        return PreparedRequest(
            spec=spec,
            resolved=resolved,
            references=refs,
            aspect_ratio=aspect,
            width=width,
            height=height,
            billed_seconds=float(seconds),
            cost=self._pricing.cost(resolved.label, spec.resolution, seconds),
            currency=self._pricing.currency,
            warnings=(
                *(JobWarning(w.code, w.message, w.param) for w in spec.warnings),
                *self._prompt_warnings(resolved, spec.prompt),
                *self._reference_warnings(resolved, len(refs)),
                *self._visual_warnings(resolved, refs),
                *self._silent_audio_warnings(resolved, spec, refs),
            ),
        )

    quote = prepare

    # ---- creating ----------------------------------------------------------------------

    def _fingerprint(self, owner_key_id: str, spec: GenerationSpec) -> str:
        """The request as an idempotent retry must repeat it; an uploaded reference counts by
        its bytes, not by its file id (a retry may have uploaded them again)."""
        if not spec.references:
            return spec_fingerprint(spec)
        named = self._intake.by_content(owner_key_id, spec.references)
        return spec_fingerprint(replace(spec, references=tuple(named)))

    @timed_create
    def submit(
        self,
        owner_key_id: str,
        spec: GenerationSpec,
        *,
        idempotency_key: str | None = None,
        check_price: Callable[[PreparedRequest], None] | None = None,
    ) -> Job:
        """Validate, store and enqueue a job. With an `idempotency_key`, the same key and
        request give the same job (also while the first request is still in flight); the same
        key with another request is a 409. `check_price` sees the priced request before it is
        admitted and may raise to refuse it (a batch's `max_cost`: `jobs.batches`)."""
        _check_idempotency_key(idempotency_key)
        request_hash = self._fingerprint(owner_key_id, spec) if idempotency_key else None
        resolved = self.validate(spec)
        if self._admission is not None and spec.references:
            # Refuse (or replay) before fetching references: a refused or replayed request
            # costs no downloads. (Without references the locked check at insert decides.)
            hold = (
                self._pricing.cost(resolved.label, spec.resolution, spec.seconds)
                if spec.seconds
                else -1.0
            )
            replay = self._admission.precheck(
                AdmissionTicket(owner_key_id, "", hold, idempotency_key, request_hash)
            )
            if replay is not None:
                return self._jobs.load(replay)
        prepared = self._prepare(owner_key_id, spec, resolved)
        if check_price is not None:
            check_price(prepared)
        return self._insert(owner_key_id, prepared, idempotency_key, request_hash)

    @timed_create
    def remix(
        self,
        owner_key_id: str,
        source_id: str,
        prompt: str,
        *,
        idempotency_key: str | None = None,
    ) -> Job:
        """A new job with a finished job's stored references and settings and a new prompt."""
        _check_idempotency_key(idempotency_key)
        source = self._jobs.get(owner_key_id, source_id)
        if source.status is not JobStatus.SUCCEEDED:
            raise InvalidRequest(
                f"video {source_id} is {source.status.value}; only a completed video can be "
                "remixed", code=codes.INVALID_REQUEST_REMIX_SOURCE, param="video_id",
            )  # fmt: skip
        spec = GenerationSpec(
            prompt=prompt,
            model=source.model,
            seconds=source.seconds,
            resolution=source.resolution,
            aspect_ratio=source.aspect_ratio,
            generate_audio=source.generate_audio,
            codec=source.codec,
            alpha=source.codec.alpha,
            return_last_frame=source.return_last_frame,
            metadata=dict(source.metadata),
            end_user_id=source.end_user_id,
            dialect=source.dialect,
            size=(source.width, source.height),  # as rendered, `auto` and exact sizes included
        )
        check_fields(spec, self._intake.check_callback_url)
        check_prompt(prompt, self._intake.limits)
        check_shots(prompt)
        check_mentions(prompt, source.references)
        resolved = self._models.resolve(spec.model)
        check_available(self._models, resolved)
        check_engine(self._models, resolved, spec, [r.kind for r in source.references])
        enforce_prompt(self._moderation, prompt)
        prepared = self._priced(spec, resolved, source.references)
        request_hash = (
            spec_fingerprint(replace(spec, metadata={"remix_of": source_id}))
            if idempotency_key
            else None
        )
        return self._insert(
            owner_key_id, prepared, idempotency_key, request_hash, remixed_from=source_id
        )

    def _reference_warnings(self, resolved: ResolvedModel, count: int) -> list[JobWarning]:
        message = references_left_out(resolved.engine, self._models.limits(resolved.engine), count)
        if message is None:
            return []
        return [JobWarning(codes.ENGINE_REFERENCES_LEFT_OUT, message, "references")]

    def _visual_warnings(
        self, resolved: ResolvedModel, refs: tuple[StoredReference, ...]
    ) -> list[JobWarning]:
        """An engine that animates the references has nothing to show without a picture: say
        what it renders instead, before anyone pays."""
        if not self._models.follows_plan(resolved.engine) or any(
            r.kind in (ReferenceKind.IMAGE, ReferenceKind.VIDEO) for r in refs
        ):
            return []
        return [
            JobWarning(
                codes.PROMPT_NO_VISUAL_REFERENCE,
                f"engine {resolved.engine} animates the references it is given and none is an "
                "image or a video: it renders an abstract procedural backdrop (and the "
                "soundtrack), not the scene the prompt describes; attach an image, or use a "
                "generative engine (GET /v1/models)",
                "references",
            )
        ]

    def _silent_audio_warnings(
        self, resolved: ResolvedModel, spec: GenerationSpec, refs: tuple[StoredReference, ...]
    ) -> list[JobWarning]:
        """Audio references on a silent video are not heard: say so for each @AudioN the
        prompt names (with its span), or once for audio that is not named."""
        audio = sum(1 for r in refs if r.kind is ReferenceKind.AUDIO)
        if spec.generate_audio or not audio or not self._models.follows_plan(resolved.engine):
            return []
        why = "generate_audio is false, so the video is silent"
        timing = f"engine {resolved.engine} still times its cuts on the soundtrack's beats"
        seen: set[int] = set()
        out = []
        for m in iter_mentions(spec.prompt):
            if m.kind is ReferenceKind.AUDIO and m.index not in seen and m.index <= audio:
                seen.add(m.index)
                out.append(
                    JobWarning(
                        codes.REFERENCES_AUDIO_NOT_HEARD,
                        f"{why}: @Audio{m.index} is not heard ({timing})",
                        "prompt",
                        (m.start, m.end),
                    )
                )
        if not out:
            out.append(
                JobWarning(
                    codes.REFERENCES_AUDIO_NOT_HEARD,
                    f"{why}: the {audio} audio reference(s) are not heard ({timing})",
                    "generate_audio",
                )
            )
        return out

    def _prompt_warnings(self, resolved: ResolvedModel, prompt: str) -> list[JobWarning]:
        """What the engine's planner will leave out of the prompt (said on the job)."""
        if not self._models.follows_plan(resolved.engine):
            return []  # the engine reads the prompt's text itself
        return [JobWarning(n.code, n.message, "prompt", n.span) for n in prompt_notes(prompt)]

    def _insert(
        self,
        owner_key_id: str,
        prepared: PreparedRequest,
        idempotency_key: str | None,
        request_hash: str | None,
        *,
        remixed_from: str | None = None,
    ) -> Job:
        spec = prepared.spec
        now = self._clock()
        expires_after = spec.execution_expires_after or self._lifecycle.execution_expires_after
        job = Job(
            id="video_" + secrets.token_hex(12),
            owner_key_id=owner_key_id,
            status=JobStatus.QUEUED,
            stage=Stage.QUEUED,
            progress=0.0,
            model=spec.model or self._models.default_model,
            resolved=prepared.resolved,
            prompt=spec.prompt,
            seconds=spec.seconds,
            resolution=spec.resolution,
            aspect_ratio=prepared.aspect_ratio,
            width=prepared.width,
            height=prepared.height,
            fps=FPS,
            seed=spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31),
            generate_audio=spec.generate_audio,
            codec=spec.codec,
            return_last_frame=spec.return_last_frame,
            references=prepared.references,
            created_at=now,
            updated_at=now,
            metadata=dict(spec.metadata),
            end_user_id=spec.end_user_id,
            webhook_url=spec.webhook_url,
            hold_amount=prepared.cost,
            execution_deadline=now + expires_after if expires_after else None,
            dialect=spec.dialect,
            webhook_progress=spec.webhook_progress and spec.webhook_url is not None,
            remixed_from=remixed_from,
            # fields the dialect accepted but does not honour (api/common/strict_fields.py)
            warnings=prepared.warnings,
        )
        admit = None
        if self._admission is not None:
            admit = self._admission.check(
                AdmissionTicket(owner_key_id, job.id, prepared.cost, idempotency_key, request_hash)
            )
        stored = self._store.insert(job, admit)
        if stored.id == job.id:
            log_transition(job.id, None, JobStatus.QUEUED)
            self._jobs.enqueue(stored)
        return stored


def validate_request(
    spec: GenerationSpec,
    models: ModelCatalog,
    limits: Limits,
    check_callback_url: Callable[..., None],
) -> ResolvedModel:
    """Everything about a request that can be checked before a reference is fetched: the
    fields, the request's rules (prompt, counts, modes, mentions), the model and the engine's
    own limits. Shared by `Submissions` and `reelforge generate`."""
    check_fields(spec, check_callback_url)
    check_request_rules(spec.prompt, spec.references, limits)
    check_shots(spec.prompt)
    check_metadata(spec.metadata, limits)
    resolved = models.resolve(spec.model)
    check_available(models, resolved)
    check_engine(models, resolved, spec, [r.kind for r in spec.references])
    return resolved


def check_available(models: ModelCatalog, resolved: ResolvedModel) -> None:
    """A job is accepted only if an engine that is ready will take it (GET /v1/models says why
    one is not)."""
    reason = models.unavailable(resolved.engine)
    if reason is not None:
        raise InvalidRequest(
            f"model {resolved.label} cannot render now: {reason}",
            code=codes.MODEL_NOT_AVAILABLE,
            param="model",
        )


def check_fields(spec: GenerationSpec, check_callback_url: Callable[..., None]) -> None:
    if not spec.prompt or not spec.prompt.strip():
        raise InvalidRequest(
            "prompt is required", code=codes.INVALID_REQUEST_PROMPT, param="prompt"
        )
    # Past 15 s only on engines whose limits allow it (check_engine); each dialect keeps its
    # vendor's range when it parses the field.
    most = MAX_CONTINUATION_SECONDS
    if spec.seconds is not None and not MIN_SECONDS <= spec.seconds <= most:
        raise InvalidRequest(
            f"seconds is {spec.seconds}; it must be {MIN_SECONDS}..{most} or 'auto'",
            code=codes.INVALID_REQUEST_SECONDS, param="seconds",
        )  # fmt: skip
    check_alpha(spec)
    if spec.end_user_id is not None and (
        not isinstance(spec.end_user_id, str) or len(spec.end_user_id) > 200
    ):
        raise InvalidRequest(
            "end_user_id must be a string of at most 200 characters",
            code=codes.INVALID_REQUEST_END_USER_ID, param="end_user_id",
        )  # fmt: skip
    if spec.webhook_url is not None:
        check_callback_url(spec.webhook_url, param="webhook_url")
    if spec.seed is not None and not 0 <= spec.seed < 2**32:
        raise InvalidRequest(
            f"seed is {spec.seed}; it must be 0..4294967295",
            code=codes.INVALID_REQUEST_SEED, param="seed",
        )  # fmt: skip


def check_engine(
    models: ModelCatalog, resolved: ResolvedModel, spec: GenerationSpec, kinds: list[ReferenceKind]
) -> None:
    """The engine's own limits, before any reference is fetched."""
    check_engine_limits(
        resolved.engine,
        models.limits(resolved.engine),
        kinds=kinds,
        resolution=spec.resolution,
        seconds=spec.seconds,
        alpha=spec.alpha,
    )


def check_alpha(spec: GenerationSpec) -> None:
    """`alpha: true` goes with an alpha codec (prores_4444 -> .mov, vp9 -> .webm) and an alpha
    codec with `alpha: true`: either alone is refused rather than guessed."""
    if spec.alpha and not spec.codec.alpha:
        raise InvalidRequest(
            f"alpha: true needs codec prores_4444 (.mov) or vp9 (.webm); codec {spec.codec.value} "
            "has no alpha channel",
            code=codes.INVALID_REQUEST_ALPHA, param="codec",
        )  # fmt: skip
    if spec.codec.alpha and not spec.alpha:
        raise InvalidRequest(
            f"codec {spec.codec.value} is for alpha output only; send alpha: true with it (the "
            "subjects on a transparent background), or use h264 / h265",
            code=codes.INVALID_REQUEST_ALPHA, param="alpha",
        )  # fmt: skip


def check_shots(prompt: str) -> None:
    shots = count_shots(prompt)
    if shots > MAX_SHOTS:
        raise InvalidRequest(
            f"the prompt asks for {shots} shots; at most {MAX_SHOTS} (join some shots, or make "
            "several videos)",
            code=codes.INVALID_REQUEST_TOO_MANY_SHOTS,
            param="prompt",
        )


def _check_idempotency_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 255:
        raise InvalidRequest(
            "Idempotency-Key must be 1..255 characters",
            code=codes.INVALID_REQUEST_IDEMPOTENCY_KEY,
            param="Idempotency-Key",
        )


def choose_aspect(
    asked: AspectRatio, visuals: list[tuple[ReferenceKind, int | None, int | None]]
) -> AspectRatio:
    """`auto` picks the fixed ratio nearest the first visual reference, else 16:9."""
    if asked is not AspectRatio.AUTO:
        return asked
    for kind, width, height in visuals:
        if kind in (ReferenceKind.IMAGE, ReferenceKind.VIDEO) and width and height:
            return nearest_aspect(width, height)
    return AspectRatio.R16_9
