"""Personal data sealed under per-person keys, so that erasing a person is destroying a key.

The fields ``domain.personal_data.PERSONAL_FIELDS`` declares are replaced in place by a
marker ``{"$sealed": "v2:<subject>:<kind>"}`` (entries one by one for ``NESTED_FIELDS``),
and the event's data gets ``"$sealed": {<subject>: <hex nonce + ciphertext>}``: per
subject, one AES-256-GCM ciphertext of ``{<field or field.entry>: value}`` under the data
subject's own data key, with the event id's 16 bytes as associated data (a ciphertext
cannot be moved to another event; a value's field is inside the plaintext). One cipher
operation per event and subject, however many fields. Opening removes the top-level
``$sealed``. Format ``v1`` (a ciphertext per field, never shipped) is still read. The
event's hash and Merkle leaf cover the stored form, so verification never needs (or
reveals) the plaintext.

Data keys live in ``data_keys``, each wrapped (AES-256-GCM) by the master key
(``LADDER_MASTER_KEY``; in development a key file created beside the SQLite database, or
under ``~/.local/state/ladder`` for PostgreSQL), so a copy of the database alone opens
nothing. Erasure turns the subject's row into a tombstone (``wrapped`` NULL): their fields
then open to the *empty value of their kind* (``""`` for text, ``[]``, ``{}``; ``kind``
says which), so every non-null contract (columns, GraphQL fields, "an exception was
granted") still holds; later events seal nothing new for them (stored empty).

Opening is done by the store on every read path (``SqlEventStore``); values that are not
envelopes (a log written before sealing) pass through unchanged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from orjson import loads
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.personal_data import NESTED_FIELDS, PERSONAL_FIELDS
from events.errors import StoreError
from events.port import NewEvent, StreamAppend
from events.schema import data_keys_table as K
from events.sqlite_io import sqlite_text

log = logging.getLogger(__name__)
unhexlify = binascii.unhexlify

SEALED = "$sealed"
VERSION = "v2"
V1 = "v1"
ERASED_TYPE = "PersonalDataErased"
KEY_BYTES = 32
NONCE_BYTES = 12
MASTER_KEY_ENV = "LADDER_MASTER_KEY"
MASTER_KEY_FILE_ENV = "LADDER_MASTER_KEY_FILE"


class MasterKeyError(StoreError):
    """The master key is missing, malformed, or not the one the data keys were wrapped by."""


_configured: bytes | None = None


def configure_master_key(key: str | bytes | None) -> None:
    """Use ``key`` (base64 text or 32 bytes) as the process's master key (the API's
    settings call this at start); None falls back to the environment or the dev file."""
    global _configured
    _configured = None if key is None else (key if isinstance(key, bytes) else parse_key(key))
    if _configured is not None:  # worker processes (a parallel rebuild) read it from here
        os.environ[MASTER_KEY_ENV] = base64.b64encode(_configured).decode()


def parse_key(text: str) -> bytes:
    """A master key from its base64 text; ``MasterKeyError`` unless it is 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError("the master key is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(f"the master key must be {KEY_BYTES} bytes, base64-encoded")
    return raw


def new_master_key() -> str:
    """A fresh master key as base64 text (for ``LADDER_MASTER_KEY``)."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def dev_key_path(url: URL) -> Path:
    """Where a development process keeps its master key when none is configured."""
    if explicit := os.environ.get(MASTER_KEY_FILE_ENV):
        return Path(explicit)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database + ".masterkey")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "ladder" / "master.key"


def master_key_for(url: URL) -> bytes:
    """The configured key, else ``LADDER_MASTER_KEY``, else the development key file
    (created on first use, readable by its owner only)."""
    if _configured is not None:
        return _configured
    if text := os.environ.get(MASTER_KEY_ENV):
        return parse_key(text)
    path = dev_key_path(url)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(new_master_key() + "\n")
            # Whole or not at all, and the first process to get there wins.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return parse_key(path.read_text())


class HasData(Protocol):
    """A recorded event or an envelope: its type, id and (mutable) data."""

    @property
    def type(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


def is_sealed(value: object) -> bool:
    return type(value) is dict and SEALED in value


def subject_of(value: object) -> str | None:
    """The data subject a sealed value belongs to."""
    if not is_sealed(value):
        return None
    text = value[SEALED]  # type: ignore[index]
    parts = text.split(":", 3) if isinstance(text, str) else []
    return parts[1] if len(parts) >= 3 else None


_KINDS: dict[type, str] = {str: "s", list: "l", dict: "d"}
_EMPTY: dict[str, Callable[[], object]] = {"s": str, "l": list, "d": dict}


def erased_value(kind: str) -> object:
    """What a value of ``kind`` reads as once its key is gone."""
    make = _EMPTY.get(kind)
    return None if make is None else make()


def kind_of(value: object) -> str:
    return _KINDS.get(type(value), "o")


class Sealer:
    """Seals and opens personal fields with per-subject keys kept in ``data_keys``.

    Keys are cached for the process (``None`` for an erased subject). A process that
    reads a ``PersonalDataErased`` forgets that subject's key, so an erasure made by
    another process takes effect here too.
    """

    def __init__(self, engine: AsyncEngine, master: Callable[[], bytes] | None = None) -> None:
        self.engine = engine
        self._master = master or (lambda: master_key_for(engine.url))
        self._wrapper: AESGCM | None = None
        self._keys: dict[str, AESGCM | None] = {}
        self._unsaved: dict[str, bytes] = {}
        self.erasures = 0
        """Grows whenever this process learns of an erasure (or forgets its keys): what
        was opened before may no longer be readable (``api_history.CareerHistories``)."""

    def _wrap(self) -> AESGCM:
        if self._wrapper is None:
            self._wrapper = AESGCM(self._master())
        return self._wrapper

    # -- sealing ---------------------------------------------------------------------

    async def seal(self, appends: Sequence[StreamAppend]) -> list[StreamAppend]:
        """``appends`` with every personal field sealed (creating the subjects' keys)."""
        sealed, _ = await self.seal_with_keys(appends, in_append=False)
        return sealed

    async def seal_with_keys(
        self, appends: Sequence[StreamAppend], *, in_append: bool
    ) -> tuple[list[StreamAppend], NewKeys | None]:
        """``seal``; with ``in_append``, a person's key first needed by their hire is made
        here and stored by the returned condition, in the append's own transaction (one
        commit instead of two; ``KeyRace`` refuses the append if the subject got another
        key meanwhile: seal again with ``in_append=False``). Keys made so but not yet
        stored (an append that failed) travel with every later append that uses them."""
        subjects: set[str] = set()
        hired: set[str] = set()
        for part in appends:
            for e in getattr(part, "events", None) or ():
                if isinstance(e, NewEvent) and isinstance(e.data, Mapping):
                    found = _subjects(e.type, e.data)
                    subjects.update(found)
                    if in_append and e.type == "PersonHired" and SEALED not in e.data:
                        hired.update(found)
        if not subjects:
            return list(appends), None
        fresh = [s for s in hired if s not in self._keys]
        for s in fresh:
            key = AESGCM.generate_key(256)
            self._unsaved[s] = self._wrap_key(s, key)
            self._keys[s] = AESGCM(key)
        await self._load(subjects, create=True)
        sealed = [
            StreamAppend(
                part.stream, [self._seal_event(e) for e in part.events], part.expected_version
            )
            for part in appends
        ]
        unsaved = {s: self._unsaved[s] for s in subjects if s in self._unsaved}
        return sealed, (NewKeys(unsaved) if unsaved else None)

    def stored(self, keys: NewKeys) -> None:
        """The append carrying ``keys`` committed: they are stored."""
        for s, wrapped in keys.wrapped.items():
            if self._unsaved.get(s) == wrapped:
                del self._unsaved[s]

    def drop(self, subjects: Iterable[str]) -> None:
        """Forget ``subjects``' cached keys (another key was stored for them)."""
        for s in subjects:
            self._keys.pop(s, None)
            self._unsaved.pop(s, None)

    def _seal_event(self, e: NewEvent) -> NewEvent:
        fields = PERSONAL_FIELDS.get(e.type)
        if fields is None or not isinstance(e, NewEvent) or not isinstance(e.data, Mapping):
            return e
        if SEALED in e.data:  # sealed already (an imported log)
            return e
        data = dict(e.data)
        plain: dict[str, dict[str, object]] = {}  # subject -> {path: value}
        for name, subject_field in fields.items():
            value = data.get(name)
            if value is None or is_sealed(value):
                continue
            subject = str(data.get(subject_field))
            if (e.type, name) in NESTED_FIELDS and isinstance(value, Mapping):
                entries = NESTED_FIELDS[e.type, name]
                data[name] = {
                    k: (
                        self._mark(plain, subject, f"{name}.{k}", v)
                        if (entries is None or k in entries) and v is not None and not is_sealed(v)
                        else v
                    )
                    for k, v in value.items()
                }
            else:
                data[name] = self._mark(plain, subject, name, value)
        if plain:
            aad = e.event_id.bytes
            sealed: dict[str, str] = {}
            for subject, values in plain.items():
                key = self._keys.get(subject)
                if key is None:  # never: an erased subject's values were stored empty
                    continue
                nonce = os.urandom(NONCE_BYTES)
                sealed[subject] = (nonce + key.encrypt(nonce, orjson.dumps(values), aad)).hex()
            data[SEALED] = sealed
        return NewEvent(e.type, data, e.schema_version, e.event_id)

    def _mark(
        self, plain: dict[str, dict[str, object]], subject: str, path: str, value: object
    ) -> object:
        """The marker left in place of ``value`` (its plaintext joins the subject's
        ciphertext), or the empty value when the subject is erased."""
        kind = kind_of(value)
        if self._keys.get(subject) is None:  # erased: nothing personal is recorded for them
            return erased_value(kind)
        plain.setdefault(subject, {})[path] = value
        return {SEALED: f"{VERSION}:{subject}:{kind}"}

    # -- opening ---------------------------------------------------------------------

    async def open(self, events: Sequence[HasData], ids: Sequence[str] | None = None) -> None:
        """Open the sealed fields of ``events`` in place (fetching keys not cached)."""
        later: list[int] = []
        missing = self._open(events, ids, strict=True, later=later)
        if missing:
            await self._load(missing, create=False)
            self._open(
                [events[i] for i in later],
                None if ids is None else [ids[i] for i in later],
                strict=False,
            )

    def open_cached(self, events: Sequence[HasData], ids: Sequence[str] | None = None) -> None:
        """``open`` with cached keys only (an append's own events: sealing cached them);
        a value whose key is not cached opens to None."""
        self._open(events, ids, strict=False)

    def _open(
        self,
        events: Sequence[HasData],
        ids: Sequence[str] | None,
        strict: bool,
        later: list[int] | None = None,
    ) -> set[str]:
        """Open what the cached keys open; with ``strict``, leave the events needing a key
        not cached as they are, their subjects in the result and their indexes in
        ``later``."""
        missing: set[str] = set()
        keys = self._keys
        fields_of = PERSONAL_FIELDS.get
        for i, e in enumerate(events):
            t = e.type
            fields = fields_of(t)
            if fields is None:
                if t == ERASED_TYPE:
                    keys[str(e.data.get("person_id"))] = None
                    self.erasures += 1
                continue
            data = e.data
            sealed = data.get(SEALED)
            if sealed is None:
                if fields.keys() & data.keys():  # maybe a v1 log: fields sealed one by one
                    left = self._open_v1(e, i, ids, fields, keys, strict, missing)
                    if later is not None and left:
                        later.append(i)
                continue
            if type(sealed) is not dict:
                del data[SEALED]
                _empty_marked(data, t, fields)
                continue
            aad: bytes | None = None
            whole, pending = True, False
            for subject, text in sealed.items():
                if subject not in keys:
                    if strict:
                        missing.add(subject)
                        pending = True
                    whole = False
                    continue
                key = keys[subject]
                if key is None:  # erased
                    whole = False
                    continue
                if aad is None:
                    aad = _aad(ids[i]) if ids is not None else getattr(e, "event_id").bytes  # noqa: B009
                try:
                    raw = unhexlify(text)
                    values = loads(key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad))
                except (InvalidTag, ValueError, TypeError, binascii.Error):
                    log.warning("the sealed data of event %s does not open", _event_text(e, i, ids))
                    whole = False
                    continue
                if type(values) is not dict:
                    whole = False
                    continue
                for path, value in values.items():
                    old = data.get(path, _PENDING)
                    if type(old) is dict:
                        data[path] = value
                    elif old is _PENDING:
                        name, _, entry = path.partition(".")
                        box = data.get(name)
                        if type(box) is dict and type(box.get(entry)) is dict:
                            box[entry] = value
            if pending:
                if later is not None:
                    later.append(i)
                continue  # the second pass opens it whole, with the keys fetched
            del data[SEALED]
            if not whole:
                _empty_marked(data, t, fields)
        return missing

    def _open_v1(
        self,
        e: HasData,
        i: int,
        ids: Sequence[str] | None,
        fields: Mapping[str, str],
        keys: dict[str, AESGCM | None],
        strict: bool,
        missing: set[str],
    ) -> bool:
        """Fields sealed one by one (``v1``, before the envelope held one ciphertext per
        subject): each opens on its own. True if one waits for a key not cached."""
        data = e.data
        t = e.type
        eid: str | None = None
        left = False
        for name in fields:
            value = data.get(name)
            if type(value) is not dict:
                continue
            if eid is None:
                eid = ids[i] if ids is not None else str(getattr(e, "event_id"))  # noqa: B009
            if SEALED in value:
                opened = self._open_value(value, eid, name, keys, strict, missing)
                if opened is _PENDING:
                    left = True
                else:
                    data[name] = opened
            elif (t, name) in NESTED_FIELDS:  # entries sealed one by one
                for k, v in list(value.items()):
                    if type(v) is dict and SEALED in v:
                        opened = self._open_value(v, eid, f"{name}.{k}", keys, strict, missing)
                        if opened is _PENDING:
                            left = True
                        else:
                            value[k] = opened
        return left

    def _open_value(
        self,
        value: dict[str, Any],
        eid: str,
        path: str,
        keys: dict[str, AESGCM | None],
        strict: bool,
        missing: set[str],
    ) -> object:
        """A ``v1`` value (its own ciphertext) opened."""
        text = value[SEALED]
        parts = text.split(":", 3) if isinstance(text, str) else []
        if len(parts) != 4 or parts[0] != V1:
            return erased_value(parts[2]) if len(parts) == 3 else None
        subject, kind = parts[1], parts[2]
        if subject not in keys:
            if strict:
                missing.add(subject)
                return _PENDING
            return erased_value(kind)
        key = keys[subject]
        if key is None:
            return erased_value(kind)
        try:
            raw = base64.b64decode(parts[3])
            aad = f"{eid}:{path}".encode()
            return orjson.loads(key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad))
        except (InvalidTag, ValueError, binascii.Error):
            log.warning("a sealed value of event %s (%s) does not open", eid, path)
            return erased_value(kind)

    def knows(self, subject: str) -> bool:
        """Whether ``subject``'s key (or its erasure) is cached: ``open_one`` then needs
        no stored key for it."""
        return subject in self._keys

    def open_one(
        self,
        data: Mapping[str, Any],
        value: object,
        eid: str,
        path: str,
        wrapped: Mapping[str, bytes | None],
    ) -> object:
        """One value of an event's ``data`` as stored (sealed or not) opened, with keys
        not cached taken from ``wrapped`` (subject -> wrapped key, as read by the caller's
        own connection, e.g. a check made under the append lock); a key found nowhere
        opens to erased. ``data`` is left as stored."""
        if type(value) is not dict or SEALED not in value:
            return value
        subject = subject_of(value)
        if subject is not None and subject not in self._keys and subject in wrapped:
            raw = wrapped[subject]
            self._keys[subject] = None if raw is None else AESGCM(self._unwrap_key(subject, raw))
        text = value[SEALED]
        if isinstance(text, str) and text.startswith(V1 + ":"):
            return self._open_value(value, eid, path, self._keys, False, set())
        kind = text.rsplit(":", 1)[-1] if isinstance(text, str) else "o"
        key = None if subject is None else self._keys.get(subject)
        sealed = data.get(SEALED)
        blob = sealed.get(subject) if type(sealed) is dict else None
        if key is None or not isinstance(blob, str):
            return erased_value(kind)
        try:
            raw = unhexlify(blob)
            values = loads(key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(eid)))
        except (InvalidTag, ValueError, TypeError, binascii.Error):
            log.warning("the sealed data of event %s does not open", eid)
            return erased_value(kind)
        return values.get(path, erased_value(kind)) if type(values) is dict else erased_value(kind)

    # -- keys ------------------------------------------------------------------------

    async def _load(self, subjects: Iterable[str], *, create: bool) -> None:
        wanted = [s for s in subjects if s not in self._keys]
        if not wanted:
            return
        found = await (self._create(wanted) if create else self._fetch(wanted))
        for s in wanted:
            wrapped = found.get(s)
            self._keys[s] = None if wrapped is None else AESGCM(self._unwrap_key(s, wrapped))

    async def _create(self, subjects: Sequence[str]) -> dict[str, bytes | None]:
        """The subjects' keys, made for those that have none (a tombstone stays one)."""
        now = datetime.now(UTC)
        wrapped = [self._wrap_key(s, AESGCM.generate_key(256)) for s in subjects]
        if self.engine.dialect.name == "postgresql":
            async with self.engine.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection
                rows = await raw.fetch(_CREATE_PG, list(subjects), wrapped, [now] * len(wrapped))
            found: dict[str, bytes | None] = {r[0]: _bytes(r[1]) for r in rows}
        else:
            found = {}
            for i in range(0, len(subjects), 300):  # within SQLite's bound parameters
                found.update(await self._create_sqlite(subjects[i : i + 300], wrapped[i : i + 300]))
        if len(found) < len(subjects):  # keys (or tombstones) made before, or meanwhile
            found.update(await self._fetch([s for s in subjects if s not in found]))
        return found

    async def _create_sqlite(
        self, subjects: Sequence[str], wrapped: Sequence[bytes]
    ) -> dict[str, bytes | None]:
        now = sqlite_text(datetime.now(UTC))
        marks = ", ".join(["(?, ?, ?)"] * len(subjects))
        params: list[Any] = []
        for subject, key in zip(subjects, wrapped, strict=True):
            params += [subject, key, now]
        async with self.engine.connect() as conn:
            # One statement, in autocommit, without an fsync of its own (as on
            # PostgreSQL): the WAL is written in order, so the commit of the first event
            # sealed with a new key syncs the key too.
            driver: Any = (await conn.get_raw_connection()).driver_connection
            await driver.execute("PRAGMA synchronous = NORMAL")
            try:
                cursor = await driver.execute(_CREATE_SQLITE.format(marks), params)
                found = {r[0]: _bytes(r[1]) for r in await cursor.fetchall()}
                await cursor.close()
            finally:
                await driver.execute("PRAGMA synchronous = FULL")
        return found

    async def _fetch(self, subjects: Sequence[str]) -> dict[str, bytes | None]:
        """The stored keys (or tombstones) of ``subjects``: one statement, on the driver
        (a first read fetches every person's key it meets)."""
        async with self.engine.connect() as conn:
            driver: Any = (await conn.get_raw_connection()).driver_connection
            if self.engine.dialect.name == "postgresql":
                rows = await driver.fetch(_FETCH_PG, list(subjects))
            else:
                cursor = await driver.execute(
                    _FETCH_SQLITE, (orjson.dumps(list(subjects)).decode(),)
                )
                rows = await cursor.fetchall()
                await cursor.close()
        return {r[0]: _bytes(r[1]) for r in rows}

    def _wrap_key(self, subject: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._wrap().encrypt(nonce, key, subject.encode())

    def _unwrap_key(self, subject: str, wrapped: bytes) -> bytes:
        try:
            return self._wrap().decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject.encode()
            )
        except InvalidTag as exc:
            raise MasterKeyError(
                "the data keys were wrapped by another master key (check LADDER_MASTER_KEY)"
            ) from exc

    async def erase(self, subject: str) -> bool:
        """Destroy ``subject``'s data key, leaving a tombstone (so nothing personal is
        sealed for them again); True when a key was destroyed now."""
        now = datetime.now(UTC)
        self._keys[subject] = None
        self.erasures += 1
        self._unsaved.pop(subject, None)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(K)
                .where(K.c.subject == subject, K.c.wrapped.is_not(None))
                .values(wrapped=None, erased_at=now)
            )
            destroyed = bool(result.rowcount)
            if not destroyed:
                insert = (
                    postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
                )(K)
                await conn.execute(
                    insert.on_conflict_do_nothing(index_elements=["subject"]),
                    [{"subject": subject, "wrapped": None, "created_at": now, "erased_at": now}],
                )
        return destroyed

    def forget(self) -> None:
        """Drop every cached key (tests; a process that must re-read the key table)."""
        self.erasures += 1
        self._keys.clear()
        self._unsaved.clear()


