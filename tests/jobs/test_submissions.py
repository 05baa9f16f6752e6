"""`Submissions`, the one path a job enters by, with fakes for the store, queue, admission,
pricing and moderation, and the real reference intake (local storage under tmp_path, the real
SQLite file repository) and the real engine table and limits. No sleeps: a fake clock."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reelforge.core.job import Job, JobError, JobOutputs, JobStatus, ResolvedModel, Stage
from reelforge.core.references import StoredReference
from reelforge.engines.catalog import ENGINES
from reelforge.errors import (
    Conflict,
    InvalidReference,
    InvalidRequest,
    ModerationBlocked,
    NotFound,
    RateLimited,
    UnknownModel,
)
from reelforge.intake.limits import Limits
from reelforge.intake.references import ReferenceIntake
from reelforge.jobs.fingerprint import spec_fingerprint
from reelforge.jobs.service import JobService, Lifecycle
from reelforge.jobs.submissions import ModelCatalog, Submissions
from reelforge.spec import (
    AspectRatio,
    Codec,
    GenerationSpec,
    ReferenceInput,
    ReferenceKind,
    Resolution,
)
from reelforge.storage.local import LocalStorage
from reelforge.store.database import open_database
from reelforge.store.file_repository import FileRepository
from tests.intake.media import image_bytes
from tests.jobs.fakes import (
    FakeAdmission,
    FakeClock,
    FakeJobStore,
    FakeModeration,
    FakePricing,
    FakeQueue,
    RecordingNotifier,
    make_job,
)

OWNER = "key_a"
# Fetching this would fail (a reserved TLD, and a private-address guard besides): a test whose
# request is refused before intake shows, by its error, that nothing was fetched.
NOWHERE = "https://refs.example.invalid/clip.mp4"
PRICES = {
    ("wan-vace:pro", Resolution.P720): 0.5,
    ("wan-vace", Resolution.P720): 0.4,
    ("preview", Resolution.P480): 0.02,
    ("preview", Resolution.P720): 0.03,
}


@dataclass
class World:
    submissions: Submissions
    jobs: JobService
    store: FakeJobStore
    queue: FakeQueue
    admission: FakeAdmission
    pricing: FakePricing
    moderation: FakeModeration
    intake: ReferenceIntake
    storage: LocalStorage
    clock: FakeClock
    ingested: list[list[ReferenceInput]] = field(default_factory=list)

    def stored_refs(self) -> list[str]:
        root = self.storage.root / "refs"
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []

    def nothing_created(self) -> None:
        assert self.store.rows == {} and self.store.calls["insert"] == 0
        assert self.queue.calls == [] and self.admission.admitted == []


def _catalog() -> ModelCatalog:
    return ModelCatalog(
        engine_names=lambda: list(ENGINES),
        limits=lambda name: ENGINES[name].limits,
        default_model="preview",
        aliases={"house-style": "wan-vace:pro"},
    )


def _world(tmp_path: Path, *, admission: FakeAdmission, moderation: FakeModeration) -> World:
    database = open_database(f"sqlite:///{tmp_path / 'reelforge.db'}")
    storage = LocalStorage(tmp_path / "storage")
    intake = ReferenceIntake(storage, FileRepository(database), Limits())
    store, clock, queue = FakeJobStore(), FakeClock(), FakeQueue()
    lifecycle = Lifecycle(execution_expires_after=7200, output_retention_seconds=86400)
    jobs = JobService(
        store, storage, notifiers=[RecordingNotifier()], lifecycle=lifecycle, clock=clock
    )
    jobs.attach_queue(queue)
    pricing = FakePricing(PRICES, fallback=0.1, currency="EUR")
    submissions = Submissions(
        store, jobs, intake, _catalog(), pricing, moderation,
        admission=admission, lifecycle=lifecycle,
    )  # fmt: skip
    world = World(
        submissions, jobs, store, queue, admission, pricing, moderation, intake, storage, clock
    )
    real_ingest = intake.ingest

    def ingest(owner_key_id: str, refs: Sequence[ReferenceInput]) -> list[StoredReference]:
        world.ingested.append(list(refs))
        return real_ingest(owner_key_id, refs)

    intake.ingest = ingest  # type: ignore[method-assign]
    return world


@pytest.fixture
def w(tmp_path: Path) -> World:
    return _world(tmp_path, admission=FakeAdmission(), moderation=FakeModeration(("forbidden",)))


@pytest.fixture(scope="module")
def png() -> bytes:
    return image_bytes(640, 480, "PNG")


def spec(**overrides: object) -> GenerationSpec:
    values: dict[str, object] = {"prompt": "a lighthouse at dusk", "model": "preview"}
    values.update(overrides)
    return GenerationSpec(**values)  # type: ignore[arg-type]


def image(data: bytes) -> ReferenceInput:
    return ReferenceInput(kind=ReferenceKind.IMAGE, data=data, mime_type="image/png")


def video_url(n: int) -> ReferenceInput:
    return ReferenceInput(kind=ReferenceKind.VIDEO, url=f"{NOWHERE}?n={n}")


def finish(w: World, job_id: str) -> Job:
    """Run a job through the state machine as a worker would: queued -> running -> succeeded."""
    assert w.jobs.start(job_id) is not None
    assert w.jobs.succeed(job_id, JobOutputs(video=f"outputs/{job_id}/video.mp4"), 5.0)
    return w.store.row(job_id)


# ---- validation, before anything is fetched ------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "   \n\t"])
def test_a_missing_prompt_names_the_prompt(w: World, prompt: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        w.submissions.submit(OWNER, spec(prompt=prompt, references=(video_url(1),)))
    assert err.value.code == "invalid_request.prompt" and err.value.param == "prompt"
    assert err.value.http_status == 400
    w.nothing_created()
    assert w.ingested == [] and w.admission.prechecks == [] and w.moderation.prompts == []


# 1..60 on the preview engine (past 15 s by planned continuation, issue 16 item 6)
@pytest.mark.parametrize("seconds", [0, -1, 61, 600])
def test_seconds_out_of_range(w: World, seconds: int) -> None:
    with pytest.raises(InvalidRequest) as err:
        w.submissions.submit(OWNER, spec(seconds=seconds))
    assert err.value.code == "invalid_request.seconds" and err.value.param == "seconds"
    w.nothing_created()


@pytest.mark.parametrize("seconds", [1, 15, 16, 60, None])
def test_seconds_in_range_pass(w: World, seconds: int | None) -> None:
    assert w.submissions.validate(spec(seconds=seconds)) == ResolvedModel("preview")


@pytest.mark.parametrize("engine", ["wan-vace", "ltx2", "minimax-h3"])
@pytest.mark.parametrize(
    ("changes", "code", "param"),
    [
        ({"seconds": 16}, "invalid_request.seconds", "seconds"),
        ({"resolution": Resolution.P2160}, "invalid_request.resolution", "resolution"),
        ({"alpha": True, "codec": Codec.VP9}, "invalid_request.alpha_unsupported", "alpha"),
    ],
)
def test_a_diffusion_engine_keeps_the_hosted_limits(
    w: World, engine: str, changes: dict[str, object], code: str, param: str
) -> None:
    """Past the hosted limits only where the engine's entry says so: the diffusion engines
    refuse 16 s, 2160p and alpha before anything is fetched, at create and at quote."""
    for call in (w.submissions.submit, w.submissions.quote):
        with pytest.raises(InvalidRequest) as err:
            call(OWNER, spec(model=engine, **changes))
        assert (err.value.code, err.value.param) == (code, param)
    w.nothing_created()


@pytest.mark.parametrize("model", ["nope", "wan-vace:turbo", "x" * 201])
def test_an_unknown_model_is_refused(w: World, model: str) -> None:
    with pytest.raises(UnknownModel) as err:
        w.submissions.submit(OWNER, spec(model=model))
    assert err.value.code == "invalid_request.unknown_model" and err.value.param == "model"
    assert err.value.http_status == 404
    w.nothing_created()
    assert w.admission.prechecks == []


def test_models_resolve_once_to_engine_and_preset(w: World) -> None:
    validate = w.submissions.validate
    assert validate(spec(model="wan-vace")) == ResolvedModel("wan-vace", "default")
    assert validate(spec(model="wan-vace:fast")) == ResolvedModel("wan-vace", "fast")
    assert validate(spec(model="house-style")) == ResolvedModel("wan-vace", "pro")  # alias
    assert validate(spec(model="seedance-2.0")) == ResolvedModel("preview")  # default engine


def test_an_engine_limit_is_checked_before_any_reference_is_fetched(w: World) -> None:
    """wan-vace takes one video; two are refused at validate, before moderation, admission or
    intake (a fetch of NOWHERE would fail with another error)."""
    assert ENGINES["wan-vace"].limits.max_videos == 1
    request = spec(model="wan-vace", references=(video_url(1), video_url(2)))
    with pytest.raises(InvalidReference) as at_validate:
        w.submissions.validate(request)
    assert at_validate.value.code == "invalid_reference.too_many_videos"
    with pytest.raises(InvalidReference) as err:
        w.submissions.submit(OWNER, request)
    assert err.value.code == "invalid_reference.too_many_videos"
    assert err.value.param == "references" and err.value.http_status == 400
    assert w.ingested == [] and w.stored_refs() == []
    assert w.moderation.prompts == [] and w.admission.prechecks == []
    w.nothing_created()
    with pytest.raises(InvalidReference):
        w.submissions.quote(OWNER, request)
    assert w.ingested == []


def test_the_same_references_pass_an_engine_that_takes_them(w: World) -> None:
    request = spec(model="minimax-h3", references=(video_url(1), video_url(2)))
    assert w.submissions.validate(request) == ResolvedModel("minimax-h3")


def test_engine_limits_count_per_kind(w: World, png: bytes) -> None:
    refs = tuple(image(png) for _ in range(2)) + tuple(
        ReferenceInput(kind=ReferenceKind.AUDIO, url=f"{NOWHERE}?a={i}") for i in range(2)
    )
    assert ENGINES["ltx2"].limits.max_audio == 1
    with pytest.raises(InvalidReference) as err:
        w.submissions.submit(OWNER, spec(model="ltx2", references=refs))
    assert err.value.code == "invalid_reference.too_many_audios"
    assert w.ingested == []
    w.nothing_created()


# ---- moderation and admission, before intake ------------------------------------------------


def test_moderation_blocks_the_prompt_before_intake(w: World) -> None:
    request = spec(prompt="something FORBIDDEN here", references=(video_url(1),))
    with pytest.raises(ModerationBlocked) as err:
        w.submissions.submit(OWNER, request)
    assert err.value.code == "moderation.input.text" and err.value.param == "prompt"
    assert w.moderation.prompts == ["something FORBIDDEN here"]
    assert w.ingested == [] and w.stored_refs() == []
    w.nothing_created()


def test_moderation_blocks_a_reference_by_content_before_anything_is_created(
    tmp_path: Path, png: bytes
) -> None:
    blocked = hashlib.sha256(png).hexdigest()
    w = _world(
        tmp_path,
        admission=FakeAdmission(),
        moderation=FakeModeration(blocked_hashes=frozenset({blocked})),
    )
    other = image_bytes(640, 480, "PNG", seed=5)
    with pytest.raises(ModerationBlocked) as err:
        w.submissions.submit(OWNER, spec(references=(image(other), image(png))))
    assert err.value.code == "moderation.input.reference"
    assert err.value.reference_index == 1 and err.value.param == "references[1]"
    w.nothing_created()


def test_admission_refusal_comes_before_intake(tmp_path: Path, png: bytes) -> None:
    w = _world(tmp_path, admission=FakeAdmission.rate_limited(), moderation=FakeModeration())
    with pytest.raises(RateLimited) as err:
        w.submissions.submit(OWNER, spec(references=(image(png),)))
    assert err.value.code == "rate_limited.creates_per_minute" and err.value.http_status == 429
    assert len(w.admission.prechecks) == 1
    assert w.ingested == [] and w.stored_refs() == []
    w.nothing_created()


def test_a_precheck_replay_returns_the_existing_job_without_fetching(w: World, png: bytes) -> None:
    request = spec(references=(image(png),))
    first = w.submissions.submit(OWNER, request, idempotency_key="idem-1")
    assert len(w.ingested) == 1 and w.store.calls["insert"] == 1
    again = w.submissions.submit(OWNER, request, idempotency_key="idem-1")
    assert again == first
    assert len(w.ingested) == 1  # the replay fetched nothing
    assert w.store.calls["insert"] == 1 and w.queue.calls == [(first.id, "preview")]
    ticket = w.admission.prechecks[-1]
    assert ticket.idempotency_key == "idem-1" and ticket.request_hash == spec_fingerprint(request)


def test_a_replay_admitted_elsewhere_is_loaded_not_fetched(w: World) -> None:
    """Another API process admitted the key: this one hands back that job."""
    existing = w.store.add(make_job(w.clock, owner=OWNER, engine="preview"))
    request = spec(references=(video_url(1),))  # fetching it would fail
    w.admission.remember(OWNER, "idem-x", spec_fingerprint(request), existing.id)
    inserts, enqueues = w.store.calls["insert"], len(w.queue.calls)
    assert w.submissions.submit(OWNER, request, idempotency_key="idem-x") == existing
    assert w.ingested == [] and w.store.calls["insert"] == inserts
    assert len(w.queue.calls) == enqueues


def test_an_idempotency_key_reused_with_another_request_is_a_conflict(w: World, png: bytes) -> None:
    w.submissions.submit(OWNER, spec(references=(image(png),)), idempotency_key="idem-2")
    with pytest.raises(Conflict):
        w.submissions.submit(OWNER, spec(prompt="another", references=(video_url(1),)),
                             idempotency_key="idem-2")  # fmt: skip
    assert len(w.ingested) == 1 and w.store.calls["insert"] == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_bad_idempotency_key_is_refused(w: World, key: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        w.submissions.submit(OWNER, spec(), idempotency_key=key)
    assert err.value.code == "invalid_request.idempotency_key"
    w.nothing_created()


# ---- submit --------------------------------------------------------------------------------


def test_a_submit_inserts_once_and_enqueues_once_on_the_resolved_engine(
    w: World, png: bytes
) -> None:
    request = spec(
        model="wan-vace:pro", seconds=4, resolution=Resolution.P720,
        aspect_ratio=AspectRatio.AUTO, references=(image(png),), metadata={"order": "17"},
        seed=123, codec=Codec.H265,
    )  # fmt: skip
    job = w.submissions.submit(OWNER, request)
    assert w.store.calls["insert"] == 1 and list(w.store.rows) == [job.id]
    assert w.store.row(job.id) == job
    assert w.queue.calls == [(job.id, "wan-vace")]  # the engine, not the label
    assert job.status is JobStatus.QUEUED and job.stage is Stage.QUEUED
    assert job.resolved == ResolvedModel("wan-vace", "pro") and job.engine == "wan-vace"
    assert job.model == "wan-vace:pro" and job.owner_key_id == OWNER
    assert job.seconds == 4 and job.seed == 123 and job.codec is Codec.H265
    assert job.aspect_ratio is AspectRatio.R4_3  # auto: nearest the 640x480 image
    assert (job.width, job.height) == (960, 720)
    assert job.metadata == {"order": "17"} and job.remixed_from is None
    assert job.created_at == w.clock.now and job.execution_deadline == w.clock.now + 7200
    # priced on the label, held at admission
    assert job.hold_amount == pytest.approx(0.5 * 4)
    assert ("wan-vace:pro", Resolution.P720, 4) in w.pricing.calls
    assert [t.job_id for t in w.admission.admitted] == [job.id]
    assert w.admission.admitted[0].hold_amount == pytest.approx(2.0)
    # the reference was probed and stored once, by content
    (ref,) = job.references
    assert ref.kind is ReferenceKind.IMAGE and ref.index == 1
    assert (ref.width, ref.height) == (640, 480)
    assert ref.sha256 == hashlib.sha256(png).hexdigest()
    assert w.storage.exists(ref.storage_key) and w.stored_refs() == [ref.sha256]
    assert w.store.calls["get"] == 0  # creating reads no job


def test_a_submit_without_admission_still_inserts_once(tmp_path: Path) -> None:
    w = _world(tmp_path, admission=FakeAdmission(), moderation=FakeModeration())
    bare = Submissions(
        w.store, w.jobs, w.intake, _catalog(), w.pricing, w.moderation, clock=w.clock
    )
    job = bare.submit(OWNER, spec(model="house-style", seconds=2))
    assert w.queue.calls == [(job.id, "wan-vace")] and w.store.calls["insert"] == 1
    assert job.hold_amount == pytest.approx(1.0)


def test_a_reference_by_file_id_comes_from_the_file_repository(w: World, png: bytes) -> None:
    record = w.intake.upload(OWNER, png, declared_kind="image", mime_type="image/png",
                             filename="still.png")  # fmt: skip
    job = w.submissions.submit(
        OWNER, spec(references=(ReferenceInput(kind=ReferenceKind.IMAGE, file_id=record.id),))
    )
    (ref,) = job.references
    assert ref.storage_key == record.storage_key and ref.sha256 == record.sha256
    with pytest.raises(NotFound):  # another key cannot use it
        w.submissions.submit(
            "key_b",
            spec(references=(ReferenceInput(kind=ReferenceKind.IMAGE, file_id=record.id),)),
        )


def test_a_quote_creates_nothing(w: World, png: bytes) -> None:
    prepared = w.submissions.quote(
        OWNER, spec(model="wan-vace:pro", seconds=6, references=(image(png),))
    )
    assert prepared.cost == pytest.approx(0.5 * 6) and prepared.currency == "EUR"
    assert prepared.billed_seconds == 6.0
    assert prepared.resolved == ResolvedModel("wan-vace", "pro")
    assert len(prepared.references) == 1
    w.nothing_created()
    assert w.admission.prechecks == [] and w.admission.checks == []
    assert w.store.calls.total() == 0


def test_auto_seconds_are_priced_with_the_planners_choice(w: World, png: bytes) -> None:
    """`auto` (None): the planner reads "a 10-second clip" as 10 s; the quote, the admission's
    hold and the job's hold are all for 10 s, not the default 5."""
    request = spec(
        prompt="a 10-second clip of a lighthouse at dusk", seconds=None, references=(image(png),)
    )
    prepared = w.submissions.quote(OWNER, request)
    assert prepared.billed_seconds == 10.0
    assert prepared.cost == pytest.approx(0.03 * 10)
    job = w.submissions.submit(OWNER, request)
    assert job.seconds is None  # still auto on the job: the worker plans it
    assert job.hold_amount == pytest.approx(0.3)
    # the precheck ran before the length was known: it did not check credits
    assert [t.hold_amount < 0 for t in w.admission.prechecks] == [True]
    assert w.admission.admitted[-1].hold_amount == pytest.approx(0.3)


