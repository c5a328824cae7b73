"""Key rotation (several HS256 secrets) and an identity provider's public keys (JWKS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth import Principal, Role, TokenKeys, decode_token, load_jwks, mint_token
from api.errors import Unauthenticated

NEW = "the-new-signing-secret-of-at-least-32-bytes"
OLD = "the-old-signing-secret-of-at-least-32-bytes"
HOUR = timedelta(hours=1)


def test_a_token_signed_with_an_older_secret_is_accepted_during_a_rotation() -> None:
    keys = TokenKeys.of(NEW, [OLD])
    assert decode_token(keys, mint_token(OLD, Role.HR, "hr-1", HOUR)) == Principal("hr-1", Role.HR)
    assert decode_token(keys, mint_token(NEW, Role.HR, "hr-1", HOUR)) is not None


def test_a_token_signed_with_a_retired_secret_is_refused() -> None:
    with pytest.raises(Unauthenticated):
        decode_token(TokenKeys.of(NEW), mint_token(OLD, Role.HR, "hr-1", HOUR))


def test_an_expired_token_is_refused_with_every_secret() -> None:
    token = mint_token(OLD, Role.HR, "hr-1", timedelta(minutes=-5))
    with pytest.raises(Unauthenticated, match="expired"):
        decode_token(TokenKeys.of(NEW, [OLD]), token)


def test_a_subject_too_long_to_record_as_the_actor_is_refused() -> None:
    with pytest.raises(Unauthenticated, match="subject"):
        decode_token(NEW, mint_token(NEW, Role.HR, "x" * 201, HOUR))


def _provider(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    private = Ed25519PrivateKey.generate()
    public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "idp-1", "alg": "EdDSA"}]}))
    return private, path


def _idp_token(private: Ed25519PrivateKey, kid: str = "idp-1", **claims: object) -> str:
    now = datetime.now(UTC)
    body = {"sub": "auditor-7", "role": "auditor", "iat": now, "exp": now + HOUR, **claims}
    return jwt.encode(body, private, algorithm="EdDSA", headers={"kid": kid})


def test_a_token_from_the_identity_provider_is_verified_with_its_public_key(
    tmp_path: Path,
) -> None:
    private, path = _provider(tmp_path)
    keys = TokenKeys.of(NEW, jwks_file=path)
    assert decode_token(keys, _idp_token(private)) == Principal("auditor-7", Role.AUDITOR)


def test_a_token_signed_by_another_key_or_naming_an_unknown_kid_is_refused(
    tmp_path: Path,
) -> None:
    _, path = _provider(tmp_path)
    keys = TokenKeys.of(NEW, jwks_file=path)
    with pytest.raises(Unauthenticated):
        decode_token(keys, _idp_token(Ed25519PrivateKey.generate()))
    with pytest.raises(Unauthenticated, match="unknown key"):
        decode_token(keys, _idp_token(Ed25519PrivateKey.generate(), kid="other"))


def test_a_jwks_file_without_kid_or_alg_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    public = json.loads(
        jwt.algorithms.OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key())
    )
    path.write_text(json.dumps({"keys": [public]}))
    with pytest.raises(ValueError, match="kid"):
        load_jwks(path)
