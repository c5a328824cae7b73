"""The log's tables, shaped like message-db's ``messages`` table.

``position`` is handed out by the store under its append lock (``max + 1``), never by a
sequence, so positions are gap-free and in commit order. ``data`` and ``metadata`` are
JSON text: stored verbatim, so the hash recomputed on verify sees exactly what was written.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class EventRow(SQLModel, table=True):
    """One recorded event. Rows are never updated or deleted.

    The columns, in order, are ``events.rows.EVENT_COLUMNS`` (the statements, row tuples
    and decoders derive from that; a test holds this table to it)."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("stream", "version", name="uq_events_stream_version"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.Index("ix_events_type_position", "type", "position"),
        sa.Index("ix_events_recorded_at", "recorded_at"),
    )

    position: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    stream: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    version: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    event_id: UUID = Field(sa_column=sa.Column(sa.Uuid, nullable=False))
    type: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    schema_version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    data: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # ``metadata`` is reserved on declarative classes; the column keeps the name.
    meta: str = Field(sa_column=sa.Column("metadata", sa.Text, nullable=False))
    recorded_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    prev_hash: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))


class IdempotencyKeyRow(SQLModel, table=True):
    """An idempotency key and the positions its append wrote (a JSON array)."""

    __tablename__ = "idempotency_keys"

    key: str = Field(sa_column=sa.Column(sa.String(255), primary_key=True))
    positions: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    recorded_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class MerkleNodeRow(SQLModel, table=True):
    """A complete subtree of the log's Merkle tree (``events.merkle``): the hash of
    leaves ``[idx << level, (idx + 1) << level)``; level 0 holds the leaf hashes.

    Written in the append's transaction, never updated or deleted.
    """

    __tablename__ = "merkle_nodes"
    __table_args__ = {"sqlite_with_rowid": False}

    level: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))


class DataKeyRow(SQLModel, table=True):
    """A data subject's key for their personal data (``events.sealing``), wrapped by the
    master key. Erasure sets ``wrapped`` to NULL and ``erased_at``: the row stays as a
    tombstone, so nothing personal is sealed for that subject again."""

    __tablename__ = "data_keys"

    subject: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    wrapped: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    erased_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True))
    )


events_table = cast(sa.Table, getattr(EventRow, "__table__"))  # noqa: B009
idempotency_table = cast(sa.Table, getattr(IdempotencyKeyRow, "__table__"))  # noqa: B009
merkle_table = cast(sa.Table, getattr(MerkleNodeRow, "__table__"))  # noqa: B009
data_keys_table = cast(sa.Table, getattr(DataKeyRow, "__table__"))  # noqa: B009
