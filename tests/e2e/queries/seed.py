"""The seeded org the read-side end-to-end tests share (``conftest.org`` serves it).

The org is written with ``CareerService.execute`` (domain commands) into a fresh SQLite
file or PostgreSQL schema, then served by the real app under uvicorn, bootstrapped by the
app's lifespan on the same database. ``today`` is fixed so ages and durations are exact.

People (``ORG`` keys): ``vp`` > ``director`` > ``manager`` > ``employee``, ``junior``;
``outsider`` reports to the director (outside the manager's reach) and has a promotion
effective after ``TODAY``; ``leaver`` departed;
and ``BULK`` people under the manager: every fifth one mentors the next four, and every
mentee is on a rotation (for the N+1 test).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

import httpx
from sqlalchemy import event

from api.services import AppServices
from api.settings import Settings
from domain import commands as c
from events.bootstrap import bootstrap
from events.port import Metadata
from events.service import CareerService
from events.tlog import NoteSigner
from tests.e2e.conftest import LiveServer, mint

TODAY = date(2025, 6, 30)
HR = Metadata(actor_id="hr-admin", actor_role="hr")
_NS = UUID("6f1d7a52-0000-4000-8000-000000000000")
BULK = 110
FUTURE_PROMOTION = date(2025, 8, 1)
"""The outsider's promotion: recorded, but effective after ``TODAY``."""


def pid(name: str) -> str:
    return str(uuid5(_NS, name))


ORG = {k: pid(k) for k in ("vp", "director", "manager", "employee", "junior", "outsider")}
ORG["leaver"] = pid("leaver")
MENTORSHIP = str(uuid5(_NS, "mentorship-manager-employee"))
ROTATION = str(uuid5(_NS, "rotation-employee"))


def global_id(type_name: str, raw: str) -> str:
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


def bulk_id(i: int) -> str:
    return pid(f"bulk-{i:03d}")


SIGNING_KEY = "PRIVATE+KEY+ladder.test/log+391d115d+Adoe8eI7TlyCCu/IlyFvyJxYjyx3W8ubH8VuqRnJC0Sf"
"""The server's checkpoint key (a test key: never use it for a real log)."""


