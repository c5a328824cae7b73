"""The auditor's commands: ``ladder replay`` and ``ladder verify``.

Both read the log itself, never the read models. ``replay`` shows a person's stream event
by event (position, stream version, recorded and effective times, actor, data, hashes) with
the person's state after each one, optionally as effective on ``--as-of`` and as the log
knew it at ``--known-at``, and ends with the stream's hash-chain verdict.
"""

from __future__ import annotations

import base64
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import orjson
import typer

from api.cli.errors import Exit, fail, out, run
from api.cli.keys import load_checkpoint_log, load_checkpoints
from api.cli.support import DatabaseUrl, existing_database, parse_date, parse_time, progress_bar

if TYPE_CHECKING:
    from domain.career import Career
    from domain.state import PersonState
    from events.port import ChainBreak, RecordedEvent, VerifyResult
    from events.sql_store import SqlEventStore
    from events.tlog import Checkpoint
    from events.tree_audit import TreeReport

_PAGE = 5000


def describe_break(found: ChainBreak) -> str:
    return (
        f"event {found.event_id} ({found.stream} version {found.version}, "
        f"position {found.position}): {found.reason}"
    )


# --- verify ---------------------------------------------------------------------------


def verify(
    stream: Annotated[
        str | None,
        typer.Option(
            "--stream", metavar="NAME", help="Check one stream (e.g. person-<uuid>) only."
        ),
    ] = None,
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="A signed checkpoint the log must still match (repeatable; needs --public-key).",
        ),
    ] = None,
    checkpoint_log: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint-log",
            metavar="FILE",
            help="The server's checkpoint log (LADDER_CHECKPOINT_LOG): every checkpoint in it "
            "must hold (needs --public-key).",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", metavar="FILE", help="The log's verifier key (note format)."),
    ] = None,
    read_models: Annotated[
        bool,
        typer.Option(
            "--read-models", help="Also replay the read models and name served rows that differ."
        ),
    ] = False,
    url: DatabaseUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Recompute every hash chain and the Merkle tree, and check them against checkpoints.

    Over the whole log: that positions have no gap, that every stored Merkle node matches
    the events, that every idempotency record points at the events carrying its key,
    (with --read-models) that the served read models are what the log makes, and that
    the log still matches every signed --checkpoint (a re-forged
    chain, a deleted tail or a rewritten history shows there). Exits 1 and names what
    is wrong, one finding a line, graded manipulation / gap / notice.
    """
    from events.encoding import STREAM_NAME

    if stream is not None and STREAM_NAME.fullmatch(stream) is None:
        fail(f"{stream!r} is not a stream name (category-id, e.g. person-<uuid>)", Exit.USAGE)
    if stream is not None and (checkpoints or checkpoint_log):
        fail("--checkpoint checks the whole log: leave out --stream", Exit.USAGE)
    signed = load_checkpoints(checkpoints or [], public_key)
    if checkpoint_log is not None:
        signed += load_checkpoint_log(checkpoint_log, public_key)
    result, report = run(_verify(existing_database(url), stream, signed, quiet, read_models))
    if report is not None:
        for finding in report.findings:
            out.print(finding.line(), markup=False)
    if result.first_break is not None:
        fail(f"verification failed: {describe_break(result.first_break)}", Exit.VERIFY_FAILED)
    if report is not None and not report.ok:
        fail(f"verification failed: {report.findings[0].line()}", Exit.VERIFY_FAILED)
    if stream is not None and result.events_checked == 0:
        fail(f"no stream {stream}", Exit.NOT_FOUND)
    if stream is not None:
        out.print(f"ok: {result.events_checked} events in {stream}, the hash chain holds")
        return
    against = f", and {len(signed)} signed checkpoint(s) hold" if signed else ""
    out.print(
        f"ok: {result.events_checked} events in {result.streams_checked} streams, every hash "
        f"chain holds, the Merkle tree matches the events (root {report_root(report)}){against}"
    )


def report_root(report: TreeReport | None) -> str:
    return "" if report is None else base64.b64encode(report.root).decode()


async def _verify(
    url: str, stream: str | None, signed: list[Checkpoint], quiet: bool, read_models: bool
) -> tuple[VerifyResult, TreeReport | None]:
    from events.db import create_engine
    from events.idempotency import audit_keys
    from events.projections import ALL
    from events.readmodel_audit import audit_read_models
    from events.sql_store import SqlEventStore
    from events.transfer import verify_log
    from events.tree_audit import Finding, audit_tree

    engine = create_engine(url)
    try:
        with progress_bar("Verifying", quiet=quiet) as update:
            result = await verify_log(engine, stream, progress=update)
        if stream is not None:
            return result, None
        with progress_bar("Merkle tree", quiet=quiet) as update:
            report = await audit_tree(engine, signed, progress=update)
        report.findings.extend(Finding("manipulation", p) for p in await audit_keys(engine))
        if read_models:
            found = await audit_read_models(SqlEventStore(engine), engine, ALL)
            report.findings.extend(Finding("manipulation", p) for p in found)
        return result, report
    finally:
        await engine.dispose()


# --- replay ---------------------------------------------------------------------------


def replay(
    person: Annotated[str, typer.Argument(help="The person's id (UUID) or email address.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATE", help="Show the state as effective on this date."),
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at",
            metavar="TIME",
            help="Only events the log had recorded by this time (ISO, UTC by default; "
            "a bare date means the end of that day).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    url: DatabaseUrl = None,
) -> None:
    """The auditor's view of one person: every event, the state after it, the chain verdict.

    Exits 1 when the person's hash chain is broken.
    """
    as_of_date = parse_date(as_of, "--as-of")
    known = parse_time(known_at, "--known-at")
    report = run(_replay(existing_database(url), person, as_of_date, known))
    if as_json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_text(report)
    chain = report["chain"]
    if not chain["ok"]:
        fail(f"hash chain broken: {chain['first_break_text']}", Exit.VERIFY_FAILED)


async def _replay(
    url: str, person: str, as_of: date | None, known_at: datetime | None
) -> dict[str, Any]:
    from domain.serialization import from_data, person_stream
    from domain.state import PersonState, evolve
    from events.db import create_engine
    from events.sql_store import SqlEventStore

    engine = create_engine(url)
    try:
        store = SqlEventStore(engine)
        person_id = await _resolve(store, person)
        stream = person_stream(person_id)
        recorded = await store.read_stream(stream)
        if not recorded:
            fail(f"no person {person}", Exit.NOT_FOUND)
        verdict = await store.verify(stream)
    finally:
        await engine.dispose()
    known = [e for e in recorded if known_at is None or e.recorded_at <= known_at]
    state = PersonState()
    events: list[dict[str, Any]] = []
    for e in known:
        try:
            state = evolve(state, from_data(e.type, e.data, e.event_id))
            problem = None
        except (KeyError, ValueError, TypeError) as exc:
            # A tampered or unknown event must not stop the audit: show it, skip its effect.
            problem = f"cannot be read as {e.type}: {exc}"
        events.append({**_event_view(e, state, as_of), "unreadable": problem})
    found = verdict.first_break
    today = datetime.now(UTC).date()
    return {
        "person_id": str(person_id),
        "stream": stream,
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": known_at.isoformat() if known_at else None,
        "events_in_stream": len(recorded),
        "events_known": len(known),
        "events": events,
        "state": _state_view(state.view_on(as_of), as_of or today) if known else None,
        "chain": {
            "ok": verdict.ok,
            "events_checked": verdict.events_checked,
            "first_break": None
            if found is None
            else {
                "event_id": str(found.event_id),
                "position": found.position,
                "version": found.version,
                "reason": found.reason,
            },
            "first_break_text": None if found is None else describe_break(found),
        },
    }


async def _resolve(store: SqlEventStore, person: str) -> UUID:
    try:
        return UUID(person)
    except ValueError:
        pass
    if "@" not in person:
        fail(f"{person!r} is neither a person id (UUID) nor an email address", Exit.BAD_INPUT)
    found: list[UUID] = []
    after = 0
    # Every hire is read: two people may share an address (recorded before duplicates
    # were refused), and picking one of them silently would show the wrong career.
    while batch := await store.read_all(after, limit=_PAGE, types=["PersonHired"]):
        for e in batch:
            if str(e.data.get("email", "")).strip().lower() == person.strip().lower():
                owner = UUID(str(e.data["person_id"]))
                if owner not in found:
                    found.append(owner)
        after = batch[-1].position
    if not found:
        fail(f"no person with email {person}", Exit.NOT_FOUND)
    if len(found) > 1:
        ids = ", ".join(str(i) for i in found)
        fail(f"{len(found)} people have the email {person} ({ids}); give an id", Exit.BAD_INPUT)
    return found[0]


def _event_view(e: RecordedEvent, state: PersonState, as_of: date | None) -> dict[str, Any]:
    effective = e.data.get("effective_on")
    on = as_of or (date.fromisoformat(effective) if isinstance(effective, str) else None)
    return {
        "position": e.position,
        "stream_version": e.version,
        "event_id": str(e.event_id),
        "type": e.type,
        "schema_version": e.schema_version,
        "recorded_at": e.recorded_at.isoformat(),
        "effective_on": effective,
        "in_effect": as_of is None or not isinstance(effective, str) or effective <= str(as_of),
        "actor_id": e.metadata.get("actor_id"),
        "actor_role": e.metadata.get("actor_role"),
        "metadata": e.metadata,
        "data": e.data,
        "hash": e.hash,
        "prev_hash": e.prev_hash,
        "state_after": _state_view(state.view_on(as_of), on),
    }


def _state_view(career: Career, on: date | None) -> dict[str, Any]:
    if not career.exists:
        return {"status": career.status}
    rotation = career.current_rotation
    return {
        "name": career.name,
        "status": career.status,
        "track": career.track,
        "level": career.level,
        "level_since": career.level_since.isoformat() if career.level_since else None,
        "manager_id": str(career.manager_id) if career.manager_id else None,
        "years_of_experience": round(career.years_of_experience(on), 2) if on else None,
        "rotation": rotation.host_team if rotation else None,
        "active_mentorships": sum(1 for m in career.mentorships if m.active),
        "trainings": len(career.trainings),
    }


def _state_line(s: dict[str, Any]) -> str:
    if "level" not in s:
        return str(s["status"])
    parts = [s["status"], f"{s['track']}/{s['level']} since {s['level_since']}"]
    if s["years_of_experience"] is not None:
        parts.append(f"{s['years_of_experience']} years of experience")
    if s["rotation"]:
        parts.append(f"on rotation with {s['rotation']}")
    if s["active_mentorships"]:
        parts.append(f"active mentorships: {s['active_mentorships']}")
    return " · ".join(parts)


def _print_text(r: dict[str, Any]) -> None:
    state = r["state"] or {}
    name = state.get("name", "(not yet recorded)")
    out.print(f"[bold]{name}[/bold]  {r['person_id']}  ({r['stream']})")
    scope = [f"as of {r['as_of']}" if r["as_of"] else "as of now (every effective fact)"]
    scope.append(f"known at {r['known_at']}" if r["known_at"] else "known now")
    out.print(
        f"{', '.join(scope)}: {r['events_known']} of {r['events_in_stream']} events", markup=False
    )
    for e in r["events"]:
        out.print()
        later = "" if e["in_effect"] else "  [yellow](not yet in effect)[/yellow]"
        out.print(
            f"[bold]#{e['stream_version']}[/bold] [cyan]{e['type']}[/cyan]  "
            f"position {e['position']}{later}"
        )
        actor = f"{e['actor_id'] or '-'} ({e['actor_role'] or '-'})"
        out.print(
            f"    effective {e['effective_on']}  recorded {e['recorded_at']}  by {actor}",
            markup=False,
        )
        out.print(f"    data   {orjson.dumps(e['data']).decode()}", markup=False)
        if e["unreadable"]:
            out.print(f"    UNREADABLE: {e['unreadable']}", markup=False, style="red")
        out.print(f"    state  {_state_line(e['state_after'])}", markup=False)
        out.print(f"    hash   {e['hash']}  prev {e['prev_hash'] or '-'}", markup=False)
    out.print()
    if r["state"] is not None:
        out.print(f"State: {_state_line(r['state'])}", markup=False)
    else:
        out.print("The log knew nothing of this person at that time.")
    chain = r["chain"]
    if chain["ok"]:
        out.print(f"[green]Chain: intact[/green] ({chain['events_checked']} events verified)")
    else:
        out.print("Chain: BROKEN at " + chain["first_break_text"], markup=False, style="red")


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Audit")(replay)
    app.command(rich_help_panel="Audit")(verify)
