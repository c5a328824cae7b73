"""Runtime settings, read from the environment (prefix ``LADDER_``) and a ``.env`` file.

Nothing is read at import time: call :func:`get_settings` (or build ``Settings(...)`` in tests).
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

logger = logging.getLogger(__name__)

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
    max_page_size: int = Field(default=100, ge=1)
    max_mentees: int = Field(default=5, ge=1)
    parser_cache_size: int = Field(default=256, ge=0)
    validation_cache_size: int = Field(default=256, ge=0)
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

    _split_origins = field_validator("cors_origins", "ws_allowed_origins", mode="before")(
        _split_list
    )

    @model_validator(mode="after")
    def _warn_about_dev_secret(self) -> Settings:
        if self.env != "development" and self.token_secret == DEV_TOKEN_SECRET:
            logger.warning(
                "LADDER_TOKEN_SECRET is the development default while LADDER_ENV=%s: "
                "anyone can mint tokens. Set a long random secret.",
                self.env,
            )
        return self

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
    def field_suggestions_enabled(self) -> bool:
        return self.is_development if self.field_suggestions is None else self.field_suggestions


def get_settings() -> Settings:
    """Build the settings from the environment now (never cached at import time)."""
    return Settings()
