"""Read-model tables (``rm_*``) and the projection checkpoints.

Derived data: created with ``METADATA.create_all`` by the projector on start, never
migrated by Alembic, and rebuilt from the log when a projection's version changes.

They are SQLAlchemy Core tables rather than SQLModel classes: rows travel as plain dicts
(projection handlers) and leave as frozen dataclasses (queries), so ORM classes would be
unused weight on the bulk paths; a metadata of their own also keeps ``create_all`` away
from the Alembic-managed log tables in ``SQLModel.metadata``.

Ids are stored as 36-character strings so both backends compare and sort them the same.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

METADATA = sa.MetaData()


class Json(sa.TypeDecorator[Any]):
    """JSON kept as text and coded with orjson: the same on both backends, and fast on
    rebuilds (read models never query inside it)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


_ID = sa.String(36)

checkpoints = sa.Table(
    "projection_checkpoints",
    METADATA,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("applied_count", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)
"""Per projection: the code version it was built with, the log position it reached and
how many events it has applied (the consistency check compares that with the log)."""

people = sa.Table(
    "rm_people",
    METADATA,
    sa.Column("person_id", _ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("track", sa.String(64), nullable=False),
    sa.Column("level", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("manager_id", _ID),
    sa.Column("hired_on", sa.Date, nullable=False),
    sa.Column("departed_on", sa.Date),
    sa.Column("prior_years", sa.Float, nullable=False),
    # Years of experience = experience_years + (day - experience_since) while active.
    sa.Column("experience_years", sa.Float, nullable=False),
    sa.Column("experience_since", sa.Date),
    sa.Column("level_since", sa.Date, nullable=False),
    # The latest effective date among the facts: after it, the row is the career of any day.
    sa.Column("latest_effective_on", sa.Date, nullable=False),
    sa.Column("rotation_id", _ID),
    sa.Column("rotation_team", sa.String(200)),
    sa.Column("rotation_ends_on", sa.Date),
    sa.Column("active_mentees", sa.Integer, nullable=False),
    sa.Column("mentorship_done", sa.Boolean, nullable=False),
    sa.Column("rotation_done", sa.Boolean, nullable=False),
    sa.Column("training_done", sa.Boolean, nullable=False),
    # Development areas of the trainings and rotations completed at the current level.
    sa.Column("areas_done", Json, nullable=False),
    sa.Column("last_position", sa.BigInteger, nullable=False),
    # The person's events as recorded ([type, data, event_id] each): corrections and
    # rescinds re-fold them with the domain's evolve.
    sa.Column("facts", Json, nullable=False),
    # Their personal data was erased (``PersonalDataErased``): name and email read "".
    sa.Column("erased", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_rm_people_name", "name", "person_id"),
    sa.Index("ix_rm_people_manager", "manager_id"),
    sa.Index("ix_rm_people_track_level", "track", "level"),
)

# Emails are unique without case (a hire checks): found by ``lower(email)``.
sa.Index("ix_rm_people_email_lower", sa.func.lower(people.c.email))

timeline = sa.Table(
    "rm_timeline",
    METADATA,
    sa.Column("event_id", _ID, primary_key=True),
    sa.Column("person_id", _ID, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("stream_version", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(200)),
    sa.Column("track", sa.String(64)),
    sa.Column("from_level", sa.String(64)),
    sa.Column("level", sa.String(64)),
    sa.Column("experience_exception", sa.Text),
    sa.Column("data", Json, nullable=False),
    sa.Column("original_data", Json),
    sa.Column("corrections", Json, nullable=False),
    sa.Column("corrected_by", _ID),
    sa.Column("corrected_position", sa.BigInteger),
    sa.Column("rescinded_by", _ID),
    sa.Column("rescinded_position", sa.BigInteger),
    sa.Column("rescind_reason", sa.Text),
    sa.Index("ix_rm_timeline_person", "person_id", "effective_on", "position"),
    sa.Index("ix_rm_timeline_type", "type", "effective_on"),
)

mentorships = sa.Table(
    "rm_mentorships",
    METADATA,
    sa.Column("mentorship_id", _ID, primary_key=True),
    sa.Column("mentor_id", _ID, nullable=False),
    sa.Column("mentee_id", _ID, nullable=False),
    sa.Column("goals", Json, nullable=False),
    sa.Column("reverse", sa.Boolean, nullable=False),
    sa.Column("started_on", sa.Date, nullable=False),
    sa.Column("ended_on", sa.Date),
    sa.Column("outcome", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Index("ix_rm_mentorships_mentor", "mentor_id", "active"),
    sa.Index("ix_rm_mentorships_mentee", "mentee_id", "active"),
    sa.Index("ix_rm_mentorships_started", "started_on", "mentorship_id"),
)

rotations = sa.Table(
    "rm_rotations",
    METADATA,
    sa.Column("rotation_id", _ID, primary_key=True),
    sa.Column("person_id", _ID, nullable=False),
    sa.Column("host_team", sa.String(200), nullable=False),
    sa.Column("development_area", sa.String(64), nullable=False),
    sa.Column("started_on", sa.Date, nullable=False),
    sa.Column("planned_end_on", sa.Date, nullable=False),
    sa.Column("ended_on", sa.Date),
    sa.Column("outcome", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("start_event_id", _ID, nullable=False),
    sa.Column("end_event_id", _ID),
    sa.Column("position", sa.BigInteger, nullable=False),
    # The rotation's start and end as recorded and every fix of them ([type, data,
    # event_id] each): the row is folded again from them by the domain, so a withdrawn
    # fix or an undone rescission restores it. ``void``: its start is rescinded (the
    # rotation never happened; kept so that an undone rescission can bring it back).
    sa.Column("facts", Json, nullable=False),
    sa.Column("void", sa.Boolean, nullable=False),
    sa.Index("ix_rm_rotations_person", "person_id", "started_on"),
    sa.Index("ix_rm_rotations_active", "active", "planned_end_on"),
    sa.Index("ix_rm_rotations_start_event", "start_event_id"),
    sa.Index("ix_rm_rotations_end_event", "end_event_id"),
)

ladders = sa.Table(
    "rm_ladders",
    METADATA,
    sa.Column("ladder_key", sa.String(80), primary_key=True),
    sa.Column("track", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("ladder", Json, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
)

dead_letters = sa.Table(
    "projection_dead_letters",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("projection", sa.String(100), nullable=False),
    sa.Column("position", sa.BigInteger),
    sa.Column("event_id", _ID),
    sa.Column("event_type", sa.String(100)),
    sa.Column("row_key", sa.String(200)),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_projection_dead_letters_projection", "projection", "position"),
)
"""Events (or, in a rebuild, rows) a projection could not apply or store: the projection
skipped them and is *degraded* until a rebuild with fixed code applies them. ``pending``
marks the ones a running rebuild found; its swap makes them current and drops the old."""
