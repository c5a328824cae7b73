"""Assemble the Strawberry schema from the per-type modules.

To add root fields, define a ``@strawberry.type`` class in the type's module under
``api/types/`` and add it to ``QUERY_TYPES``, ``MUTATION_TYPES`` or ``SUBSCRIPTION_TYPES``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.errors import ErrorShaping
from api.limits import LimitsExtension, RequestLimits
from api.settings import Settings
from api.types.audit import AuditQuery
from api.types.career import CareerQuery
from api.types.census import CensusQuery
from api.types.exceptions import ExceptionsQuery
from api.types.ladder import LadderQuery
from api.types.mentorship import MentorshipQuery
from api.types.mutations import MUTATIONS
from api.types.node import NodeQuery
from api.types.person import PersonQuery
from api.types.proofs import ProofQuery
from api.types.readiness import ReadinessQuery
from api.types.rotation import RotationQuery
from api.types.stats import StatsQuery
from api.types.subscriptions import CareerSubscription
from api.types.viewer import ViewerQuery

logger = logging.getLogger("api.schema")

QUERY_TYPES: tuple[type, ...] = (
    NodeQuery,
    ViewerQuery,
    LadderQuery,
    PersonQuery,
    CareerQuery,
    AuditQuery,
    ProofQuery,
    MentorshipQuery,
    RotationQuery,
    CensusQuery,
    StatsQuery,
    ReadinessQuery,
    ExceptionsQuery,
)
MUTATION_TYPES: tuple[type, ...] = (*MUTATIONS,)
SUBSCRIPTION_TYPES: tuple[type, ...] = (CareerSubscription,)
# Types no root field reaches directly (e.g. Node implementations only ``node(id)`` returns).
EXTRA_TYPES: tuple[type, ...] = ()


class LadderSchema(strawberry.Schema):
    """``strawberry.Schema`` that leaves error logging to ``api.errors.ErrorShaping``.

    The default ``process_errors`` logs every error (validation errors included) at ERROR
    with a traceback; ours logs unexpected ones, once, with the id the client sees.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            logger.debug("graphql error: %s", error.message)


def _root(name: str, types: Sequence[type]) -> type | None:
    return merge_types(name, tuple(types)) if types else None


def build_schema(
    settings: Settings,
    *,
    extra_queries: Sequence[type] = (),
    extra_mutations: Sequence[type] = (),
    extra_subscriptions: Sequence[type] = (),
) -> LadderSchema:
    """The API schema with the limits of ``settings``.

    ``extra_*`` add root-field classes (tests use them for probe fields; production code
    adds its classes to the tuples above instead).
    """
    limits = RequestLimits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        introspection=settings.introspection_enabled,
        suggestions=settings.field_suggestions_enabled,
        parser_cache_size=settings.parser_cache_size,
        validation_cache_size=settings.validation_cache_size,
    )
    suggestions = settings.field_suggestions_enabled

    def limits_extension() -> SchemaExtension:
        return LimitsExtension(limits)

    def error_shaping() -> SchemaExtension:
        return ErrorShaping(suggestions=suggestions)

    query = _root("Query", (*QUERY_TYPES, *extra_queries))
    if query is None:  # pragma: no cover - QUERY_TYPES is never empty
        raise RuntimeError("the schema needs at least one query type")
    return LadderSchema(
        query=query,
        mutation=_root("Mutation", (*MUTATION_TYPES, *extra_mutations)),
        subscription=_root("Subscription", (*SUBSCRIPTION_TYPES, *extra_subscriptions)),
        types=EXTRA_TYPES,
        extensions=[limits_extension, error_shaping],
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )
