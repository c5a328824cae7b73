"""Export and import of the whole log as JSON Lines, hashes included.

The file is a header line, then one line per event in position order::

    {"format": "career-ladder-log", "format_version": 1, "events": 2, "last_position": 2}
    {"position": 1, "stream": "ladder-product", "version": 1, "event_id": "...", ...}

Each event line holds the row exactly as the log stores it: position, stream, version,
event id, type, schema version, data and metadata (as JSON objects, *not* upcast),
``recorded_at`` (ISO 8601, UTC) and the hash chain (``hash``, ``prev_hash``). Exporting
the same log twice gives the same bytes.

Personal data travels sealed (``events.sealing``): the event lines hold the ciphertext the
hashes cover, never plaintext. The data keys (wrapped by the master key, tombstones of
erased people included) go to a second file beside the export, ``<file>.keys``, which
import restores when present: the new database opens the personal data only with the
same ``LADDER_MASTER_KEY``; without the keys file (or that key) it reads as erased.

Import goes around ``append`` on purpose: it must restore the rows as they were, with
their positions, versions, times and hashes, which ``append`` (rightly) hands out itself.
The Merkle tree (``merkle_nodes``) is rebuilt from the rows as they are inserted.
It only fills an EMPTY log, inside ONE transaction under the store's append lock: every
line is parsed and every chain recomputed while reading, rows are inserted in batches,
and the first bad line (malformed, a chain break, a gap, a missing tail) rolls the whole
transaction back, so a refused or interrupted import writes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.db import write_engine
from events.encoding import STREAM_NAME
from events.errors import StoreError
from events.hashing import iso_utc
from events.merkle import CompactTree, leaf_hash
from events.port import VerifyResult
from events.rows import COLUMNS, ENTRY_COLUMNS
from events.schema import data_keys_table as DK
from events.schema import events_table as T
from events.schema import idempotency_table as K
from events.schema import merkle_table as N
from events.tree import row_entry
from events.verify import ChainVerifier, StoredRow

FORMAT = "career-ladder-log"
FORMAT_VERSION = 1
BATCH = 1000

Progress = Callable[[int, int], None]
"""Called as ``progress(events_done, events_total)``."""

_PG_APPEND_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events'))")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_COLUMNS = [T.c[name] for name in COLUMNS]


class TransferError(StoreError):
    """An import was refused; nothing was written. ``line`` is 1-based when known."""

    code = "IMPORT_REFUSED"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


class StoreNotEmpty(TransferError):
    code = "STORE_NOT_EMPTY"


@dataclass(frozen=True, slots=True)
class TransferResult:
    events: int
    streams: int
    last_position: int


# --- export ---------------------------------------------------------------------------


def _event_line(row: sa.Row[Any]) -> bytes:
    line = dict(zip(COLUMNS, row, strict=True))
    line["event_id"] = str(line["event_id"])
    # Stored JSON text, embedded as is: the hash covers exactly this.
    line["data"] = orjson.Fragment(line["data"])
    line["metadata"] = orjson.Fragment(line["metadata"])
    line["recorded_at"] = iso_utc(line["recorded_at"])
    return orjson.dumps(line)


async def export_log(
    engine: AsyncEngine, path: str | Path, *, progress: Progress | None = None
) -> TransferResult:
    """Write the log up to its current head to ``path`` (atomically: temp file + rename)."""
    target = Path(path)
    async with engine.connect() as conn:
        last = int(await conn.scalar(sa.select(sa.func.max(T.c.position))) or 0)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as out:
            header = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "events": last,
                "last_position": last,
            }
            out.write(orjson.dumps(header) + b"\n")
            streams, done = await _write_events(engine, out, last, progress)
            out.flush()
            os.fsync(out.fileno())
        await _export_keys(engine, keys_path(target))
        os.replace(tmp, target)
    except BaseException:
        await asyncio.to_thread(Path(tmp).unlink, missing_ok=True)
        raise
    return TransferResult(events=done, streams=streams, last_position=last)


async def _write_events(
    engine: AsyncEngine, out: IO[bytes], last: int, progress: Progress | None
) -> tuple[int, int]:
    streams: set[str] = set()
    done = 0
    after = 0
    while after < last:
        q = (
            sa.select(*_COLUMNS)
            .where(T.c.position > after, T.c.position <= last)
            .order_by(T.c.position)
            .limit(BATCH * 5)
        )
        async with engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        if not rows:
            break
        out.write(b"".join(_event_line(r) + b"\n" for r in rows))
        streams.update(r[1] for r in rows)
        done += len(rows)
        after = rows[-1][0]
        if progress is not None:
            progress(done, last)
    return len(streams), done


# --- import ---------------------------------------------------------------------------


def _lines(source: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(source, start=1):
        line = raw.strip()
        if line:
            yield number, line


def _header(number: int, line: bytes) -> int:
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise TransferError("the header is not JSON", line=number) from None
    if (
        not isinstance(header, dict)
        or header.get("format") != FORMAT
        or header.get("format_version") != FORMAT_VERSION
    ):
        raise TransferError(f"not a {FORMAT} file (format version {FORMAT_VERSION})", line=number)
    count = header.get("events")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise TransferError("the header has no event count", line=number)
    return count


def _int(value: object, name: str, number: int, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise TransferError(f"{name} must be an integer >= {minimum}", line=number)
    return value


def _parse_event(number: int, line: bytes) -> StoredRow:
    """One event line as the row to insert; raises ``TransferError`` naming the line."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise TransferError("not valid JSON", line=number) from None
    if not isinstance(obj, dict) or set(obj) != set(COLUMNS):
        raise TransferError(
            f"an event line has exactly the fields {', '.join(COLUMNS)}", line=number
        )
    stream, type_ = obj["stream"], obj["type"]
    if not isinstance(stream, str) or STREAM_NAME.fullmatch(stream) is None:
        raise TransferError(f"bad stream name {stream!r}", line=number)
    if not isinstance(type_, str) or not 0 < len(type_) <= 255:
        raise TransferError("bad event type", line=number)
    if not isinstance(obj["data"], dict) or not isinstance(obj["metadata"], dict):
        raise TransferError("data and metadata must be JSON objects", line=number)
    digest, prev = obj["hash"], obj["prev_hash"]
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise TransferError("hash is not 64 hex digits", line=number)
    if prev is not None and (not isinstance(prev, str) or not _HEX64.fullmatch(prev)):
        raise TransferError("prev_hash is not 64 hex digits or null", line=number)
    try:
        event_id = UUID(str(obj["event_id"]))
        recorded_at = datetime.fromisoformat(str(obj["recorded_at"]))
    except ValueError:
        raise TransferError("event_id or recorded_at is malformed", line=number) from None
    if recorded_at.tzinfo is None:
        raise TransferError("recorded_at has no time zone", line=number)
    return StoredRow(
        position=_int(obj["position"], "position", number),
        stream=stream,
        version=_int(obj["version"], "version", number),
        event_id=event_id,
        type=type_,
        schema_version=_int(obj["schema_version"], "schema_version", number),
        data=orjson.dumps(obj["data"]).decode(),
        metadata=orjson.dumps(obj["metadata"]).decode(),
        recorded_at=recorded_at.astimezone(UTC),
        hash=digest,
        prev_hash=prev,
    )


