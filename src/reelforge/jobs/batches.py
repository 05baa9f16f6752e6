"""BatchService: the one owner of batch state (`POST /v1/batches`), and the durable workflow
that admits a batch's items.

A batch is stored whole at create (every item validated as the native create validates it,
seeds fixed, the idempotency key of each item's job derived), then a DBOS workflow per batch
admits its items in order, each through the one submission boundary (`Submissions.submit`:
intake -> engine check -> price -> admit -> insert -> enqueue) under the key's limits:

- an item over the key's concurrency (or creates-per-minute) limit stays `pending` and is tried
  again when a job of this process ends (or after `WAIT_SECONDS`);
- with `max_cost`, each item's quote is compared before it is admitted with what the batch
  has committed (holds of its running jobs, charges of its finished ones); the first item that
  does not fit ends `skipped` (`skipped.budget`) with every item after it, so the batch never
  charges more than `max_cost`;
- an item refused at admission (a reference that cannot be fetched, moderation, credits) ends
  `failed` with the error; the others go on;
- once no item is pending and every job has ended, the batch is `completed` (or `canceled`)
  and its `batch.completed` webhook event is stored (once: the event is unique per batch).

Each round of the loop is one checkpointed step; a process killed mid-batch resumes the
workflow on restart (DBOS recovery, or `resume_unfinished`), and an item admitted just before
the kill is found again through its idempotency key, so no item is lost or admitted twice.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from dbos import DBOS, SetWorkflowID

from reelforge import codes
from reelforge.core.batch import (
    BATCH_ACTIVE,
    Batch,
    BatchItem,
    BatchStatus,
    ItemState,
)
from reelforge.core.job import ACTIVE, Job
from reelforge.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    ReelforgeError,
)
from reelforge.intake.references import ReferenceIntake
from reelforge.intake.rules import check_metadata
from reelforge.jobs.batch_items import (
    BatchEventBody,
    BatchOverview,
    BatchRequest,
    BatchSnapshot,
    BatchTotals,
    decode_spec,
    derive_seed,
    encode_spec,
    item_idempotency_key,
    within,
)
from reelforge.jobs.notifications import EventSink
from reelforge.jobs.ports import Clock
from reelforge.jobs.service import JobService
from reelforge.jobs.submissions import PreparedRequest, Submissions
from reelforge.store.batch_repository import BatchRepository

log = logging.getLogger("reelforge.batches")

MAX_ITEMS = 1000  # items of one batch, takes included
MAX_TAKES = 16  # `n` of one request
WAIT_SECONDS = 1.0  # a round of the loop waits at most this long for a job to end
WORKFLOW_NAME = "reelforge.batch"
QUEUE_NAME = "reelforge-batches"
EVENT_TYPE = "batch.completed"
T = TypeVar("T")


def _outside_workflow(call: Callable[[], T]) -> T:
    """Run `call` on a thread of its own, outside the batch workflow's DBOS context: a job's
    own workflow is enqueued there as a top-level workflow, as from a create request."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name="reelforge-batch-admit", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


class _BudgetReached(ReelforgeError):
    code = codes.SKIPPED_BUDGET


def _error(code: str, message: str) -> dict[str, Any]:
    return ReelforgeError(message, code=code).to_dict()


# ---- the service -----------------------------------------------------------------------------


