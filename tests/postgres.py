"""A fresh PostgreSQL database per test, on the server that `.ci/run` starts.

`REELFORGE_TEST_POSTGRES_URL` names a role that may create databases. In CI a missing server is
a failure, never a skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

ENV = "REELFORGE_TEST_POSTGRES_URL"


def _admin_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        message = f"{ENV} is not set: PostgreSQL tests need a server (.ci/run starts one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    admin = sa.make_url(_admin_url()).set(drivername="postgresql+psycopg")
    name = "reelforge_test_" + secrets.token_hex(6)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
