"""The API's side of erasure: its reason codes and the master key setting."""

from __future__ import annotations

from api.settings import Settings
from api.types.mutations.erasure import ErasureReason
from domain.personal_data import ERASURE_REASONS


def test_the_api_offers_exactly_the_domain_erasure_reasons() -> None:
    assert {r.value for r in ErasureReason} == set(ERASURE_REASONS)


def test_production_without_a_master_key_is_refused_in_one_line() -> None:
    settings = Settings(_env_file=None, env="production", token_secret="x" * 40, master_key=None)
    problem = settings.master_key_problem()
    assert problem is not None and "LADDER_MASTER_KEY" in problem and "\n" not in problem
    assert Settings(_env_file=None, master_key=None).master_key_problem() is None
    assert "unusable" in (
        Settings(_env_file=None, master_key="c2hvcnQ=").master_key_problem() or ""
    )
