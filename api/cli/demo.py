"""``ladder demo``: record a sample organisation through the domain commands.

The same seed gives the same log (see ``api.cli.demo_plan``); the commands are decided with the
demo's fixed "today" so that corrections record the same date on every run. Each command is
its own transaction with an idempotency key: Ctrl-C leaves whole commands only, and running
the same command again continues where it stopped.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.demo_plan import DEMO_TODAY, DemoOutcome, plan_demo, run_demo
from api.cli.errors import err_console, out, run
from api.cli.support import DatabaseUrl, database_url, progress_bar
from domain.ladder import default_ladder
from events.service import CareerService


def demo(
    people: Annotated[
        int, typer.Option("--people", "-n", min=1, max=100_000, help="How many people to hire.")
    ] = 50,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Same seed, same organisation.")] = 1,
    url: DatabaseUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Record a realistic sample organisation through the domain commands, with progress.

    Six years of hires, promotions that respect the ladder, mentorships, rotations,
    trainings, departures, rehires and a few corrections. The same seed gives the same log;
    running it again with the same seed writes nothing new (idempotency keys).
    """
    outcome = run(_demo(database_url(url), people, seed, quiet))
    out.print(
        f"recorded {outcome.events} events from {outcome.commands} commands for {people} "
        f"people (seed {seed}, today {DEMO_TODAY})",
        markup=False,
    )
    for refused in outcome.refused:
        err_console.print(f"warning: refused {refused}", markup=False, style="yellow")


async def _demo(url: str, people: int, seed: int, quiet: bool) -> DemoOutcome:
    from events.bootstrap import bootstrap

    runtime = await bootstrap(url, today=lambda: DEMO_TODAY, start_projector=False, listen=False)
    try:
        # Sample data, one transaction per command: commits need not wait for the disk
        # (a power cut may lose the last few, which running the demo again writes).
        runtime.store.commit_without_fsync()
        # Its own service: no read-model catch-up after every command (done once below).
        service = CareerService(
            runtime.store, runtime.engine, sealer=runtime.store.sealer, today=lambda: DEMO_TODAY
        )
        ladder = (await service.ladders()).get("product") or default_ladder()
        plan = plan_demo(people, seed, ladder)
        with progress_bar(f"Recording the demo org (seed {seed})", quiet=quiet) as update:
            outcome = await run_demo(service, plan, progress=update)
        with progress_bar("Building the read models", quiet=quiet) as update:
            await runtime.projector.start(progress=update)
        return outcome
    finally:
        await runtime.close()


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(demo)
