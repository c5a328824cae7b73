"""``ladder export`` and ``ladder import``: the whole log, hashes and all, as JSON Lines."""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.integration.cli.helpers import count, on_db, rows, with_db

_KEPT = ("position", "stream", "version", "type", "schema_version", "hash", "prev_hash")


def _export(url: str, path: Path) -> list[bytes]:
    ran = with_db(url, "export", str(path))
    assert ran.exit_code == 0, ran.stderr
    return path.read_bytes().splitlines()


def test_export_then_import_restores_the_log_exactly(
    demo_db: str, other_db_url: str, tmp_path: Path
) -> None:
    exported = _export(demo_db, tmp_path / "log.jsonl")
    header = orjson.loads(exported[0])
    assert header["format"] == "career-ladder-log"
    assert header["events"] == len(exported) - 1 == count(demo_db)
    ran = with_db(other_db_url, "import", str(tmp_path / "log.jsonl"))
    assert ran.exit_code == 0, ran.stderr
    assert f"imported {header['events']} events" in ran.stdout
    original, restored = rows(demo_db), rows(other_db_url)
    assert [tuple(r[k] for k in _KEPT) for r in restored] == [
        tuple(r[k] for k in _KEPT) for r in original
    ]
    assert [orjson.loads(r["data"]) for r in restored] == [
        orjson.loads(r["data"]) for r in original
    ]
    assert with_db(other_db_url, "verify").exit_code == 0
    assert _export(other_db_url, tmp_path / "again.jsonl") == exported
    assert _nodes(other_db_url) == _nodes(demo_db)  # the same Merkle tree


def _nodes(url: str) -> list[tuple[int, int, bytes]]:
    async def job(conn: AsyncConnection) -> list[tuple[int, int, bytes]]:
        result = await conn.execute(sa.text("SELECT level, idx, hash FROM merkle_nodes"))
        return sorted((int(r[0]), int(r[1]), bytes(r[2])) for r in result)

    return on_db(url, job)


def test_an_imported_log_keeps_its_idempotency_keys(
    demo_db: str, other_db_url: str, tmp_path: Path
) -> None:
    _export(demo_db, tmp_path / "log.jsonl")
    assert with_db(other_db_url, "import", str(tmp_path / "log.jsonl")).exit_code == 0
    before = count(other_db_url)
    ran = with_db(other_db_url, "demo", "--people", "8", "--seed", "7", "-q")
    assert ran.exit_code == 0, ran.stderr
    assert count(other_db_url) == before  # every demo command was recognised


def test_a_tampered_file_is_refused_naming_the_line_and_nothing_is_written(
    demo_db: str, other_db_url: str, tmp_path: Path
) -> None:
    lines = _export(demo_db, tmp_path / "log.jsonl")
    number = next(i for i, line in enumerate(lines) if b'"PersonHired"' in line) + 1
    forged = orjson.loads(lines[number - 1])
    forged["data"]["prior_years"] = 30.0
    lines[number - 1] = orjson.dumps(forged)
    (tmp_path / "forged.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    ran = with_db(other_db_url, "import", str(tmp_path / "forged.jsonl"))
    assert ran.exit_code == 4
    assert len(ran.error_lines) == 1
    assert f"line {number}:" in ran.error_lines[0]
    assert forged["event_id"] in ran.error_lines[0]
    assert "nothing was imported" in ran.error_lines[0]
    assert count(other_db_url) == 0


def test_a_truncated_file_is_refused(demo_db: str, other_db_url: str, tmp_path: Path) -> None:
    lines = _export(demo_db, tmp_path / "log.jsonl")
    (tmp_path / "cut.jsonl").write_bytes(b"\n".join(lines[:-3]) + b"\n")
    ran = with_db(other_db_url, "import", str(tmp_path / "cut.jsonl"))
    assert ran.exit_code == 4
    assert "truncated" in ran.stderr
    assert count(other_db_url) == 0


def test_a_deleted_line_is_refused_naming_the_line(
    demo_db: str, other_db_url: str, tmp_path: Path
) -> None:
    lines = _export(demo_db, tmp_path / "log.jsonl")
    del lines[5]
    (tmp_path / "gap.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    ran = with_db(other_db_url, "import", str(tmp_path / "gap.jsonl"))
    assert ran.exit_code == 4
    assert "line 6:" in ran.stderr
    assert count(other_db_url) == 0


def test_import_refuses_a_database_that_already_has_events(demo_db: str, tmp_path: Path) -> None:
    _export(demo_db, tmp_path / "log.jsonl")
    before = count(demo_db)
    ran = with_db(demo_db, "import", str(tmp_path / "log.jsonl"))
    assert ran.exit_code == 6
    assert ran.error_lines == [
        "error: refused: the log is not empty: import only into an empty database"
    ]
    assert count(demo_db) == before


def test_import_of_a_file_that_is_not_an_export_is_refused(
    other_db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    ran = with_db(other_db_url, "import", str(tmp_path / "notes.txt"))
    assert ran.exit_code == 4
    assert "line 1:" in ran.stderr
    missing = with_db(other_db_url, "import", str(tmp_path / "missing.jsonl"))
    assert missing.exit_code == 3
