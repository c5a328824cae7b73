"""Runtime settings, read from the environment (prefix ``LADDER_``) and a ``.env`` file.

Nothing is read at import time: call :func:`get_settings` (or build ``Settings(...)`` in tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_BYTES = 32
DEV_TOKEN_SECRET = "dev-only-insecure-token-secret-change-me"  # noqa: S105 - a known dev value

Environment = Literal["development", "production"]


def _split_list(value: object) -> object:
    """Accept ``a,b`` and JSON lists (``["a", "b"]``) for list settings from the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the API process needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_prefix="LADDER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        validate_by_name=True,
    )

    env: Environment = "development"
    database_url: str = Field(
        default="sqlite+aiosqlite:///ladder.db",
        validation_alias=AliasChoices("LADDER_DATABASE_URL", "DATABASE_URL"),
    )
    token_secret: str = DEV_TOKEN_SECRET
    token_verify_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    token_jwks_file: Path | None = None
    max_token_ttl_days: int = Field(default=30, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # None means "on in development, off in production".
    graphiql: bool | None = None
    introspection: bool | None = None
    field_suggestions: bool | None = None
    max_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=2000, ge=10)
    max_body_bytes: int = Field(default=100_000, ge=1024)
    max_upload_bytes: int = Field(default=5_000_000, ge=1024)
    max_page_size: int = Field(default=100, ge=1)
    max_cost: int = Field(default=3000, ge=1)
    max_mentees: int = Field(default=5, ge=1)
    parser_cache_size: int = Field(default=256, ge=0)
    validation_cache_size: int = Field(default=256, ge=0)
    keep_alive_timeout: float = Field(default=5.0, gt=0)
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)
    ws_ping_interval: float = Field(default=20.0, gt=0)
    ws_ping_timeout: float = Field(default=20.0, gt=0)
    max_ws_connections: int = Field(default=1000, ge=1)
    max_ws_connections_per_subject: int = Field(default=50, ge=1)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_send_queue: int = Field(default=256, ge=1)
    # None means "on in development, off in production" (or on when a token is set).
    metrics: bool | None = None
    metrics_token: str | None = None
    documents_file: str = "trusted-documents.json"
    trusted_documents: bool = False
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # The file holding the Ed25519 key that signs checkpoints (``ladder keygen``).
    checkpoint_key: str | None = None
    # With a key: the append-only file of signed checkpoints; every committed append is
    # covered by one before it is acknowledged (``events.publisher``).
    checkpoint_log: str | None = None
    # 0: every append waits for its checkpoint. N > 0: the relaxed mode, one checkpoint
    # every N ms, appends acknowledged up to N ms before one covers them.
    checkpoint_interval_ms: int = Field(default=0, ge=0)
    # Base64 of 32 random bytes: wraps the per-person keys of personal data
    # (``events.sealing``). Required to serve in production; in development, when unset, a
    # key file is made beside the SQLite database (or under ~/.local/state/ladder).
    master_key: str | None = None

    _split_origins = field_validator(
        "cors_origins", "ws_allowed_origins", "token_verify_secrets", mode="before"
    )(_split_list)

    def insecure(self) -> str | None:
        """Why this configuration must not serve production, or None.

        In production every HS256 secret must be at least ``MIN_SECRET_BYTES`` long and
        none may be the development value written in this source file."""
        if self.env != "production":
            return None
        for name, secret in [("LADDER_TOKEN_SECRET", self.token_secret)] + [
            ("LADDER_TOKEN_VERIFY_SECRETS", s) for s in self.token_verify_secrets
        ]:
            if secret == DEV_TOKEN_SECRET:
                return f"{name} is the development secret (anyone can mint tokens with it)"
            if len(secret.encode()) < MIN_SECRET_BYTES:
                return f"{name} is shorter than {MIN_SECRET_BYTES} bytes"
        return None

    def master_key_problem(self) -> str | None:
        """Why the master key stops ``ladder serve`` (one line), or None: malformed
        anywhere, or missing in production."""
        if self.master_key is None:
            if self.env == "production":
                return (
                    "LADDER_MASTER_KEY is not set: personal data needs it in production "
                    "(make one with `ladder master-key`)"
                )
            return None
        from events.sealing import MasterKeyError, parse_key

        try:
            parse_key(self.master_key)
        except MasterKeyError as exc:
            return f"LADDER_MASTER_KEY is unusable: {exc}"
        return None

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_development if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.is_development if self.introspection is None else self.introspection

    @property
    def metrics_enabled(self) -> bool:
        if self.metrics is not None:
            return self.metrics
        return self.is_development or bool(self.metrics_token)

    @property
    def field_suggestions_enabled(self) -> bool:
        return self.is_development if self.field_suggestions is None else self.field_suggestions


def get_settings() -> Settings:
    """Build the settings from the environment now (never cached at import time)."""
    return Settings()
