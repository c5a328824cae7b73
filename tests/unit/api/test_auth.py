"""Bearer tokens and the rights of each role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api.auth import (
    Principal,
    Role,
    decode_token,
    mint_token,
    token_from_authorization,
    token_from_connection_params,
)
from api.errors import Unauthenticated

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
HOUR = timedelta(hours=1)


class OrgChart:
    def __init__(self, reports: dict[str, set[str]]) -> None:
        self.reports = reports

    async def reports_of(self, manager_id: str) -> set[str]:
        return self.reports.get(manager_id, set())


def test_a_minted_token_decodes_to_its_principal() -> None:
    token = mint_token(SECRET, Role.MANAGER, "person-9", HOUR)
    assert decode_token(SECRET, token) == Principal("person-9", Role.MANAGER)


def test_a_token_carries_sub_role_and_exp() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = mint_token(SECRET, "hr", "payroll-sync", HOUR, now=now)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["sub"] == "payroll-sync"
    assert claims["role"] == "hr"
    assert claims["exp"] == int((now + HOUR).timestamp())


def test_no_token_is_anonymous() -> None:
    assert decode_token(SECRET, None) is None
    assert decode_token(SECRET, "  ") is None


def test_an_expired_token_is_unauthenticated() -> None:
    token = mint_token(SECRET, Role.HR, "x", timedelta(minutes=-5))
    with pytest.raises(Unauthenticated, match="expired") as raised:
        decode_token(SECRET, token)
    assert raised.value.code == "UNAUTHENTICATED"


def test_a_token_signed_with_another_secret_is_unauthenticated() -> None:
    token = mint_token("another-secret-that-is-long-enough-for-hs256", Role.HR, "x", HOUR)
    with pytest.raises(Unauthenticated):
        decode_token(SECRET, token)


def test_a_token_with_the_none_algorithm_is_unauthenticated() -> None:
    exp = datetime.now(UTC) + HOUR
    token = jwt.encode({"sub": "x", "role": "hr", "exp": exp}, key=None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        decode_token(SECRET, token)


@pytest.mark.parametrize(
    "claims",
    [{"role": "hr"}, {"sub": "x"}, {"sub": "x", "role": "ceo"}, {"sub": "", "role": "hr"}],
    ids=["no-sub", "no-role", "unknown-role", "empty-sub"],
)
def test_a_token_with_bad_claims_is_unauthenticated(claims: dict[str, str]) -> None:
    token = jwt.encode({**claims, "exp": datetime.now(UTC) + HOUR}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        decode_token(SECRET, token)


def test_a_token_without_exp_is_unauthenticated() -> None:
    token = jwt.encode({"sub": "x", "role": "hr"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        decode_token(SECRET, token)


def test_minting_refuses_an_unknown_role_or_empty_subject() -> None:
    with pytest.raises(ValueError, match="ceo"):
        mint_token(SECRET, "ceo", "x", HOUR)
    with pytest.raises(ValueError, match="subject"):
        mint_token(SECRET, Role.HR, "", HOUR)


@pytest.mark.parametrize(
    ("role", "write", "everything", "audit"),
    [
        (Role.EMPLOYEE, False, False, False),
        (Role.MANAGER, False, False, False),
        (Role.HR, True, True, True),
        (Role.AUDITOR, False, True, True),
    ],
)
def test_each_role_has_its_rights(role: Role, write: bool, everything: bool, audit: bool) -> None:
    principal = Principal("p", role)
    assert (principal.can_write, principal.can_read_everything, principal.can_read_audit) == (
        write,
        everything,
        audit,
    )


async def test_an_employee_reads_only_themselves() -> None:
    employee = Principal("p1", Role.EMPLOYEE)
    chart = OrgChart({"p1": {"p2"}})
    assert await employee.can_read_person("p1", chart)
    assert not await employee.can_read_person("p2", chart)


async def test_a_manager_reads_themselves_and_their_reports() -> None:
    manager = Principal("m", Role.MANAGER)
    chart = OrgChart({"m": {"direct", "indirect"}})
    assert await manager.can_read_person("m", chart)
    assert await manager.can_read_person("indirect", chart)
    assert not await manager.can_read_person("stranger", chart)


async def test_hr_and_auditors_read_everyone() -> None:
    chart = OrgChart({})
    assert await Principal("h", Role.HR).can_read_person("anyone", chart)
    assert await Principal("a", Role.AUDITOR).can_read_person("anyone", chart)


def test_the_authorization_header_needs_the_bearer_scheme() -> None:
    assert token_from_authorization(None) is None
    assert token_from_authorization("Bearer abc") == "abc"
    assert token_from_authorization("bearer  abc ") == "abc"
    for bad in ("Basic abc", "Bearer", "abc"):
        with pytest.raises(Unauthenticated):
            token_from_authorization(bad)


def test_connection_init_takes_authorization_or_token() -> None:
    assert token_from_connection_params({"authorization": "Bearer abc"}) == "abc"
    assert token_from_connection_params({"Authorization": "Bearer abc"}) == "abc"
    assert token_from_connection_params({"token": "abc"}) == "abc"
    assert token_from_connection_params({}) is None
    assert token_from_connection_params(None) is None
    with pytest.raises(Unauthenticated):
        token_from_connection_params({"token": 42})


def test_a_principal_knows_when_its_token_expires() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = mint_token(SECRET, Role.HR, "hr-1", HOUR, now=datetime.now(UTC))
    principal = decode_token(SECRET, token)
    assert principal is not None and principal.expires_at is not None
    assert principal.expires_at - datetime.now(UTC) <= HOUR
    assert principal.expires_at > now