_PENDING = object()


class KeyRace(StoreError):
    """A key made for an append was not the one stored for its subject (another process
    made one meanwhile, or the subject was erased): the append is refused, nothing written."""

    def __init__(self, subjects: Sequence[str]) -> None:
        super().__init__(f"another data key is stored for {len(subjects)} subject(s)")
        self.subjects = list(subjects)


class NewKeys:
    """An append condition (``events.conditions``) that stores keys made for the append
    in its own transaction, or refuses it (``KeyRace``) if another key is stored."""

    __slots__ = ("wrapped",)

    def __init__(self, wrapped: Mapping[str, bytes]) -> None:
        self.wrapped = dict(wrapped)

    def check_sqlite(self, conn: Any) -> None:
        subjects = list(self.wrapped)
        now = sqlite_text(datetime.now(UTC))
        inserted: set[str] = set()
        for i in range(0, len(subjects), 300):
            chunk = subjects[i : i + 300]
            params: list[Any] = []
            for subject in chunk:
                params += [subject, self.wrapped[subject], now]
            sql = _CREATE_SQLITE.format(", ".join(["(?, ?, ?)"] * len(chunk)))
            inserted.update(r[0] for r in conn.execute(sql, params).fetchall())
        raced = []
        for subject in subjects:
            if subject not in inserted:
                row = conn.execute(_KEY_SQLITE, (subject,)).fetchone()
                if row is None or _bytes(row[0]) != self.wrapped[subject]:
                    raced.append(subject)
        if raced:
            raise KeyRace(raced)

    async def check_postgres(self, conn: Any) -> None:
        subjects = list(self.wrapped)
        now = datetime.now(UTC)
        rows = await conn.fetch(
            _INSERT_PG, subjects, [self.wrapped[s] for s in subjects], [now] * len(subjects)
        )
        inserted = {r[0] for r in rows}
        rest = [s for s in subjects if s not in inserted]
        stored = {r[0]: _bytes(r[1]) for r in await conn.fetch(_FETCH_PG, rest)} if rest else {}
        raced = [s for s in rest if stored.get(s) != self.wrapped[s]]
        if raced:
            raise KeyRace(raced)


