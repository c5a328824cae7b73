"""Per-person data keys for personal data (``events.sealing``): ``data_keys``.

Each row holds one data subject's AES-256 key wrapped by the master key; an erasure sets
``wrapped`` to NULL (a tombstone). Unlike the log, rows are updated (that is the point).
Events recorded before this revision keep their plaintext; ``ladder reseal`` copies such
a log into a new, sealed one (docs/audit.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("data_keys")
