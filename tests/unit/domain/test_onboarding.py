"""Bulk onboarding, pure: given rows (and the people already hired) -> the hires in
manager-first order, or one error per bad row."""

from __future__ import annotations

from datetime import date
from uuid import uuid4, uuid5

from domain.checks import DecisionContext
from domain.ladder import default_ladder
from domain.onboarding import PEOPLE_NAMESPACE, Plan, digest, plan_onboarding, read_rows

from .helpers import given, hired

CTX = DecisionContext(today=date(2026, 6, 1), ladders={"product": default_ladder()})
HEADER = "name,email,track,level,hired_on,prior_years,manager_email\n"


def judged(body: str) -> Plan:
    rows, problems = read_rows(HEADER + body)
    assert problems == []
    return plan_onboarding(rows, CTX, known_emails={}, known={})


def test_reports_listed_before_their_manager_are_hired_after_them() -> None:
    plan = judged(
        "Rae,rae@x.com,product,apm,2024-02-01,0,mia@x.com\n"
        "Mia,mia@x.com,product,group_pm,2023-01-01,9,vic@x.com\n"
        "Vic,vic@x.com,product,vp_product,2020-01-01,15,\n"
    )
    assert plan.errors == ()
    assert [h.command.name for h in plan.hires] == ["Vic", "Mia", "Rae"]
    assert plan.hires[0].command.person_id == uuid5(PEOPLE_NAMESPACE, "vic@x.com")


def test_a_cycle_of_managers_in_the_file_is_refused_on_each_row() -> None:
    plan = judged(
        "Ann,ann@x.com,product,pm,2023-01-01,3,bea@x.com\n"
        "Bea,bea@x.com,product,pm,2023-01-01,3,ann@x.com\n"
    )
    assert plan.hires == ()
    assert [(e.line, e.column, e.code) for e in plan.errors] == [
        (2, "manager_email", "MANAGER_CYCLE"),
        (3, "manager_email", "MANAGER_CYCLE"),
    ]


def test_a_long_chain_listed_bottom_up_is_hired_top_down() -> None:
    body = "".join(
        f"P{i},p{i}@x.com,product,apm,2024-02-01,0,{f'p{i + 1}@x.com' if i < 199 else ''}\n"
        for i in range(200)
    )
    plan = judged(body)
    assert plan.errors == ()
    assert [h.command.name for h in plan.hires] == [f"P{i}" for i in range(199, -1, -1)]


def test_a_report_of_a_refused_manager_is_refused_too() -> None:
    plan = judged(
        "Mia,mia@x.com,product,nope,2023-01-01,9,\n"
        "Rae,rae@x.com,product,apm,2024-02-01,0,mia@x.com\n"
    )
    assert [(e.line, e.code) for e in plan.errors] == [
        (2, "UNKNOWN_LEVEL"),
        (3, "MANAGER_NOT_FOUND"),
    ]


def test_a_manager_already_hired_is_judged_with_their_state() -> None:
    boss = uuid4()
    state = given(hired(boss, on=date(2024, 6, 1), level="group_pm", prior_years=9))
    rows, _ = read_rows(
        HEADER
        + "Rae,rae@x.com,product,apm,2024-02-01,0,boss@x.com\n"
        + "Sam,sam@x.com,product,apm,2024-07-01,0,boss@x.com\n"
    )
    plan = plan_onboarding(rows, CTX, known_emails={"boss@x.com": boss}, known={boss: state})
    assert [(e.line, e.code) for e in plan.errors] == [(2, "MANAGER_NOT_EMPLOYED")]
    assert [h.command.manager_id for h in plan.hires] == [boss]


def test_a_header_without_required_columns_is_refused_before_any_row() -> None:
    rows, problems = read_rows("name,email,level,shoe_size\nAda,ada@x.com,apm,38\n")
    assert rows == []
    assert [(p.line, p.column, p.code) for p in problems] == [
        (1, "track", "VALIDATION_ERROR"),
        (1, "hired_on", "VALIDATION_ERROR"),
        (1, "shoe_size", "VALIDATION_ERROR"),
    ]


def test_the_same_rows_give_the_same_digest_and_blank_lines_do_not_count() -> None:
    one, _ = read_rows(HEADER + "Ada,ada@x.com,product,apm,2024-02-01,0,\n")
    two, _ = read_rows(HEADER + "\nAda,ada@x.com,product,apm,2024-02-01,0,\n\n")
    assert digest(one) == digest(two)
    assert two[0].line == 3