def test_auto_seconds_without_references_are_priced_too(w: World) -> None:
    job = w.submissions.submit(OWNER, spec(prompt="a 10-second clip", seconds=None))
    assert job.hold_amount == pytest.approx(0.3)
    assert w.admission.admitted[-1].hold_amount == pytest.approx(0.3)


def test_fixed_seconds_are_priced_as_asked(w: World, png: bytes) -> None:
    request = spec(prompt="a 10-second clip", seconds=3, references=(image(png),))
    job = w.submissions.submit(OWNER, request)
    assert job.hold_amount == pytest.approx(0.03 * 3)
    assert w.admission.prechecks[-1].hold_amount == pytest.approx(0.09)
    assert w.admission.admitted[-1].hold_amount == pytest.approx(0.09)


def test_a_mention_of_a_missing_reference_is_refused_before_intake(w: World) -> None:
    with pytest.raises(InvalidRequest) as err:
        w.submissions.submit(OWNER, spec(prompt="@Image2 walks", references=(video_url(1),)))
    assert err.value.code == "invalid_request.mention"
    assert w.ingested == []
    w.nothing_created()


# ---- remix ---------------------------------------------------------------------------------


def test_a_remix_reuses_the_stored_references_and_settings(w: World, png: bytes) -> None:
    source = w.submissions.submit(
        OWNER,
        spec(
            prompt="@Image1 on a beach", model="wan-vace:pro", seconds=4,
            resolution=Resolution.P720, aspect_ratio=AspectRatio.R9_16,
            references=(image(png),), generate_audio=False, codec=Codec.H265,
            return_last_frame=True, metadata={"campaign": "spring"}, end_user_id="u-1",
        ),
    )  # fmt: skip
    done = finish(w, source.id)
    assert done.status is JobStatus.SUCCEEDED
    ingested, enqueued = len(w.ingested), len(w.queue.calls)
    w.clock.advance(60)
    remix = w.submissions.remix(OWNER, source.id, "@Image1 in the snow")
    assert remix.id != source.id and remix.remixed_from == source.id
    assert remix.prompt == "@Image1 in the snow"
    assert remix.references == source.references  # the same stored files, not fetched again
    assert len(w.ingested) == ingested
    for name in ("model", "resolved", "seconds", "resolution", "aspect_ratio", "width",
                 "height", "generate_audio", "codec", "return_last_frame", "metadata",
                 "end_user_id", "dialect"):  # fmt: skip
        assert getattr(remix, name) == getattr(source, name), name
    assert remix.status is JobStatus.QUEUED and remix.created_at == w.clock.now
    assert w.queue.calls[enqueued:] == [(remix.id, "wan-vace")]
    assert w.store.row(remix.id) == remix
    assert remix.hold_amount == pytest.approx(0.5 * 4)
    assert w.moderation.prompts[-1] == "@Image1 in the snow"


