"""Bearer tokens (JWT, HS256) and the caller's rights.

Claims: ``sub`` (a person id, or a service name), ``role`` (``employee``, ``manager``, ``hr``,
``auditor``), ``exp`` (required), ``iat``. The ladder and its levels are public; everything
else needs a principal. Managers see themselves and their reports, direct and indirect,
which needs the org chart: the read model provides it through :class:`ReportsLookup`.
Only HR records career events; in the promotion workflow managers also nominate their
reports and the reviewers a case names review it, with the token's ``sub`` as their
person id (``api/types/mutations/promotion_cases.py``; the rules are the domain's).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import jwt

from api.errors import Unauthenticated
from api.roles import MAX_SUBJECT as MAX_SUBJECT  # re-exported: one name, defined once
from api.roles import Role as Role

ALGORITHM = "HS256"
PUBLIC_KEY_ALGORITHMS = ("RS256", "ES256", "EdDSA")
LEEWAY = timedelta(seconds=30)
VERIFIED_TOKENS = 1024


@dataclass(frozen=True)
class TokenKeys:
    """What verifies bearer tokens: HS256 secrets (the signing one first, then older ones
    still accepted during a rotation) and, optionally, an identity provider's public keys
    (a JWKS file; RS256, ES256 or EdDSA tokens naming a ``kid`` in it)."""

    secrets: tuple[str, ...]
    public_keys: dict[str, tuple[str, Any]] = field(default_factory=dict)
    """``kid`` -> (algorithm, key)."""
    verified: OrderedDict[str, tuple[Principal, float]] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    """Tokens verified lately -> (principal, expiry): a client sends the same token with
    every request, and checking its signature again each time costs more than the rest
    of a small query. Bounded (``VERIFIED_TOKENS``); an expired entry is never used."""

    @classmethod
    def of(cls, secret: str, older: Sequence[str] = (), jwks_file: Path | None = None) -> TokenKeys:
        return cls((secret, *older), load_jwks(jwks_file) if jwks_file else {})


def load_jwks(path: Path) -> dict[str, tuple[str, Any]]:
    """``kid`` -> (algorithm, public key) of a JWKS file; raises ``ValueError``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        keys = jwt.PyJWKSet.from_dict(document).keys
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ValueError(f"cannot read the JWKS file {path}: {exc}") from exc
    found: dict[str, tuple[str, Any]] = {}
    for key in keys:
        algorithm = key.algorithm_name
        if key.key_id is None or algorithm not in PUBLIC_KEY_ALGORITHMS:
            raise ValueError(
                f"every key of {path} needs a kid and an alg of {', '.join(PUBLIC_KEY_ALGORITHMS)}"
            )
        found[key.key_id] = (algorithm, key.key)
    return found


class ReportsLookup(Protocol):
    """The org chart, as the read model knows it."""

    async def reports_of(self, manager_id: str) -> set[str]:
        """Ids of everyone reporting to ``manager_id``, directly or indirectly."""
        ...


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: ``subject`` is a person id (or a service name) and ``role`` its role."""

    subject: str
    role: Role
    expires_at: datetime | None = field(default=None, compare=False)
    """When the token proving it expires (its ``exp``); None when unknown."""

    @property
    def can_write(self) -> bool:
        """Only HR records career events."""
        return self.role is Role.HR

    @property
    def can_read_everything(self) -> bool:
        return self.role in (Role.HR, Role.AUDITOR)

    @property
    def can_read_audit(self) -> bool:
        return self.role in (Role.HR, Role.AUDITOR)

    async def can_read_person(self, person_id: str, reports: ReportsLookup) -> bool:
        """Everyone reads themselves; HR and auditors everyone; managers their reports."""
        if self.can_read_everything or person_id == self.subject:
            return True
        if self.role is Role.MANAGER:
            return person_id in await reports.reports_of(self.subject)
        return False


def mint_token(
    secret: str,
    role: Role | str,
    subject: str,
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> str:
    """Sign a token for ``subject`` with ``role``, valid for ``ttl``."""
    role = Role(role)
    if not subject:
        raise ValueError("subject must not be empty")
    issued = now or datetime.now(UTC)
    claims = {"sub": subject, "role": role.value, "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(keys: TokenKeys | str, token: str | None) -> Principal | None:
    """The principal a token proves; ``None`` without a token.

    Raises :class:`~api.errors.Unauthenticated` for a malformed, badly signed or expired
    token, or one whose claims are incomplete: a bad token never degrades to anonymous.
    """
    if token is None or not token.strip():
        return None
    token = token.strip()
    cache = None if isinstance(keys, str) else keys.verified
    if cache is not None and (hit := cache.get(token)) is not None:
        principal, expires = hit
        if time.time() < expires + LEEWAY.total_seconds():
            return principal
        del cache[token]
    claims = token_claims(TokenKeys((keys,)) if isinstance(keys, str) else keys, token)
    principal = _principal(claims)
    if cache is not None:
        cache[token] = (principal, float(claims["exp"]))
        if len(cache) > VERIFIED_TOKENS:
            cache.popitem(last=False)
    return principal


def _principal(claims: dict[str, Any]) -> Principal:
    subject, role = claims.get("sub"), claims.get("role")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("The token has no subject.")
    if len(subject) > MAX_SUBJECT or not subject.isprintable():
        raise Unauthenticated(
            f"The token's subject must be 1 to {MAX_SUBJECT} printable characters."
        )
    if role not in {r.value for r in Role}:
        raise Unauthenticated("The token carries an unknown role.")
    expires = claims.get("exp")
    expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int | float) else None
    return Principal(subject=subject, role=Role(str(role)), expires_at=expires_at)


def token_claims(keys: TokenKeys, token: str) -> dict[str, Any]:
    """The verified claims of ``token``; raises ``Unauthenticated``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The token is invalid.") from exc
    kid = header.get("kid")
    if header.get("alg") in PUBLIC_KEY_ALGORITHMS and isinstance(kid, str):
        if kid not in keys.public_keys:
            raise Unauthenticated("The token is signed with an unknown key.")
        algorithm, key = keys.public_keys[kid]
        candidates: list[tuple[Any, str]] = [(key, algorithm)]
    else:
        candidates = [(secret, ALGORITHM) for secret in keys.secrets]
    for i, (key, algorithm) in enumerate(candidates):
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={"require": ["exp", "sub", "role"]},
                leeway=LEEWAY,
            )
            return claims
        except jwt.InvalidSignatureError as exc:
            if i == len(candidates) - 1:
                raise Unauthenticated("The token is invalid.") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The token is invalid.") from exc
    raise Unauthenticated("The token is invalid.")


def token_from_authorization(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header, ``None`` without a header."""
    if header is None or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use the Authorization header as 'Bearer <token>'.")
    return token.strip()


def token_from_connection_params(params: object) -> str | None:
    """The token in a WebSocket ``connection_init`` payload.

    Accepts ``{"authorization": "Bearer <token>"}`` (also ``Authorization``) or
    ``{"token": "<token>"}``.
    """
    if not isinstance(params, dict):
        return None
    header = params.get("authorization", params.get("Authorization"))
    if isinstance(header, str):
        return token_from_authorization(header)
    token = params.get("token")
    if token is None:
        return None
    if not isinstance(token, str):
        raise Unauthenticated("The token must be a string.")
    return token
