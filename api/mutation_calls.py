"""Mutation resolvers called as Strawberry calls them, with converters made once per type.

Strawberry's wrapper converts a field's arguments on every call by walking their types:
for every field of an input object it resolves the field's annotation and converts its
name, which for a mutation's input was about a sixth of a served write's CPU. Here each
argument's conversion is worked out once, when the schema is built, for what our inputs
use — scalars and enums as given, lists, optional values, input objects built with
their defaults — with the same results (``tests/unit/api/test_mutation_calls.py`` holds
every mutation's conversion to Strawberry's own). A field whose arguments need anything
else (``Maybe``, ``GlobalID``, ``from_input``), or with field extensions (permissions
are extensions), or on a schema with exception handlers, keeps Strawberry's wrapper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from inspect import isawaitable, isfunction
from typing import Any

from graphql import GraphQLField, GraphQLResolveInfo
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _copied(value: Any) -> Any:
    # graphql-core hands the same default list to every request that omits the value.
    return value if value is None or value is UNSET else list(value)


class Converters:
    """Converters of one schema's argument types, made once per type."""

    def __init__(self, scalar_registry: Mapping[object, Any], config: Any) -> None:
        self.scalar_registry = scalar_registry
        self.config = config
        self._made: dict[int, tuple[Any, Convert | None]] = {}
        self._making: set[int] = set()

    def _leaf(self, type_: Any) -> bool:
        if type_ is GlobalID:
            return False
        if is_scalar(type_, self.scalar_registry) or isinstance(type_, StrawberryEnumDefinition):
            return True
        return isinstance(type_, LazyType) and self._leaf(type_.resolve_type())

    def of(self, type_: Any) -> Convert | None:
        """The conversion of a value of ``type_``; ``None`` when only Strawberry's will do."""
        key = id(type_)
        if key in self._made:
            return self._made[key][1]
        if key in self._making:
            return None  # a recursive input type: Strawberry's
        self._making.add(key)
        try:
            made = self._make(type_)
        finally:
            self._making.discard(key)
        self._made[key] = (type_, made)  # the type is kept, so its id stays its own
        return made

    def _make(self, type_: Any) -> Convert | None:
        if isinstance(type_, StrawberryMaybe):
            return None
        if isinstance(type_, StrawberryOptional):
            return self.of(type_.of_type)
        if isinstance(type_, StrawberryList):
            item = type_.of_type
            if self._leaf(item) or (
                isinstance(item, StrawberryOptional) and self._leaf(item.of_type)
            ):
                return _copied
            convert = self.of(item)
            if convert is None:
                return None
            return lambda v: v if v is None or v is UNSET else [convert(x) for x in v]
        if type_ is GlobalID:
            return None
        if self._leaf(type_) or has_enum_definition(type_):
            return _same
        if isinstance(type_, LazyType):
            return self.of(type_.resolve_type())
        if has_object_definition(type_):
            return self._input(type_)
        return None

    def _input(self, type_: Any) -> Convert | None:
        definition = type_.__strawberry_definition__
        if not definition.is_input or definition.from_input is not None:
            return None
        defaults = {
            f.python_name: None
            for f in definition.fields
            if f.default_value is MISSING and f.default_factory is MISSING
        }
        fields: list[tuple[str, str, Convert]] = []
        for f in definition.fields:
            convert = self.of(f.resolve_type(type_definition=definition))
            if convert is None:
                return None
            fields.append((self.config.name_converter.from_field(f), f.python_name, convert))

        def build(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(defaults)
            for name, python_name, convert in fields:
                if name in value:
                    kwargs[python_name] = convert(value[name])
            return type_(**kwargs)

        return build

    def arguments(self, definition: Any) -> list[tuple[str, str, Convert]] | None:
        """``(GraphQL name, Python name, conversion)`` of each argument of a field."""
        found: list[tuple[str, str, Convert]] = []
        for argument in definition.arguments:
            convert = self.of(argument.type)
            if convert is None:
                return None
            name = self.config.name_converter.from_argument(argument)
            found.append((name, argument.python_name, convert))
        return found


def direct_resolver(
    field_def: GraphQLField, strawberry_schema: Any, converters: Converters
) -> Callable[..., Any] | None:
    """A resolver for ``field_def`` that calls its Strawberry resolver as Strawberry's async
    wrapper does, with the conversions made once; ``None`` when the wrapper must stay."""
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if definition is None or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None or not resolver.is_async:
        return None
    if strawberry_schema.schema_converter._exception_handler_specs:
        return None
    function = resolver.wrapped_func
    arguments = converters.arguments(definition)
    if not isfunction(function) or arguments is None:
        return None
    info_class = strawberry_schema.config.info_class
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    takes_self = resolver.self_parameter is not None

    async def resolve(source: Any, info: GraphQLResolveInfo[Any], **given: Any) -> Any:
        kwargs = {p: convert(given[g]) for g, p, convert in arguments if g in given}
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=definition)
        for name in sources:
            kwargs[name] = source
        result = function(source, **kwargs) if takes_self else function(**kwargs)
        return await result if isawaitable(result) else result

    return resolve


def install(strawberry_schema: Any) -> int:
    """Give each mutation field of the schema its direct resolver where it can have one;
    the number of fields that got one."""
    mutation = strawberry_schema._schema.mutation_type
    if mutation is None:
        return 0
    converters = Converters(
        strawberry_schema.schema_converter.scalar_registry, strawberry_schema.config
    )
    installed = 0
    for field_def in mutation.fields.values():
        resolve = direct_resolver(field_def, strawberry_schema, converters)
        if resolve is not None:
            field_def.resolve = resolve
            installed += 1
    return installed