@dataclass
class Seeded:
    url: str
    departure_recorded_after: datetime
    """A moment after everything but the leaver's departure was recorded."""
    promotion_event_id: str
    services: list[AppServices] = field(default_factory=list)
    server: LiveServer | None = None
    statements: list[str] = field(default_factory=list)

    @property
    def live(self) -> LiveServer:
        if self.server is None:
            raise RuntimeError("the server is not running")
        return self.server

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str | None = None,
        subject: str | None = None,
    ) -> httpx.Response:
        headers = {"accept": "application/graphql-response+json"}
        if role is not None:
            headers["authorization"] = f"Bearer {mint(role, subject or ORG['vp'])}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return httpx.post(self.live.graphql_url, json=body, headers=headers, timeout=30)

    def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str = "hr",
        subject: str | None = None,
    ) -> dict[str, Any]:
        """``data`` of a request that must succeed without errors."""
        response = self.post(query, variables, role=role, subject=subject)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    def error_codes(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str | None = "hr",
        subject: str | None = None,
    ) -> list[str]:
        body = self.post(query, variables, role=role, subject=subject).json()
        return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def _seed_org(service: CareerService) -> str:
    async def run(command: Any) -> Any:
        return await service.execute(command, metadata=HR)

    def hire(key: str, level: str, on: date, prior: float, manager: str | None) -> c.HirePerson:
        return c.HirePerson(
            person_id=UUID(ORG[key]),
            name=key.title() + " Person",
            email=f"{key}@example.com",
            track="product",
            level=level,
            hired_on=on,
            prior_years=prior,
            manager_id=None if manager is None else UUID(ORG[manager]),
        )

    await run(hire("vp", "vp_product", date(2018, 1, 1), 15, None))
    await run(hire("director", "director", date(2019, 1, 1), 11, "vp"))
    await run(hire("manager", "group_pm", date(2019, 6, 1), 9, "director"))
    await run(hire("employee", "pm", date(2020, 1, 1), 2, "manager"))
    await run(hire("junior", "apm", date(2022, 1, 1), 0, "manager"))
    await run(hire("outsider", "pm", date(2021, 1, 1), 3, "director"))
    await run(hire("leaver", "pm", date(2020, 2, 1), 4, "director"))
    promoted = await run(
        c.RecordPromotion(
            person_id=UUID(ORG["employee"]),
            to_level="senior_pm",
            effective_on=date(2023, 3, 1),
            rationale="Led the checkout redesign",
            evidence={"ux_design": "checkout redesign"},
        )
    )
    await run(
        c.RecordPromotion(
            person_id=UUID(ORG["junior"]),
            to_level="pm",
            effective_on=date(2023, 6, 1),
            rationale="Shipped the launch",
            experience_exception="Exceptional launch results",
        )
    )
    await run(
        c.StartMentorship(
            mentorship_id=UUID(MENTORSHIP),
            mentor_id=UUID(ORG["manager"]),
            mentee_id=UUID(ORG["employee"]),
            effective_on=date(2023, 4, 1),
            goals=("strategy",),
        )
    )
    await run(
        c.StartRotation(
            rotation_id=UUID(ROTATION),
            person_id=UUID(ORG["employee"]),
            host_team="Growth",
            development_area="analytics",
            effective_on=date(2025, 1, 6),
            planned_end_on=date(2025, 7, 15),
        )
    )
    await run(
        c.RecordTraining(
            person_id=UUID(ORG["employee"]), program="Lead well", effective_on=date(2024, 5, 1)
        )
    )
    await run(
        c.RecordPromotion(
            person_id=UUID(ORG["outsider"]),
            to_level="senior_pm",
            effective_on=FUTURE_PROMOTION,
            rationale="Agreed in the spring review, effective in August",
        )
    )
    for i in range(BULK):
        mentor = i % 5 == 0
        await service.execute(
            c.HirePerson(
                person_id=UUID(bulk_id(i)),
                name=f"Bulk {i:03d}",
                email=f"bulk{i:03d}@example.com",
                track="product",
                level="senior_pm" if mentor else "apm",
                hired_on=date(2023, 1, 2),
                prior_years=6 if mentor else 0,
                manager_id=UUID(ORG["manager"]),
            ),
            metadata=HR,
        )
    for i in range(BULK):
        if i % 5 == 0:
            continue
        await run(
            c.StartMentorship(
                mentorship_id=uuid5(_NS, f"bulk-mentorship-{i}"),
                mentor_id=UUID(bulk_id(i - i % 5)),
                mentee_id=UUID(bulk_id(i)),
                effective_on=date(2024, 1, 1),
            )
        )
        await run(
            c.StartRotation(
                rotation_id=uuid5(_NS, f"bulk-rotation-{i}"),
                person_id=UUID(bulk_id(i)),
                host_team=f"Team {i % 7}",
                development_area="analytics",
                effective_on=date(2024, 2, 1),
                planned_end_on=date(2025, 12, 31),
            )
        )
    return str(promoted.events[0].event_id)


async def seed(url: str) -> tuple[datetime, str]:
    runtime = await bootstrap(url, listen=False, today=lambda: TODAY)
    try:
        promotion = await _seed_org(runtime.service)
        await asyncio.sleep(0.01)
        moment = datetime.now(UTC)
        await asyncio.sleep(0.01)
        await runtime.service.execute(
            c.RecordDeparture(
                person_id=UUID(ORG["leaver"]), effective_on=date(2024, 12, 31), reason="Moved"
            ),
            metadata=HR,
        )
    finally:
        await runtime.close()
    return moment, promotion


def boot(seeded: Seeded) -> Any:
    @asynccontextmanager
    async def boot(settings: Settings) -> AsyncIterator[AppServices]:
        runtime = await bootstrap(settings.database_url, listen=False, today=lambda: TODAY)
        signer = NoteSigner.parse(SIGNING_KEY)
        services = AppServices(runtime, today=lambda: TODAY, signer=signer)
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", _counter(seeded))
        seeded.services.append(services)
        try:
            yield services
        finally:
            await services.close()

    return boot


def _counter(seeded: Seeded) -> Any:
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seeded.statements.append(statement)

    return count
