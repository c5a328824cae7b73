"""The Merkle tree over the log: ``merkle_nodes``, backfilled for an existing log.

Every complete subtree of the RFC 6962 tree whose leaves are the events in position
order (see ``events.merkle`` and ``events.tree``). An existing log gets its whole tree
here, in the migration's transaction; the per-stream hash chain is left exactly as
it was, so old exports and old ``hash`` values still verify. Like the events table,
the nodes are append-only (triggers refuse UPDATE and DELETE).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from events.tree import backfill

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,  # one B-tree insert per node, not a table row and an index entry
    )
    backfill(op.get_bind())
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER merkle_nodes_no_update_delete BEFORE UPDATE OR DELETE "
            "ON merkle_nodes FOR EACH ROW EXECUTE FUNCTION events_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER merkle_nodes_no_{verb.lower()} BEFORE {verb} ON merkle_nodes "
                f"BEGIN SELECT RAISE(ABORT, 'APPEND_ONLY: {verb} on merkle_nodes is not "
                "allowed'); END"
            )


def downgrade() -> None:
    op.drop_table("merkle_nodes")