def _aad(event_id: str) -> bytes:
    """The associated data binding a ciphertext to its event: the id's 16 bytes."""
    return bytes.fromhex(event_id.replace("-", ""))


def _event_text(e: HasData, i: int, ids: Sequence[str] | None) -> str:
    return ids[i] if ids is not None else str(getattr(e, "event_id", "?"))


def _empty_marked(data: dict[str, Any], type_name: str, fields: Mapping[str, str]) -> None:
    """Every field (or nested entry) still holding a marker set to its kind's empty
    value: its subject is erased, or its ciphertext does not open."""
    for name in fields:
        value = data.get(name)
        if type(value) is not dict:
            continue
        if SEALED in value:
            data[name] = _marker_empty(value)
        elif (type_name, name) in NESTED_FIELDS:
            for k, v in value.items():
                if type(v) is dict and SEALED in v:
                    value[k] = _marker_empty(v)


def _marker_empty(value: dict[str, Any]) -> object:
    text = value[SEALED]
    if not isinstance(text, str):
        return None
    parts = text.split(":")
    return erased_value(parts[2]) if len(parts) >= 3 and parts[0] in (VERSION, V1) else None


# One round trip on PostgreSQL: insert the keys that are missing, and return every wanted
# key (those already there from the statement's snapshot, the new ones from RETURNING).
# The commit does not wait for its own WAL flush: the WAL is written in order, so the
# commit of the first event sealed with a new key makes that key durable too.
_CREATE_PG = (
    "WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true)), "
    "ins AS (INSERT INTO data_keys (subject, wrapped, created_at) "
    "SELECT * FROM unnest($1::text[], $2::bytea[], $3::timestamptz[]) "
    "ON CONFLICT (subject) DO NOTHING RETURNING subject, wrapped) "
    "SELECT k.subject, k.wrapped FROM data_keys AS k, cfg WHERE k.subject = ANY($1::text[]) "
    "UNION ALL SELECT ins.subject, ins.wrapped FROM ins, cfg"
)

