"""Errors of the ``ladder`` command: exit codes, ONE line on stderr, never a traceback.

``run`` (async command bodies), ``guard`` (sync ones) and ``OneLineErrors`` (the Typer group:
usage errors and ``CliError``) turn every failure into ``error: <one line>`` and a documented
exit code (``EXIT_CODES``, shown in ``ladder --help``). ``LADDER_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import traceback
from collections.abc import Callable, Coroutine
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

if TYPE_CHECKING:
    from pydantic import ValidationError

T = TypeVar("T")


class Exit(IntEnum):
    OK = 0
    VERIFY_FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    BAD_INPUT = 4
    UNREACHABLE = 5
    CONFLICT = 6
    INSECURE = 7
    INTERNAL = 70
    INTERRUPTED = 130


EXIT_CODES: tuple[tuple[Exit, str], ...] = (
    (Exit.OK, "success"),
    (
        Exit.VERIFY_FAILED,
        "verification failed: a hash chain, the Merkle tree, a signed checkpoint or a proof "
        "does not hold (what is wrong is named)",
    ),
    (
        Exit.USAGE,
        "usage error: unknown command or option, bad option value, bad setting (named), "
        "bad database URL, `--workers` > 1 on SQLite, port in use",
    ),
    (
        Exit.NOT_FOUND,
        "not found: person, stream, projection, file, SQLite database or event log "
        "(`ladder migrate`)",
    ),
    (Exit.BAD_INPUT, "bad input: malformed value or date, tampered or malformed import file"),
    (Exit.UNREACHABLE, "the database is unreachable"),
    (
        Exit.CONFLICT,
        "refused: import into a non-empty log, a rule refused a command, or `keygen` over "
        "an existing key",
    ),
    (
        Exit.INSECURE,
        "insecure configuration: production with the development token secret or one "
        "shorter than 32 bytes",
    ),
    (Exit.INTERNAL, "unexpected internal error (`LADDER_DEBUG=1` prints the traceback)"),
    (Exit.INTERRUPTED, "interrupted (Ctrl-C): the transaction in progress was rolled back"),
)

EPILOG = "[bold]Exit codes[/bold]\n\n" + "\n".join(
    f"[cyan]{int(code):>3}[/cyan]  {text.replace('`', '')}" for code, text in EXIT_CODES
)

err_console = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)


class CliError(Exception):
    """A failure the user can act on: one line of ``message`` and an exit ``code``."""

    def __init__(self, message: str, code: Exit) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def print_error(message: str) -> None:
    """``error: <message>`` on stderr, always on one line."""
    err_console.print("error: " + " ".join(message.split()), markup=False, style="red")


def fail(message: str, code: Exit) -> NoReturn:
    raise CliError(message, code)


def _missing_log(exc: BaseException) -> bool:
    text = str(exc)
    return "no such table" in text or ('relation "' in text and "does not exist" in text)


_CONNECT_SQLSTATES = ("08", "28", "3D", "57P03")
"""Connection failures, bad credentials, no such database, server starting up."""


def _sqlstate(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        for candidate in (seen, getattr(seen, "orig", None)):
            state = getattr(candidate, "sqlstate", None)
            if isinstance(state, str):
                return state
        seen = seen.__cause__
    return None


def _unreachable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    state = _sqlstate(exc)
    if state is not None and state.startswith(_CONNECT_SQLSTATES):
        return True
    if isinstance(exc, OperationalError | InterfaceError | sqlite3.OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        return True
    return (
        isinstance(exc, OSError)
        and exc.errno is not None
        and not isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError)
    )


def bad_setting(exc: ValidationError) -> str:
    first = exc.errors()[0]
    names = [str(p) for p in first["loc"]]
    name = names[0] if names else "setting"
    env = name if name.isupper() else f"LADDER_{name.upper()}"
    given = first.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
    return f"bad setting {env}: {first['msg']}{shown}"


def _classify(exc: BaseException) -> tuple[str, Exit]:
    if isinstance(exc, CliError):
        return exc.message, exc.code
    # Imported only when something else failed: ``ladder --help`` (or a usage error)
    # loads no database driver.
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError

    from domain.errors import LadderError
    from events.errors import StoreError, StoreInputError

    if isinstance(exc, ValidationError):
        return bad_setting(exc), Exit.USAGE
    if isinstance(exc, ArgumentError):
        return f"bad database URL: {exc}", Exit.USAGE
    if isinstance(exc, LadderError):
        return f"{exc.code}: {exc.message}", Exit.CONFLICT
    if isinstance(exc, StoreInputError):
        return f"{exc.code}: {exc.message}", Exit.BAD_INPUT
    if isinstance(exc, StoreError):
        return f"{exc.code}: {exc.message}", Exit.CONFLICT
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}", Exit.NOT_FOUND
    if isinstance(exc, PermissionError | IsADirectoryError):
        return f"cannot use {exc.filename}: {exc.strerror}", Exit.BAD_INPUT
    if _missing_log(exc):
        return "the database has no event log yet: run `ladder migrate`", Exit.NOT_FOUND
    if _unreachable(exc):
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        detail = detail.removeprefix("(sqlalchemy.dialects.postgresql.asyncpg.Error) ")
        return f"the database is unreachable: {detail}", Exit.UNREACHABLE
    if isinstance(exc, ValueError) and "database URL" in str(exc):
        return str(exc), Exit.USAGE
    return f"unexpected {type(exc).__name__}: {exc}".splitlines()[0], Exit.INTERNAL


def report(exc: BaseException, *, exit_now: bool = False) -> NoReturn:
    """Print ONE line for ``exc`` on stderr and exit with its code."""
    message, code = _classify(exc)
    if os.environ.get("LADDER_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    print_error(message)
    if exit_now:
        sys.exit(int(code))
    raise typer.Exit(int(code))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion; errors and Ctrl-C become one line and an exit code.

    On Ctrl-C the task is cancelled, so the open transaction rolls back: the jobs here
    write in transactions (or to a temporary file renamed at the end).
    """
    import asyncio  # only the commands that touch a database run a loop

    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        err_console.print("interrupted: the transaction in progress was rolled back", markup=False)
        raise typer.Exit(int(Exit.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        report(exc)


def guard(fn: Callable[[], T]) -> T:
    """Run synchronous command code with the same error handling as ``run``."""
    try:
        return fn()
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        raise typer.Exit(int(Exit.INTERRUPTED)) from None
    except Exception as exc:
        report(exc)


class OneLineErrors(TyperGroup):
    """Usage errors and ``CliError`` become one line too (``error: ...``), with their code."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except CliError as exc:
            report(exc, exit_now=True)
        except typer.TyperException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `ladder`: the help
                getattr(exc, "show", lambda: None)()
                sys.exit(int(Exit.OK))
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            print_error(exc.format_message() + hint)
            sys.exit(Exit.USAGE if exc.exit_code == Exit.USAGE else exc.exit_code)
        except typer.Abort:
            err_console.print("interrupted", markup=False)
            sys.exit(int(Exit.INTERRUPTED))
        except typer.Exit:
            raise
        except Exception as exc:  # whatever escaped a command: still one line and a code
            report(exc, exit_now=True)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)