class _Importer:
    """Checks rows as they stream in and remembers what the idempotency table needs."""

    def __init__(self) -> None:
        self.checker = ChainVerifier(check_positions=False)
        self.position = 0
        self.event_ids: set[UUID] = set()
        self.keys: dict[str, tuple[list[int], datetime]] = {}
        self.tree = CompactTree()
        self.nodes: list[dict[str, Any]] = []

    def check(self, number: int, row: StoredRow) -> dict[str, Any]:
        if row.position != self.position + 1:
            raise TransferError(
                f"position {row.position} follows {self.position}: the log has a gap "
                "or is out of order",
                line=number,
            )
        self.position = row.position
        if row.event_id in self.event_ids:
            raise TransferError(f"event id {row.event_id} appears twice", line=number)
        self.event_ids.add(row.event_id)
        self.checker.feed(row)
        found = self.checker.result().first_break if self.checker.broken else None
        if found is not None:
            raise TransferError(
                f"event {row.event_id} (position {row.position}, {row.stream} "
                f"version {row.version}): {found.reason}",
                line=number,
            )
        entry = row_entry(*(getattr(row, name) for name in ENTRY_COLUMNS))
        for level, idx, digest in self.tree.append(leaf_hash(entry)):
            self.nodes.append({"level": level, "idx": idx, "hash": digest})
        key = orjson.loads(row.metadata).get("idempotency_key")
        if isinstance(key, str):
            positions, _ = self.keys.setdefault(key, ([], row.recorded_at))
            positions.append(row.position)
        return {name: getattr(row, name) for name in COLUMNS}


