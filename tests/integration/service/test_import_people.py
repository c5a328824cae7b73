"""Bulk onboarding (``events.onboarding``) on both backends: every bad row reported with
its line, column and code and nothing written; a clean file hired in one append with
managers first; the same file again writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4, uuid5

import pytest

from domain import commands as c
from domain.onboarding import PEOPLE_NAMESPACE
from events.bootstrap import Runtime, bootstrap
from events.onboarding import import_people
from events.port import Metadata
from events.readmodels import api_queries

TODAY = date(2026, 6, 1)
HEADER = "name,email,track,level,hired_on,prior_years,manager_email,experience_exception\n"
CLEAN = HEADER + (
    "Rae Report,rae@example.com,product,apm,2024-02-01,0,mia@example.com,\n"
    "Mia Manager,mia@example.com,product,group_pm,2023-01-01,9,vp@example.com,\n"
    "Sam Senior,sam@example.com,product,senior_pm,2023-05-01,1,mia@example.com,Ran a product\n"
)


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    rt = await bootstrap(db_url, today=lambda: TODAY, listen=False)
    try:
        await rt.service.execute(
            c.HirePerson(uuid4(), "Vic", "VP@example.com", "product", "vp_product",
                         date(2020, 1, 6), prior_years=15),
            metadata=Metadata(actor_id="hr-1", actor_role="hr"),
        )  # fmt: skip
        yield rt
    finally:
        await rt.close()


async def test_a_clean_file_hires_everyone_managers_first_once(runtime: Runtime) -> None:
    before = await runtime.store.last_position()
    report = await import_people(runtime.service, CLEAN, actor="hr-1")
    assert (report.rows, report.errors, report.hired, report.replayed) == (3, (), 3, False)
    hired = await runtime.store.read_all(before, limit=100)
    assert [r.data["email"] for r in hired] == [
        "mia@example.com",
        "rae@example.com",
        "sam@example.com",
    ]
    assert {r.metadata["actor_id"] for r in hired} == {"hr-1"}
    people = await api_queries.people_by_ids(
        runtime.engine, [r.stream.removeprefix("person-") for r in hired], today=TODAY
    )
    assert sorted(p.name for p in people.values()) == ["Mia Manager", "Rae Report", "Sam Senior"]
    after = await runtime.store.last_position()
    again = await import_people(runtime.service, CLEAN, actor="hr-1")
    assert (again.replayed, again.hired, again.position) == (True, 0, after)
    assert await runtime.store.last_position() == after


async def test_a_dry_run_judges_every_row_and_writes_nothing(runtime: Runtime) -> None:
    before = await runtime.store.last_position()
    report = await import_people(runtime.service, CLEAN, actor="hr-1", dry_run=True)
    assert (report.rows, report.errors, report.hired) == (3, (), 0)
    assert await runtime.store.last_position() == before


async def test_every_bad_row_is_reported_and_nothing_is_written(runtime: Runtime) -> None:
    text = HEADER + (
        "Rae Report,rae@example.com,product,wizard,2024-02-01,0,,\n"
        "Mia Manager,mia@example.com,product,group_pm,2023-13-01,9,,\n"
        "Sam Senior,sam@example.com,product,senior_pm,2023-05-01,1,,\n"
        "Ok Person,ok@example.com,product,apm,2023-05-01,0,,\n"
        "Cy,cy@example.com,product,apm,2023-05-01,0,nobody@example.com,\n"
        "Vic Again,vp@example.com,product,apm,2023-05-01,0,,\n"
        "Early,early@example.com,product,apm,2019-05-01,0,vp@example.com,\n"
    )
    before = await runtime.store.last_position()
    report = await import_people(runtime.service, text, actor="hr-1")
    found = [(e.line, e.column, e.code) for e in report.errors]
    assert found == [
        (2, "level", "UNKNOWN_LEVEL"),
        (3, "hired_on", "VALIDATION_ERROR"),
        (4, "experience_exception", "INSUFFICIENT_EXPERIENCE"),
        (6, "manager_email", "MANAGER_NOT_FOUND"),
        (7, "email", "EMAIL_ALREADY_USED"),
        (8, "manager_email", "MANAGER_NOT_EMPLOYED"),
    ]
    assert report.hired == 0
    assert await runtime.store.last_position() == before


async def test_a_person_id_is_derived_from_the_email_unless_given(runtime: Runtime) -> None:
    given = "6f1c2a9e-0c4e-4d8e-9a63-1f2b3c4d5e6f"
    text = (
        "name,email,track,level,hired_on,person_id\n"
        f"Ada,ada@example.com,product,apm,2024-02-01,{given}\n"
        "Bob,Bob@Example.com,product,apm,2024-02-01,\n"
    )
    await import_people(runtime.service, text, actor="hr-1")
    found = await api_queries.people_by_ids(
        runtime.engine, [given, str(uuid5(PEOPLE_NAMESPACE, "bob@example.com"))], today=TODAY
    )
    assert sorted(p.name for p in found.values()) == ["Ada", "Bob"]
    assert UUID(given)
