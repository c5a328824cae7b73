"""``ladder demo``: record a sample organisation, decided by the domain.

The org is planned and decided in memory (``domain.sample_org.plan_org``: the domain's
rules on in-memory states, every id from the seed), then appended as the service would
have appended it, one append per command with its own idempotency key, many commands per
transaction (``events.sample``). The read models are built once, at the end. The same
seed gives the same log; Ctrl-C leaves whole commands only, and running the same command
again writes what is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from api.cli.errors import err_console, out, run
from api.cli.support import DatabaseUrl, database_url, progress_bar

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from domain.simulation import Simulator
    from events.sample import HistoryAppended


def demo(
    people: Annotated[
        int, typer.Option("--people", "-n", min=1, max=100_000, help="How many people to hire.")
    ] = 50,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Same seed, same organisation.")] = 1,
    url: DatabaseUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Record a realistic sample organisation, decided by the domain, with progress.

    Six years of hires, promotions that respect the ladder, mentorships, rotations,
    trainings, departures, rehires and a few corrections. The same seed gives the same log;
    running it again with the same seed writes nothing new (idempotency keys).
    """
    from domain.sample_org import DEMO_TODAY

    outcome, refused = run(_demo(database_url(url), people, seed, quiet))
    again = f"; {outcome.replayed} commands were already recorded" if outcome.replayed else ""
    out.print(
        f"recorded {outcome.events} events from {outcome.commands} commands for {people} "
        f"people (seed {seed}, today {DEMO_TODAY}){again}",
        markup=False,
    )
    for what in refused:
        err_console.print(f"warning: refused {what}", markup=False, style="yellow")


def key(seed: int, people: int, index: int) -> str:
    """The idempotency key of the demo's ``index``-th command."""
    return f"demo-{seed}-{people}-{index}"


async def _demo(url: str, people: int, seed: int, quiet: bool) -> tuple[HistoryAppended, list[str]]:
    from domain.sample_org import DEMO_TODAY, plan_org
    from events.bootstrap import bootstrap, publish_default_ladder
    from events.port import Metadata
    from events.sample import append_history
    from events.service import CareerService

    runtime = await bootstrap(
        url, today=lambda: DEMO_TODAY, start_projector=False, listen=False, publish_default=False
    )
    store = runtime.store
    # Its own service: no read-model catch-up after its append (all are built at the end).
    service = CareerService(store, runtime.engine, sealer=store.sealer, today=lambda: DEMO_TODAY)
    try:
        # Sample data: commits need not wait for the disk (a power cut may lose the last
        # few, which running the demo again writes), and the read models are built once
        # at the end instead of in every append.
        store.commit_without_fsync()
        store.project_inline()
        await publish_default_ladder(service)
        ladder = (await service.ladders())["product"]
        sim = plan_org(people, seed, ladder)
        if await store.last_position_of("PersonHired"):
            # People already in the log (another demo's, say) keep their addresses: the
            # org is decided again knowing which of its addresses are taken.
            await runtime.projector.start()
            taken = await _taken(runtime.engine, sim)
            if taken:
                sim = plan_org(people, seed, ladder, taken=taken)

        def metadata(index: int) -> Metadata:
            return Metadata("demo", "hr", idempotency_key=key(seed, people, index))

        with progress_bar(f"Recording the demo org (seed {seed})", quiet=quiet) as update:
            outcome = await append_history(store, sim.groups, metadata, progress=update)
        with progress_bar("Building the read models", quiet=quiet) as update:
            await runtime.projector.start(progress=update)
        return outcome, sim.refused
    finally:
        await runtime.close()


async def _taken(engine: AsyncEngine, sim: Simulator) -> dict[str, UUID]:
    """The org's addresses that someone else has in the log, by their owner."""
    from domain.events import PersonHired
    from events.readmodels.emails import people_with_email

    taken: dict[str, UUID] = {}
    for event in sim.events:
        if isinstance(event, PersonHired):
            address = event.email.strip().lower()
            others = await people_with_email(engine, address) - {event.person_id}
            if others:
                taken[address] = min(others)
    return taken


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(demo)