def test_a_remix_is_idempotent_per_key(w: World) -> None:
    source = finish(w, w.submissions.submit(OWNER, spec()).id)
    first = w.submissions.remix(OWNER, source.id, "again", idempotency_key="r-1")
    again = w.submissions.remix(OWNER, source.id, "again", idempotency_key="r-1")
    assert again.id == first.id
    assert sum(1 for j in w.store.rows.values() if j.remixed_from == source.id) == 1


@pytest.mark.parametrize("status", ["queued", "running", "failed", "canceled"])
def test_only_a_succeeded_job_is_remixed(w: World, status: str) -> None:
    source = w.submissions.submit(OWNER, spec())
    if status == "running":
        assert w.jobs.start(source.id) is not None
    elif status == "failed":
        w.jobs.fail(source.id, JobError(code="generation_failed", message="x"))
    elif status == "canceled":
        w.jobs.cancel(OWNER, source.id)
    assert w.store.row(source.id).status.value == status
    inserts = w.store.calls["insert"]
    with pytest.raises(InvalidRequest) as err:
        w.submissions.remix(OWNER, source.id, "a new prompt")
    assert err.value.code == "invalid_request.remix_source" and err.value.param == "video_id"
    assert w.store.calls["insert"] == inserts and len(w.store.rows) == 1


def test_a_remix_of_another_keys_job_is_not_found(w: World) -> None:
    source = finish(w, w.submissions.submit(OWNER, spec()).id)
    with pytest.raises(NotFound):
        w.submissions.remix("key_b", source.id, "mine now")
    assert len(w.store.rows) == 1


def test_a_remix_prompt_is_moderated_and_its_mentions_checked(w: World, png: bytes) -> None:
    source = finish(w, w.submissions.submit(OWNER, spec(references=(image(png),))).id)
    with pytest.raises(ModerationBlocked):
        w.submissions.remix(OWNER, source.id, "a forbidden thing")
    with pytest.raises(InvalidRequest) as err:
        w.submissions.remix(OWNER, source.id, "@Image2 dances")
    assert err.value.code == "invalid_request.mention"
    with pytest.raises(InvalidRequest) as err:
        w.submissions.remix(OWNER, source.id, " ")
    assert err.value.code == "invalid_request.prompt"
    assert len(w.store.rows) == 1
