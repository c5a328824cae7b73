"""Read-model tables of the promotion workflow (``rm_promotion_cases``,
``rm_promotion_cycles``), in the read models' metadata (``tables.METADATA``).

Reviewer ids are also kept as ``,id,id,`` text (``reviewers``) so "cases this person
reviews" is one portable ``LIKE`` on both backends; the JSON columns are never queried.
"""

from __future__ import annotations

import sqlalchemy as sa

from events.readmodels.tables import METADATA, Json

_ID = sa.String(36)

promotion_cases = sa.Table(
    "rm_promotion_cases",
    METADATA,
    sa.Column("case_id", _ID, primary_key=True),
    sa.Column("person_id", _ID, nullable=False),
    sa.Column("track", sa.String(64), nullable=False),
    sa.Column("from_level", sa.String(64), nullable=False),
    sa.Column("to_level", sa.String(64), nullable=False),
    sa.Column("ladder_version", sa.Integer, nullable=False),
    sa.Column("cycle_id", _ID),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("nominated_by", sa.String(200), nullable=False),
    sa.Column("nominated_on", sa.Date, nullable=False),
    sa.Column("evidence", Json, nullable=False),
    # Development area key -> the evidence texts, in the order given.
    sa.Column("reviews", Json, nullable=False),
    # Reviewer id -> {"recommendation", "comment"} (their latest review).
    sa.Column("reviewers", sa.Text, nullable=False),
    # Reviewer ids named on the case, as ``,id,id,`` (``,`` when none).
    sa.Column("effective_on", sa.Date),
    sa.Column("reason", sa.Text),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("promotion_event_id", _ID),
    sa.Column("nominated_position", sa.BigInteger, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Index("ix_rm_promotion_cases_order", "nominated_position", unique=True),
    sa.Index("ix_rm_promotion_cases_person", "person_id", "status"),
    sa.Index("ix_rm_promotion_cases_cycle", "cycle_id", "to_level"),
)

promotion_cycles = sa.Table(
    "rm_promotion_cycles",
    METADATA,
    sa.Column("cycle_id", _ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("closes_on", sa.Date, nullable=False),
    sa.Column("open", sa.Boolean, nullable=False),
    sa.Column("reviewers", sa.Text, nullable=False),
    # The cycle's reviewer ids as ``,id,id,`` (``,`` when none).
    sa.Column("opened_position", sa.BigInteger, nullable=False),
)
