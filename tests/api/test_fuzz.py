"""A property-based run over the whole OpenAPI document (issue 12): schemathesis generates
valid and invalid requests for every operation and sends them to a real server with the admin
key; no answer may be a 5xx, and every answer must match the schema the document gives for its
status (`response_schema_conformance`: the typed bodies and each dialect's error body).

Bounded for CI: `REELFORGE_FUZZ_EXAMPLES` examples per operation and mode (default 3) and
`REELFORGE_FUZZ_SECONDS` in all (default 30); on PostgreSQL half of each. `make fuzz` runs
it with 100 examples and 15 minutes.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import ADMIN_KEY
from tests.dialects.server import running_reelforge
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

EXAMPLES = int(os.environ.get("REELFORGE_FUZZ_EXAMPLES", "3"))
SECONDS = float(os.environ.get("REELFORGE_FUZZ_SECONDS", "30"))
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
SKIP = {
    # Streams until the job ends (a generated id never exists, but a valid one would hold the
    # run for the job's life); covered by its own tests.
    ("GET", "/v1/videos/{video_id}/events"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    # Fuzzed creates render with the instant fixture engine and never reach the network.
    with running_reelforge(Path(data), creates_per_minute=100_000) as base_url:
        yield base_url


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_no_input_gets_a_5xx(server: str) -> None:
    fuzz(server, EXAMPLES, SECONDS)


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_no_input_gets_a_5xx_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    """The same on PostgreSQL, shorter (its column types refuse what SQLite stores)."""
    with running_reelforge(
        tmp_path / "data", database_url=postgres_url, creates_per_minute=100_000
    ) as base_url:
        fuzz(base_url, max(1, EXAMPLES // 2), SECONDS / 2)


def fuzz(server: str, examples: int, seconds: float) -> None:
    spec = requests.get(f"{server}/openapi.json", timeout=30).json()
    # The request bodies' documentation examples name real https references: never fetched here.
    for item in spec["paths"].values():
        for op in item.values():
            for media in op.get("requestBody", {}).get("content", {}).values():
                media.pop("example", None)
                media.get("schema", {}).pop("examples", None)
    schema = schemathesis.openapi.from_dict(spec)
    session = requests.Session()
    session.headers.update(AUTH)
    deadline = time.monotonic() + seconds
    failures: list[str] = []
    mismatches: list[str] = []
    sent = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                nonlocal sent
                if time.monotonic() > deadline:
                    return
                try:
                    response = case.call(base_url=server, session=session, timeout=30)
                except (requests.RequestException, UnicodeEncodeError, ValueError):
                    return  # the client could not send it (e.g. a header it cannot encode)
                sent += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:300]} (body {case.body!r:.200})"
                    )
                try:
                    case.validate_response(response, checks=[response_schema_conformance])
                except (AssertionError, BaseExceptionGroup) as exc:  # Failure, FailureGroup
                    mismatches.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{str(exc)[:500]}"
                    )

            # Unsatisfiable: nothing to make invalid in this operation (e.g. no parameters).
            with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                run()
    print(f"fuzz: {sent} requests, {len(failures)} answered 5xx, {len(mismatches)} off-schema")
    assert sent > 25, f"only {sent} requests were sent"
    assert not failures, "\n".join(failures[:20])
    assert not mismatches, "\n".join(mismatches[:20])
