"""``ladder prove`` and ``ladder verify-proof``: a person's events, proven offline."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.cli.helpers import Ran, ladder, rows, with_db
from tests.integration.cli.test_checkpoints import ATTACKS, _attack, edit_a_promotion


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    ran = ladder("keygen", "--name", "ladder.test/log", "--out", str(tmp_path / "log"))
    assert ran.exit_code == 0, ran.stderr
    return tmp_path / "log.key", tmp_path / "log.pub"


def _person(url: str) -> str:
    """The person with the most events (promotions and all)."""
    streams = [r["stream"] for r in rows(url) if r["stream"].startswith("person-")]
    return str(max(set(streams), key=streams.count)).removeprefix("person-")


def _checkpoint(url: str, key: Path, path: Path) -> Path:
    ran = with_db(url, "checkpoint", "--key", str(key), "--out", str(path))
    assert ran.exit_code == 0, ran.stderr
    return path


def _prove(url: str, key: Path, out: Path, *extra: str) -> dict[str, Any]:
    ran = with_db(url, "prove", _person(url), "--key", str(key), "--out", str(out), *extra)
    assert ran.exit_code == 0, ran.stderr
    bundle: dict[str, Any] = orjson.loads(out.read_bytes())
    return bundle


def _check(bundle: Path, pub: Path, *extra: str) -> Ran:
    return ladder("verify-proof", str(bundle), "--public-key", str(pub), *extra)


def _rewrite(path: Path, bundle: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps(bundle))
    return path


def test_a_bundle_verifies_offline_and_proves_the_log_extends_an_older_checkpoint(
    demo_db: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    key, pub = keys
    old = _checkpoint(demo_db, key, tmp_path / "old.checkpoint")
    ran = with_db(demo_db, "demo", "--people", "2", "--seed", "8", "--quiet")
    assert ran.exit_code == 0, ran.stderr
    bundle = _prove(demo_db, key, tmp_path / "b.json", "--after-checkpoint", str(old))
    assert len(bundle["events"]) >= 3
    assert bundle["consistency"][0]["from_size"] < len(rows(demo_db))
    entry = orjson.loads(bundle["events"][0]["entry"])
    assert set(entry) >= {"position", "event_id", "stream", "version", "recorded_at"}
    ran = _check(tmp_path / "b.json", pub, "--after-checkpoint", str(old))
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith(f"ok: {len(bundle['events'])} events proven")


def _tamper_entry(bundle: dict[str, Any]) -> None:
    entry = orjson.loads(bundle["events"][1]["entry"])
    entry["data"]["effective_on"] = "1999-01-01"
    bundle["events"][1]["entry"] = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS).decode()


def _drop_an_event(bundle: dict[str, Any]) -> None:
    del bundle["events"][1]


def _reorder(bundle: dict[str, Any]) -> None:
    e = bundle["events"]
    e[1], e[2] = e[2], e[1]


def _flip_a_proof_hash(bundle: dict[str, Any]) -> None:
    proof = bundle["events"][0]["inclusion"]
    raw = bytearray(base64.b64decode(proof[0]))
    raw[0] ^= 1
    proof[0] = base64.b64encode(bytes(raw)).decode()


def _edit_the_checkpoint(bundle: dict[str, Any]) -> None:
    lines = bundle["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    bundle["checkpoint"] = "\n".join(lines)


@pytest.mark.parametrize(
    ("change", "grade"),
    [
        (_tamper_entry, "manipulation"),
        (_drop_an_event, "gap"),
        (_reorder, "gap"),
        (_flip_a_proof_hash, "manipulation"),
        (_edit_the_checkpoint, "manipulation"),
    ],
)
def test_a_changed_bundle_is_refused_with_a_graded_finding(
    demo_db: str, keys: tuple[Path, Path], tmp_path: Path, change: Any, grade: str
) -> None:
    bundle = _prove(demo_db, keys[0], tmp_path / "b.json")
    change(bundle)
    ran = _check(_rewrite(tmp_path / "b.json", bundle), keys[1])
    assert ran.exit_code == 1
    assert ran.stdout.startswith(f"{grade}: "), ran.stdout


def test_a_bundle_signed_with_another_key_is_refused(
    demo_db: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    ladder("keygen", "--name", "ladder.test/log", "--out", str(tmp_path / "rogue"))
    _prove(demo_db, tmp_path / "rogue.key", tmp_path / "b.json")
    ran = _check(tmp_path / "b.json", keys[1])
    assert ran.exit_code == 1
    assert "manipulation: checkpoint: the note has no signature by ladder.test/log" in ran.stdout


def test_a_rewritten_history_signed_again_fails_against_the_older_checkpoint(
    demo_db: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    key, pub = keys
    old = _checkpoint(demo_db, key, tmp_path / "old.checkpoint")
    _attack(demo_db, edit_a_promotion)  # chains and tree re-forged: the database agrees
    assert with_db(demo_db, "demo", "--people", "1", "--seed", "9", "--quiet").exit_code == 0
    # The operator signs the rewritten log (a fresh file: `checkpoint --out old` refuses).
    new = _checkpoint(demo_db, key, tmp_path / "new.checkpoint")
    proved = with_db(
        demo_db, "prove", _person(demo_db), "--checkpoint", str(new), "--public-key", str(pub),
        "--after-checkpoint", str(old), "--out", str(tmp_path / "b.json"),
    )  # fmt: skip
    assert proved.exit_code == 0, proved.stderr
    alone = _check(tmp_path / "b.json", pub)
    assert alone.exit_code == 0  # on its own the rewritten log is self-consistent
    ran = _check(tmp_path / "b.json", pub, "--after-checkpoint", str(old))
    assert ran.exit_code == 1
    assert "does not extend the earlier checkpoint" in ran.stdout


def test_verify_proof_needs_no_database(
    demo_db: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    _prove(demo_db, keys[0], tmp_path / "b.json")
    ran = ladder(
        "verify-proof", str(tmp_path / "b.json"), "--public-key", str(keys[1]),
        env={"LADDER_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
    )  # fmt: skip
    assert ran.exit_code == 0, ran.stderr


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
def test_every_reforged_attack_fails_verify_proof_against_the_checkpoint_kept(
    demo_db: str, keys: tuple[Path, Path], tmp_path: Path, attack: Any
) -> None:
    key, pub = keys
    old = _checkpoint(demo_db, key, tmp_path / "old.checkpoint")
    _attack(demo_db, attack)
    new = _checkpoint(demo_db, key, tmp_path / "new.checkpoint")  # the operator signs again
    proved = with_db(
        demo_db, "prove", _person(demo_db), "--checkpoint", str(new), "--public-key", str(pub),
        "--after-checkpoint", str(old), "--out", str(tmp_path / "b.json"),
    )  # fmt: skip
    assert proved.exit_code == 0, proved.stderr
    ran = _check(tmp_path / "b.json", pub, "--after-checkpoint", str(old))
    assert ran.exit_code == 1, ran.stdout
    assert ran.stdout.startswith(("manipulation: ", "gap: ")), ran.stdout
