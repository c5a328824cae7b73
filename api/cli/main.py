"""``ladder``: the command line (Typer with Rich). ``python -m api.cli`` works too.

Every command has ``--help``. The database comes from ``--database-url``, else
``LADDER_DATABASE_URL`` / ``DATABASE_URL`` (or ``.env``), else ``sqlite:///ladder.db``.
Errors print one line on stderr and exit with a documented code (``ladder --help``).

Every command module is imported here (Typer reads their options), so they stay light:
each command imports the store, the server or the schema it needs in its own body, and
``ladder --help`` or ``ladder demo`` loads no GraphQL, Starlette or uvicorn.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import typer

from api.cli import (
    audit,
    demo,
    documents,
    erasure,
    exports,
    keys,
    ops,
    people,
    proofs,
    transfer,
)
from api.cli.errors import EPILOG, Exit, OneLineErrors, fail, guard
from api.roles import MAX_SUBJECT, Role

app = typer.Typer(
    name="ladder",
    cls=OneLineErrors,
    help="Career ladders as an event-sourced GraphQL backend: serve it, fill it with a demo "
    "organisation, audit, verify, export and import the log.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(value: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``8h`` or ``7d``."""
    found = _TTL.fullmatch(value.strip())
    if found is None or int(found.group(1)) == 0:
        fail(f"--ttl {value!r} is not a duration like 30m, 8h or 7d", Exit.BAD_INPUT)
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])


def token(
    role: Annotated[Role, typer.Option("--role", "-r", help="The caller's role.")],
    subject: Annotated[
        str, typer.Option("--subject", "-s", help="A person id, or a service name.")
    ],
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 30m, 8h, 7d...")] = "8h",
) -> None:
    """Mint a development bearer token signed with LADDER_TOKEN_SECRET (printed alone)."""
    from api.auth import mint_token  # the token machinery only when a token is minted
    from api.settings import get_settings

    lifetime = parse_ttl(ttl)
    if not subject.strip():
        fail("--subject must not be empty", Exit.BAD_INPUT)
    settings = guard(get_settings)
    if (reason := settings.insecure()) is not None:
        fail(f"refusing to sign a token: {reason}", Exit.INSECURE)
    if lifetime > timedelta(days=settings.max_token_ttl_days):
        fail(
            f"--ttl {ttl} is longer than LADDER_MAX_TOKEN_TTL_DAYS "
            f"({settings.max_token_ttl_days}d)",
            Exit.BAD_INPUT,
        )
    if len(subject.strip()) > MAX_SUBJECT:
        fail(f"--subject is longer than {MAX_SUBJECT} characters", Exit.BAD_INPUT)
    print(mint_token(settings.token_secret, role, subject.strip(), lifetime))


def schema() -> None:
    """Print the GraphQL schema (SDL, sorted), as committed in schema.graphql."""
    from api.schema_export import export_sdl

    print(guard(export_sdl), end="")


ops.register(app)
documents.register(app)
demo.register(app)
people.register(app)
exports.register(app)
audit.register(app)
keys.register(app)
proofs.register(app)
transfer.register(app)
erasure.register(app)
app.command(rich_help_panel="Develop")(token)
app.command(rich_help_panel="Develop")(schema)


def main() -> None:
    app(prog_name="ladder")


if __name__ == "__main__":
    main()