class BatchService:
    def __init__(
        self,
        repo: BatchRepository,
        submissions: Submissions,
        jobs: JobService,
        intake: ReferenceIntake,
        *,
        events: EventSink,
        event_body: BatchEventBody,
        currency: str,
        clock: Clock | None = None,
    ) -> None:
        self._repo = repo
        self._submissions = submissions
        self._jobs = jobs
        self._intake = intake
        self._events = events
        self._event_body = event_body
        self._currency = currency
        self._clock = clock or jobs.clock
        self._wake = threading.Condition()
        self._stopping = False
        self._ready = threading.Event()  # set once the process has started (`open`)
        self._queue: Any = None
        self._workflow = self._register()

    # ---- creating ----------------------------------------------------------------------

    def create(
        self, owner_key_id: str, request: BatchRequest, *, idempotency_key: str | None = None
    ) -> Batch:
        """Validate every item (as the native create does, before any reference is fetched),
        store the batch and start its workflow. With an `idempotency_key`, the same key and
        request give the same batch; the same key with another request is a 409."""
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise InvalidRequest(
                "Idempotency-Key must be 1..255 characters",
                code=codes.INVALID_REQUEST_IDEMPOTENCY_KEY, param="Idempotency-Key",
            )  # fmt: skip
        self._check(owner_key_id, request)
        batch_id = "batch_" + secrets.token_hex(12)
        now = self._clock()
        items = self._items(batch_id, request, idempotency_key, now)
        batch = Batch(
            id=batch_id, owner_key_id=owner_key_id, status=BatchStatus.IN_PROGRESS,
            created_at=now, updated_at=now, total=len(items), max_cost=request.max_cost,
            metadata=dict(request.metadata), webhook_url=request.webhook_url,
            item_webhooks=request.item_webhooks, idempotency_key=idempotency_key,
            request_hash=request.fingerprint if idempotency_key else None,
        )  # fmt: skip
        stored, created = self._repo.insert(batch, items)
        if not created:
            if stored.request_hash != batch.request_hash:
                raise Conflict(
                    f"Idempotency-Key {idempotency_key!r} was used with a different batch "
                    f"({stored.id}); use a new key for a new batch",
                    code=codes.CONFLICT_IDEMPOTENCY_KEY, param="Idempotency-Key",
                )  # fmt: skip
            return stored
        self._start(stored.id)
        return stored

    def _check(self, owner_key_id: str, request: BatchRequest) -> None:
        if not request.requests:
            raise InvalidRequest(
                "requests is empty; a batch has at least one request",
                code=codes.INVALID_REQUEST_BATCH_EMPTY, param="requests",
            )  # fmt: skip
        total = sum(r.n for r in request.requests)
        if total > MAX_ITEMS:
            raise InvalidRequest(
                f"the batch has {total} items (takes included); at most {MAX_ITEMS}: send "
                "several batches",
                code=codes.INVALID_REQUEST_BATCH_TOO_LARGE, param="requests",
            )  # fmt: skip
        if request.max_cost is not None and not request.max_cost > 0:
            raise InvalidRequest(
                f"max_cost is {request.max_cost}; it must be a positive amount",
                code=codes.INVALID_REQUEST_MAX_COST, param="max_cost",
            )  # fmt: skip
        check_metadata(request.metadata, self._intake.limits)
        if request.webhook_url is not None:
            self._intake.check_callback_url(request.webhook_url, param="webhook_url")
        elif request.item_webhooks:
            raise InvalidRequest(
                "item_webhooks sends each item's events to webhook_url; give webhook_url too",
                param="item_webhooks",
            )
        seen: dict[str, int] = {}
        for i, item in enumerate(request.requests):
            where = f"requests[{i}]"
            if item.custom_id in seen:
                raise InvalidRequest(
                    f"{where}.custom_id {item.custom_id!r} is also that of "
                    f"requests[{seen[item.custom_id]}]; each request has its own custom_id",
                    code=codes.INVALID_REQUEST_BATCH_CUSTOM_ID, param=f"{where}.custom_id",
                )  # fmt: skip
            seen[item.custom_id] = i
            if not 1 <= item.n <= MAX_TAKES:
                raise InvalidRequest(
                    f"{where}.n is {item.n}; it must be 1..{MAX_TAKES}",
                    code=codes.INVALID_REQUEST_BATCH_TAKES, param=f"{where}.n",
                )  # fmt: skip
            try:
                self._submissions.validate(item.spec)
                self._intake.check_files(owner_key_id, item.spec.references)
            except ReelforgeError as exc:
                raise within(exc, where) from None

    def _items(
        self, batch_id: str, request: BatchRequest, batch_key: str | None, now: float
    ) -> list[BatchItem]:
        items: list[BatchItem] = []
        rng = secrets.SystemRandom()
        for req in request.requests:
            base = req.spec.seed if req.spec.seed is not None else rng.randrange(2**31)
            for take in range(req.n):
                seed = derive_seed(base, take)
                spec = replace(req.spec, seed=seed)
                if request.item_webhooks and request.webhook_url and not spec.webhook_url:
                    spec = replace(spec, webhook_url=request.webhook_url)
                index = len(items)
                items.append(
                    BatchItem(
                        batch_id=batch_id, index=index, custom_id=req.custom_id, take=take,
                        seed=seed, spec=encode_spec(spec),
                        idempotency_key=item_idempotency_key(
                            batch_id, batch_key, req.custom_id, take, index
                        ),
                        updated_at=now,
                    )
                )  # fmt: skip
        return items

    # ---- reads -------------------------------------------------------------------------

    def get(self, owner_key_id: str, batch_id: str) -> Batch:
        batch = self._repo.get(batch_id)
        if batch is None or batch.owner_key_id != owner_key_id:
            raise NotFound(f"no batch {batch_id!r}", code=codes.NOT_FOUND_BATCH, param="id")
        return batch

    def snapshot(self, owner_key_id: str, batch_id: str) -> BatchSnapshot:
        return self._snapshot(self.get(owner_key_id, batch_id))

    def _snapshot(self, batch: Batch) -> BatchSnapshot:
        return BatchSnapshot(
            batch=batch,
            items=tuple(self._repo.items(batch.id)),
            jobs=self._repo.jobs_of(batch.id),
            currency=self._currency,
        )

    def list_page(
        self, owner_key_id: str, *, limit: int = 20, after: str | None = None
    ) -> tuple[list[BatchOverview], bool]:
        """A page of the key's batches, newest first, without their items."""
        cursor = self.get(owner_key_id, after) if after else None
        rows = self._repo.page(owner_key_id, limit=limit + 1, after=cursor)
        return self._overviews(rows[:limit]), len(rows) > limit

    def _overviews(self, batches: list[Batch]) -> list[BatchOverview]:
        totals = self._repo.totals([b.id for b in batches])
        out = []
        for batch in batches:
            rows = totals[batch.id]
            summed = BatchTotals(
                counts=tuple((state, status, n) for state, status, n, _, _ in rows),
                charged=round(sum(cost for *_, cost, _ in rows), 6),
                committed=round(sum(cost + hold for *_, cost, hold in rows), 6),
            )
            out.append(BatchOverview(batch, summed, self._currency))
        return out

    # ---- cancel ------------------------------------------------------------------------

    def cancel(self, owner_key_id: str, batch_id: str) -> BatchSnapshot:
        """Pending items end `skipped` (`skipped.canceled`), queued and running jobs are
        canceled through JobService; the batch is `canceling` until they have stopped, then
        `canceled`. A canceled batch is answered as it is; a completed one is a 409."""
        batch = self.get(owner_key_id, batch_id)
        if batch.status is BatchStatus.COMPLETED:
            raise Conflict(
                f"batch {batch_id} is already completed; only a batch in progress can be "
                "canceled", code=codes.CONFLICT_NOT_CANCELABLE, param="id",
            )  # fmt: skip
        if batch.status is BatchStatus.IN_PROGRESS:
            self._repo.request_cancel(batch_id, self._clock())
        self._stop_items(self.get(owner_key_id, batch_id))
        self._notify()
        return self.snapshot(owner_key_id, batch_id)

    def _stop_items(self, batch: Batch) -> None:
        now = self._clock()
        for index, job_id, hold in self._repo.unrecorded_jobs(batch):
            # Admitted just before a crash, not yet recorded: recorded now, canceled below.
            self._repo.admitted(batch.id, index, job_id, hold, now)
        self._repo.skip_pending(
            batch.id,
            _error(codes.SKIPPED_CANCELED, "the batch was canceled before this item started"),
            now,
        )
        for job in self._repo.jobs_of(batch.id).values():
            if job.status in ACTIVE and not job.cancel_requested:
                self._cancel_job(job)

    def _cancel_job(self, job: Job) -> None:
        with contextlib.suppress(Conflict, NotFound):  # it ended meanwhile
            self._jobs.cancel(job.owner_key_id, job.id)

    # ---- the workflow ------------------------------------------------------------------

    def _register(self) -> Any:
        @DBOS.step(name="reelforge.batch.advance")
        def advance(batch_id: str) -> bool:
            try:
                return self.advance(batch_id)
            except Exception:  # a database hiccup: the next round tries again
                log.exception("batch %s: a round of its workflow failed", batch_id)
                self._wait()
                return False

        @DBOS.workflow(name=WORKFLOW_NAME)
        def run_batch(batch_id: str) -> str:
            while not advance(batch_id):
                if self._stopping:
                    # The service is stopping: this attempt ends here and the next start runs
                    # a new one (`resume_unfinished`), from the batch's rows.
                    return "stopped"
            return "done"

        return run_batch

    def launch(self, poll_seconds: float) -> None:
        """Register the batches' queue (after DBOS is launched) and resume the batches left
        unfinished by the last run."""
        self._stopping = False
        self._queue = DBOS.register_queue(QUEUE_NAME, polling_interval_sec=poll_seconds)
        self.resume_unfinished()

    def open(self) -> None:
        """Let the batches' workflows admit items: called once the process has started (a
        workflow recovered as DBOS launched waits until then, so its writes do not race the
        start-up's own, nor find the job queues missing)."""
        self._ready.set()

    def stop(self) -> None:
        self._stopping = True
        self._ready.set()
        self._notify()

    def resume_unfinished(self) -> int:
        """Start the workflow of every unfinished batch whose workflow is not pending (it was
        never started, or it stopped with the service); idempotent."""
        count = 0
        for batch_id in self._repo.ids_with_status(set(BATCH_ACTIVE)):
            if self._start(batch_id):
                count += 1
        return count

    def _start(self, batch_id: str) -> bool:
        """Enqueue the batch's workflow unless one is pending or queued; True when enqueued."""
        for attempt in range(1000):
            workflow_id = f"{batch_id}#{attempt}"
            status = DBOS.get_workflow_status(workflow_id)
            if status is None:
                with SetWorkflowID(workflow_id):
                    self._queue.enqueue(self._workflow, batch_id)
                return True
            if status.status in ("PENDING", "ENQUEUED", "DELAYED"):
                return False
        raise RuntimeError(f"batch {batch_id}: too many workflow attempts")

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def job_ended(self, job: Job) -> None:
        """`jobs.ports.Notifier`: a slot may have freed; the admission loops look again."""
        self._notify()

    def job_progressed(self, job: Job) -> None:
        """`jobs.ports.Notifier`: nothing to do."""

    def advance(self, batch_id: str) -> bool:
        """One round of a batch's workflow: stop what a cancel asked to stop, admit pending
        items while the key's limits and the budget allow, and end the batch once every item
        has ended; True when the batch is over. Safe to run again after a crash: every change
        is guarded and every admission is idempotent."""
        # A workflow recovered as DBOS launches waits until the process has started (`open`).
        while not self._ready.wait(0.1):
            pass
        if self._stopping:
            return False
        batch = self._repo.get(batch_id)
        if batch is None:
            log.error("batch %s has no row; its workflow ends", batch_id)
            return True
        if not batch.status.is_terminal:
            if batch.cancel_requested:
                self._stop_items(batch)
            else:
                self._admit_pending(batch)
            if not self._finish(batch):
                self._wait()
                return False
        self._store_event(self._repo.get(batch_id) or batch)
        return True

    def _wait(self) -> None:
        if self._stopping:
            return
        with self._wake:
            self._wake.wait(WAIT_SECONDS)

    def _admit_pending(self, batch: Batch) -> None:
        for item in self._repo.items(batch.id, ItemState.PENDING):
            if self._stopping:
                return
            if not self._admit(batch, item):
                return

    def _admit(self, batch: Batch, item: BatchItem) -> bool:
        """Admit one item; False when admission should wait (a limit) or stop (the budget)."""
        spec = decode_spec(item.spec)
        quoted: list[float] = []

        def check_price(prepared: PreparedRequest) -> None:
            quoted.append(prepared.cost)
            if batch.max_cost is None:
                return
            committed = self._repo.committed(batch.id)
            if committed + prepared.cost > batch.max_cost + 1e-9:
                raise _BudgetReached(
                    f"the batch's max_cost of {batch.max_cost:.4f} {self._currency} was "
                    f"reached: {committed:.4f} committed, this item is quoted at "
                    f"{prepared.cost:.4f}"
                )

        now = self._clock()
        try:
            job = _outside_workflow(
                lambda: self._submissions.submit(
                    batch.owner_key_id, spec, idempotency_key=item.idempotency_key,
                    check_price=check_price,
                )
            )  # fmt: skip
        except _BudgetReached as exc:
            self._repo.ended(batch.id, item.index, ItemState.SKIPPED, exc.to_dict(), now)
            self._repo.skip_pending(
                batch.id,
                _error(codes.SKIPPED_BUDGET, f"not started: {exc.message} (an earlier item)"),
                now,
            )
            return False
        except RateLimited:
            return False  # over the key's concurrency or rate: wait in the batch
        except ReelforgeError as exc:  # refused (a reference, moderation, credits): this item
            self._repo.ended(batch.id, item.index, ItemState.FAILED, exc.to_dict(), now)
            return True
        except Exception:  # a database hiccup (or a bug): tried again in the next round; its
            # idempotency key gives back the job if it was stored before the error
            log.exception("batch %s item %d could not be admitted", batch.id, item.index)
            return False
        quote = quoted[0] if quoted else job.hold_amount
        if not self._repo.admitted(batch.id, item.index, job.id, quote, now):
            self._cancel_job(job)  # the batch was canceled while this item was admitted
        return True

    def _finish(self, batch: Batch) -> bool:
        """End the batch when no item is pending and every job has ended; True when over."""
        if self._repo.items(batch.id, ItemState.PENDING):
            return False
        if any(j.status in ACTIVE for j in self._repo.jobs_of(batch.id).values()):
            return False
        now = self._clock()
        current = self._repo.get(batch.id) or batch
        dst = BatchStatus.CANCELED if current.cancel_requested else BatchStatus.COMPLETED
        self._repo.transition(batch.id, set(BATCH_ACTIVE), dst, completed_at=now, updated_at=now)
        return True

    def _store_event(self, batch: Batch) -> None:
        """The batch's one `batch.completed` event (stored once; delivered and retried by the
        webhook dispatcher, signed with the key's secret)."""
        if not batch.webhook_url or not batch.status.is_terminal:
            return
        now = self._clock()
        event_id = "evt_" + secrets.token_hex(12)
        body = self._event_body(self._overviews([batch])[0], event_id, now)
        self._events.store_event(
            job_id=batch.id, owner_key_id=batch.owner_key_id, url=batch.webhook_url,
            key=EVENT_TYPE, event_id=event_id, body=body,
        )  # fmt: skip
