"""The master key: configured, or in development a key file made once beside the database."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from events.sealing import (
    MASTER_KEY_ENV,
    MasterKeyError,
    configure_master_key,
    master_key_for,
    new_master_key,
)


@pytest.fixture(autouse=True)
def no_configured_key() -> Iterator[None]:
    """These tests are about the environment and the key file: forget a key an earlier
    test's settings configured for the process (and configure none after them)."""
    configure_master_key(None)
    yield
    configure_master_key(None)


def test_development_without_a_key_makes_one_file_beside_the_database_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'ladder.db'}")
    first = master_key_for(url)
    path = tmp_path / "ladder.db.masterkey"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert master_key_for(url) == first and len(first) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["ladder.db.masterkey"]


def test_a_configured_key_wins_and_a_malformed_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_master_key()
    monkeypatch.setenv(MASTER_KEY_ENV, key)
    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'ladder.db'}")
    assert len(master_key_for(url)) == 32
    assert not (tmp_path / "ladder.db.masterkey").exists()
    monkeypatch.setenv(MASTER_KEY_ENV, "too-short")
    with pytest.raises(MasterKeyError):
        master_key_for(url)
