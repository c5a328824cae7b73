"""Planned execution (``api.plans``) answers exactly as graphql-core does.

Each test runs one document on two copies of one small schema: one executes with
graphql-core's executor, the other with :class:`PlannedQueryExecutor`, and compares the
whole responses (data, and errors with their paths), key order included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import strawberry
from graphql import parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api import plans
from api.plans import PlannedQueryExecutor, Plans, plan_operation

CALLS: list[str] = []
BATCHES: list[int] = []


class _Batcher:
    """Counts how many loads are pending when the loop next runs (a DataLoader's batch)."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[str]] = []

    async def load(self, key: str) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_soon(self._dispatch)
        return await future

    def _dispatch(self) -> None:
        batch, self.pending = self.pending, []
        BATCHES.append(len(batch))
        for future in batch:
            future.set_result("loaded")


@strawberry.type
class Level:
    title: str
    rank: int | None


@strawberry.type
class Person:
    name: str
    tags: list[str]
    nickname: str | None
    _rank: strawberry.Private[int]

    @strawberry.field
    def level(self) -> Level | None:
        CALLS.append("level")
        return None if self._rank < 0 else Level(title=f"L{self._rank}", rank=self._rank)

    @strawberry.field
    async def loaded(self, info: strawberry.Info) -> str:
        batcher: _Batcher = info.context["batcher"]
        return await batcher.load(self.name)

    @strawberry.field
    def shout(self, suffix: str = "!") -> str:
        return self.name.upper() + suffix

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("broken on purpose")

    @strawberry.field
    def letters(self) -> list[str]:
        def spelled() -> Iterator[str]:
            yield from self.name[:1]
            raise ValueError("ran out of letters")

        return spelled()  # type: ignore[return-value]  # fails while it is read

    @strawberry.field
    def missing(self) -> str:
        return None  # type: ignore[return-value]  # a non-null field answering null


def _people(count: int) -> list[Person]:
    return [
        Person(name=f"p{i}", tags=[f"t{i}", "x"], nickname=None if i % 2 else f"n{i}", _rank=i - 1)
        for i in range(count)
    ]


@strawberry.type
class Query:
    @strawberry.field
    async def people(self, first: int = 3) -> list[Person]:
        return _people(first)

    @strawberry.field
    def person(self, name: str) -> Person | None:
        return next((p for p in _people(5) if p.name == name), None)

    @strawberry.field
    def count(self) -> int:
        return 5


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        return 1


@pytest.fixture(autouse=True, params=[False, True], ids=["plan", "plan-verified"])
def verify_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test with the plan alone, and checked against graphql-core as the suite does."""
    monkeypatch.setattr(plans, "VERIFY_PLANS", request.param)


def _schema(planned: bool) -> strawberry.Schema:
    executor = PlannedQueryExecutor if planned else StrawberryGraphQLCoreExecutionContext
    return strawberry.Schema(Query, mutation=Mutation, execution_context_class=executor)


PLANNED, REFERENCE = _schema(True), _schema(False)


async def _both(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answers = []
    for schema in (PLANNED, REFERENCE):
        result = await schema.execute(
            document, variable_values=variables, context_value={"batcher": _Batcher()}
        )
        errors = [{"message": e.message, "path": e.path} for e in result.errors or ()]
        answers.append(orjson.dumps({"data": result.data, "errors": errors}))
    planned, reference = answers
    assert planned == reference
    decoded: dict[str, Any] = orjson.loads(planned)
    return decoded


def _planned(document: str) -> bool:
    parsed = parse(document)
    operation = parsed.definitions[-1]
    fragments = {d.name.value: d for d in parsed.definitions[:-1]}  # type: ignore[attr-defined]
    return plan_operation(PLANNED._schema, operation, fragments) is not None  # type: ignore[arg-type]


async def test_a_nested_selection_with_aliases_fragments_and_typenames_answers_the_same() -> None:
    document = """
      fragment Who on Person { name who: name tags nickname }
      query { count people(first: 4) { __typename ...Who level { title rank }
                                       ... on Person { shout(suffix: "?") } }
              one: person(name: "p2") { name level { title } } }
    """
    assert _planned(document)
    answer = await _both(document)
    assert answer["data"]["people"][1]["shout"] == "P1?"
    assert answer["data"]["people"][0]["level"] is None  # a nullable object answering null
    assert list(answer["data"]["people"][0]) == [
        "__typename",
        "name",
        "who",
        "tags",
        "nickname",
        "level",
        "shout",
    ]


async def test_arguments_come_from_variables() -> None:
    document = "query($n: Int!, $s: String!) { people(first: $n) { shout(suffix: $s) } }"
    answer = await _both(document, {"n": 2, "s": "~"})
    assert answer["data"]["people"] == [{"shout": "P0~"}, {"shout": "P1~"}]


async def test_async_fields_of_a_list_are_loaded_in_one_batch() -> None:
    BATCHES.clear()
    await PLANNED.execute("{ people(first: 6) { loaded } }", context_value={"batcher": _Batcher()})
    assert BATCHES in ([6], [6, 6])  # verified: graphql-core's batch, then the plan's


async def test_a_resolver_that_raises_gets_graphql_cores_error_and_partial_data() -> None:
    answer = await _both("{ count people(first: 2) { name broken } }")
    assert answer["data"] is None  # non-null ``broken`` nulls up to the nullable root
    assert answer["errors"][0]["path"] == ["people", 0, "broken"]


async def test_null_for_a_non_null_field_gets_graphql_cores_error() -> None:
    answer = await _both('{ person(name: "p1") { name missing } count }')
    assert answer["data"] == {"person": None, "count": 5}
    assert answer["errors"][0]["path"] == ["person", "missing"]


async def test_a_list_that_fails_while_it_is_read_gets_graphql_cores_error() -> None:
    answer = await _both('{ person(name: "p3") { name letters } }')
    assert answer["data"] == {"person": None}
    assert answer["errors"][0]["path"] == ["person", "letters"]


async def test_a_missing_object_is_null() -> None:
    answer = await _both('{ person(name: "nobody") { name } }')
    assert answer["data"] == {"person": None}


def test_directives_introspection_and_mutations_are_left_to_graphql_core() -> None:
    assert not _planned("query($x: Boolean!) { count @include(if: $x) }")
    assert not _planned("{ __schema { queryType { name } } }")
    assert not _planned("mutation { touch }")
    assert not _planned("{ count count }")  # one key twice: graphql-core merges it
    assert _planned("{ count }")


@pytest.mark.parametrize(
    "document",
    [
        "query($x: Boolean!) { count @include(if: $x) people { name } }",
        "{ __typename count }",
        "{ count count }",
    ],
)
async def test_documents_without_a_plan_answer_as_before(document: str) -> None:
    await _both(document, {"x": True})


def test_plans_are_kept_per_operation_and_bounded() -> None:
    plans = Plans(kept=2)
    documents = [parse("{ count }"), parse("{ people { name } }"), parse("{ count }")]
    found = [plans.get(PLANNED._schema, d.definitions[0], {}) for d in documents]  # type: ignore[arg-type]
    assert all(p is not None for p in found)
    again = plans.get(PLANNED._schema, documents[2].definitions[0], {})  # type: ignore[arg-type]
    assert again is found[2]
    assert len(plans._plans) == 2