# The keys that are missing, inserted; RETURNING gives only those (the rest are fetched).
_CREATE_SQLITE = (
    "INSERT INTO data_keys (subject, wrapped, created_at) VALUES {} "
    "ON CONFLICT (subject) DO NOTHING RETURNING subject, wrapped"
)


_KEY_SQLITE = "SELECT wrapped FROM data_keys WHERE subject = ?"
_INSERT_PG = (
    "INSERT INTO data_keys (subject, wrapped, created_at) "
    "SELECT * FROM unnest($1::text[], $2::bytea[], $3::timestamptz[]) "
    "ON CONFLICT (subject) DO NOTHING RETURNING subject"
)
_FETCH_PG = "SELECT subject, wrapped FROM data_keys WHERE subject = ANY($1::text[])"
_FETCH_SQLITE = (
    "SELECT subject, wrapped FROM data_keys WHERE subject IN (SELECT value FROM json_each(?))"
)


def _bytes(value: object) -> bytes | None:
    return None if value is None else bytes(value)  # type: ignore[call-overload]


def _subjects(type_name: str, data: Mapping[str, Any]) -> set[str]:
    fields = PERSONAL_FIELDS.get(type_name)
    if fields is None:
        return set()
    return {
        str(data.get(subject)) for name, subject in fields.items() if data.get(name) is not None
    }
