"""Assemble the Strawberry schema from the per-type modules.

To add root fields, define a ``@strawberry.type`` class in the type's module under
``api/types/`` and add it to ``QUERY_TYPES``, ``MUTATION_TYPES`` or ``SUBSCRIPTION_TYPES``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.scalar import ScalarDefinition

from api import mutation_calls
from api.documents import TrustedDocuments, TrustedDocumentsExtension
from api.errors import ErrorShaping
from api.limits import LimitsExtension, RequestLimits
from api.moments import DATETIME_DESCRIPTION, parse_moment
from api.observe import OperationObserver
from api.plans import PlannedQueryExecutor
from api.settings import Settings
from api.types.audit import AuditQuery
from api.types.career import CareerQuery
from api.types.case_subscriptions import PromotionCaseSubscription
from api.types.census import CensusQuery
from api.types.exceptions import ExceptionsQuery
from api.types.ladder import LadderQuery
from api.types.log import LogQuery
from api.types.mentorship import MentorshipQuery
from api.types.mutations import MUTATIONS
from api.types.node import NodeQuery
from api.types.person import PersonQuery
from api.types.promotion_case import PromotionCaseQuery
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
    LogQuery,
    PromotionCaseQuery,
)
MUTATION_TYPES: tuple[type, ...] = (*MUTATIONS,)
SUBSCRIPTION_TYPES: tuple[type, ...] = (CareerSubscription, PromotionCaseSubscription)
# Types no root field reaches directly (e.g. Node implementations only ``node(id)`` returns).
EXTRA_TYPES: tuple[type, ...] = ()


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(
            f'Value cannot represent a DateTime: "{value}". Expected a string.'
        )
    try:
        return parse_moment(value)
    except ValueError:
        raise StrawberryInputCoercionError(
            f'Value cannot represent a DateTime: "{value}".'
        ) from None


DATETIME = ScalarDefinition(
    name="DateTime",
    description=DATETIME_DESCRIPTION,
    specified_by_url=None,
    serialize=datetime.isoformat,
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=datetime,
)
"""``DateTime`` with ``api.moments``' meaning: the same as the CLI's (a bare date is the end
of that day in UTC)."""


class LadderSchema(strawberry.Schema):
    """``strawberry.Schema`` that leaves error logging to ``api.errors.ErrorShaping``.

    The default ``process_errors`` logs every error (validation errors included) at ERROR
    with a traceback; ours logs unexpected ones, once, with the id the client sees.
    """

    limits: RequestLimits | None = None
    """The schema's request limits, with the parse cache the HTTP view shares."""

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
    documents: TrustedDocuments | None = None,
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
        max_cost=settings.max_cost,
        default_page=settings.max_page_size,
    )
    suggestions = settings.field_suggestions_enabled

    def limits_extension() -> SchemaExtension:
        return LimitsExtension(limits)

    def error_shaping() -> SchemaExtension:
        return ErrorShaping(suggestions=suggestions)

    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        limits_extension,
        error_shaping,
        OperationObserver,
    ]
    if documents is not None and documents.only_trusted:
        trusted = documents

        def trusted_documents() -> SchemaExtension:
            return TrustedDocumentsExtension(trusted)

        extensions.append(trusted_documents)

    query = _root("Query", (*QUERY_TYPES, *extra_queries))
    if query is None:  # pragma: no cover - QUERY_TYPES is never empty
        raise RuntimeError("the schema needs at least one query type")
    schema = LadderSchema(
        query=query,
        mutation=_root("Mutation", (*MUTATION_TYPES, *extra_mutations)),
        subscription=_root("Subscription", (*SUBSCRIPTION_TYPES, *extra_subscriptions)),
        types=EXTRA_TYPES,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
        scalar_overrides={datetime: DATETIME},
        execution_context_class=PlannedQueryExecutor,
    )
    schema.limits = limits
    mutation_calls.install(schema)
    return schema
