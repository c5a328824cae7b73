"""The summary ``ladder serve`` prints before it serves: what runs, on what, and how.

Nothing secret is shown: the database URL loses its password, the token secret is only
said to be set (or to be the insecure development default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

from api.settings import DEV_TOKEN_SECRET, Settings
from events.checkpoints import Lag


def safe_url(url: str) -> str:
    """``url`` with its password masked (``***``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show nothing of it
        return "<unparsable URL>"


def _on(flag: bool) -> str:
    return "on" if flag else "off"


@dataclass(frozen=True)
class StartupSummary:
    settings: Settings
    database_url: str
    host: str
    port: int
    workers: int
    log_position: int
    projections: Sequence[Lag]
    documents: int = 0
    """Trusted documents registered in ``settings.documents_file``."""

    def fields(self) -> dict[str, Any]:
        """The summary as structured fields (for the JSON log line)."""
        s = self.settings
        return {
            "mode": s.env,
            "listen": f"http://{self.host}:{self.port}",
            "workers": self.workers,
            "database": safe_url(self.database_url),
            "log_position": self.log_position,
            "projections": {p.name: p.events for p in self.projections},
            "graphiql": s.graphiql_enabled,
            "introspection": s.introspection_enabled,
            "metrics": self.metrics_state(),
            "trusted_documents": self.settings.trusted_documents,
            "documents_registered": self.documents,
            "token_secret": self.secret_state(),
            "log_format": s.log_format,
        }

    def metrics_state(self) -> str:
        if not self.settings.metrics_enabled:
            return "off"
        return "token" if self.settings.metrics_token else "open"

    def secret_state(self) -> str:
        if self.settings.token_secret == DEV_TOKEN_SECRET:
            return "development default"
        return "set"

    def documents_state(self) -> str:
        s = self.settings
        where = f"{self.documents} registered in {s.documents_file}"
        if s.trusted_documents:
            return f"{where}; only these accepted (LADDER_TRUSTED_DOCUMENTS)"
        return f"{where}; any document accepted"

    def projection_state(self) -> str:
        if not self.projections:
            return "none"
        behind = [f"{p.name} {p.events} behind" for p in self.projections if p.events]
        names = ", ".join(p.name for p in self.projections)
        return f"{names}: " + ("; ".join(behind) if behind else "up to date")

    def lines(self) -> list[str]:
        s = self.settings
        key = "set (LADDER_TOKEN_SECRET)"
        if self.settings.token_secret == DEV_TOKEN_SECRET:
            key = "development default (anyone can mint tokens: set LADDER_TOKEN_SECRET)"
        metrics = {
            "off": "off",
            "open": "on at /metrics (no token: keep it on a private network)",
            "token": "on at /metrics (bearer LADDER_METRICS_TOKEN)",
        }[self.metrics_state()]
        url = f"http://{self.host}:{self.port}"
        rows = [
            ("mode", f"{s.env} (LADDER_ENV)"),
            ("listening", f"{url}/graphql, {self.workers} worker(s)"),
            ("database", safe_url(self.database_url)),
            ("log", f"{self.log_position} events"),
            ("read models", self.projection_state()),
            ("checkpoints", "projection_checkpoints table, same database"),
            ("token secret", f"{key}, HS256"),
            ("GraphiQL", "on (served from the package)" if s.graphiql_enabled else "off"),
            ("introspection", _on(s.introspection_enabled)),
            ("metrics", metrics),
            ("documents", self.documents_state()),
            ("logs", f"{s.log_format} on stderr, level {s.log_level}"),
        ]
        return ["Career Ladder API"] + [f"  {name:<14}{value}" for name, value in rows]