async def import_log(
    engine: AsyncEngine, path: str | Path, *, progress: Progress | None = None
) -> TransferResult:
    """Fill an empty, migrated log from an export; all or nothing.

    Raises ``StoreNotEmpty`` when the log has events and ``TransferError`` (naming the
    line) for a malformed or tampered file; nothing is written then.
    """
    source = await asyncio.to_thread(Path(path).open, "rb")
    with source:
        async with write_engine(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(_PG_APPEND_LOCK)
            if await conn.scalar(sa.select(T.c.position).limit(1)) is not None:
                raise StoreNotEmpty("the log is not empty: import only into an empty database")
            return await _import_lines(conn, source, progress)


async def _import_lines(
    conn: AsyncConnection, source: IO[bytes], progress: Progress | None
) -> TransferResult:
    lines = _lines(source)
    first = next(lines, None)
    if first is None:
        raise TransferError("the file is empty")
    expected = _header(*first)
    importer = _Importer()
    batch: list[dict[str, Any]] = []
    last_line = first[0]
    for number, line in lines:
        last_line = number
        if importer.position >= expected:
            raise TransferError(
                f"more events than the {expected} the header announces", line=number
            )
        batch.append(importer.check(number, _parse_event(number, line)))
        if len(batch) >= BATCH:
            await _insert(conn, batch, importer)
            batch = []
            if progress is not None:
                progress(importer.position, expected)
    if importer.position != expected:
        raise TransferError(
            f"the file ends after {importer.position} of the {expected} events the header "
            "announces (truncated?)",
            line=last_line,
        )
    if batch:
        await _insert(conn, batch, importer)
    if importer.keys:
        await conn.execute(
            K.insert(),
            [
                {"key": k, "positions": orjson.dumps(p).decode(), "recorded_at": at}
                for k, (p, at) in importer.keys.items()
            ],
        )
    if progress is not None:
        progress(importer.position, expected)
    if (keys := getattr(source, "name", None)) is not None and keys_path(keys).is_file():
        await _import_keys(conn, keys_path(keys))
    streams = importer.checker.result().streams_checked
    return TransferResult(events=importer.position, streams=streams, last_position=expected)


async def _insert(conn: AsyncConnection, batch: list[dict[str, Any]], importer: _Importer) -> None:
    """Insert a batch of events and the Merkle nodes they complete."""
    await conn.execute(T.insert(), batch)
    await conn.execute(N.insert(), importer.nodes)
    importer.nodes = []


# --- data keys ------------------------------------------------------------------------


def keys_path(path: str | Path) -> Path:
    """Where the data keys of the export at ``path`` go."""
    return Path(f"{path}.keys")


async def _export_keys(engine: AsyncEngine, target: Path) -> None:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(DK).order_by(DK.c.subject))).all()
    lines = [
        orjson.dumps(
            {
                "subject": subject,
                "wrapped": None if wrapped is None else base64.b64encode(wrapped).decode(),
                "created_at": iso_utc(created),
                "erased_at": None if erased is None else iso_utc(erased),
            }
        )
        + b"\n"
        for subject, wrapped, created, erased in rows
    ]
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    with os.fdopen(fd, "wb") as out:
        out.write(b"".join(lines))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)


async def _import_keys(conn: AsyncConnection, path: Path) -> None:
    rows: list[dict[str, Any]] = []
    text = await asyncio.to_thread(path.read_bytes)
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            k = orjson.loads(line)
            rows.append(
                {
                    "subject": str(k["subject"]),
                    "wrapped": None if k["wrapped"] is None else base64.b64decode(k["wrapped"]),
                    "created_at": datetime.fromisoformat(k["created_at"]),
                    "erased_at": None
                    if k["erased_at"] is None
                    else datetime.fromisoformat(k["erased_at"]),
                }
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise TransferError(f"{path.name}: line {number} is not a data key") from None
    if rows:
        await conn.execute(sa.delete(DK))
        await conn.execute(DK.insert(), rows)


# --- verify with progress -------------------------------------------------------------


async def verify_log(
    engine: AsyncEngine, stream: str | None = None, *, progress: Progress | None = None
) -> VerifyResult:
    """``SqlEventStore.verify`` with progress: the same ``ChainVerifier`` over raw rows.

    The whole log (``stream=None``) is also checked for position gaps.
    """
    checker = ChainVerifier(check_positions=stream is None)
    async with engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(T)
        if stream is not None:
            q = q.where(T.c.stream == stream)
        total = int(await conn.scalar(q) or 0)
    done, after = 0, 0
    while True:
        q = sa.select(*_COLUMNS).where(T.c.position > after).order_by(T.c.position)
        if stream is not None:
            q = q.where(T.c.stream == stream)
        async with engine.connect() as conn:
            rows = (await conn.execute(q.limit(BATCH * 5))).all()
        for r in rows:
            checker.feed(StoredRow.of(r))
        done += len(rows)
        if progress is not None:
            progress(done, max(total, done))
        if len(rows) < BATCH * 5:
            return checker.result()
        after = rows[-1][0]
