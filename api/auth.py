"""Bearer tokens (JWT, HS256) and the caller's rights.

Claims: ``sub`` (a person id, or a service name), ``role`` (``employee``, ``manager``, ``hr``,
``auditor``), ``exp`` (required), ``iat``. The ladder and its levels are public; everything
else needs a principal. Managers see themselves and their reports, direct and indirect,
which needs the org chart: the read model provides it through :class:`ReportsLookup`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import jwt

from api.errors import Unauthenticated

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=30)


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    AUDITOR = "auditor"


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


def decode_token(secret: str, token: str | None) -> Principal | None:
    """The principal a token proves; ``None`` without a token.

    Raises :class:`~api.errors.Unauthenticated` for a malformed, badly signed or expired
    token, or one whose claims are incomplete: a bad token never degrades to anonymous.
    """
    if token is None or not token.strip():
        return None
    try:
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "role"]},
            leeway=LEEWAY,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The token is invalid.") from exc
    subject, role = claims.get("sub"), claims.get("role")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("The token has no subject.")
    if role not in {r.value for r in Role}:
        raise Unauthenticated("The token carries an unknown role.")
    expires = claims.get("exp")
    expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int | float) else None
    return Principal(subject=subject, role=Role(str(role)), expires_at=expires_at)


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
