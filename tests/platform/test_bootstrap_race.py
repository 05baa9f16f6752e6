"""Two API replicas starting at once with one REELFORGE_BOOTSTRAP_KEY on an empty store: both
see no key, both insert the admin key; the second insert breaks the key-hash unique constraint.
That replica must start anyway (the key it was told to create exists), not exit: found by
tests/deploy/test_compose.py, where two replicas start together."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from reelforge.platform.keys import KeyRing, hash_key
from reelforge.store.database import open_database
from reelforge.store.key_repository import KeyRepository

PRESET = "rf_" + "b" * 40


def test_a_replica_that_loses_the_bootstrap_race_starts(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'keys.db'}")
    first, second = KeyRepository(database), KeyRepository(database)
    assert KeyRing(first).bootstrap(tmp_path / "a" / "admin_key", PRESET) == PRESET
    second.count = lambda: 0  # type: ignore[method-assign]  # it looked before the first wrote
    assert KeyRing(second).bootstrap(tmp_path / "b" / "admin_key", PRESET) is None
    assert first.count() == 1 and first.by_hash(hash_key(PRESET)) is not None


def test_another_integrity_error_is_not_swallowed(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'keys.db'}")
    repo = KeyRepository(database)

    def broken(*_: object) -> None:
        raise IntegrityError("INSERT", {}, Exception("some other constraint"))

    repo.insert = broken  # type: ignore[method-assign]
    with pytest.raises(IntegrityError):
        KeyRing(repo).bootstrap(tmp_path / "admin_key", PRESET)
