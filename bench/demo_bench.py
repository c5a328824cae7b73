"""``ladder demo --people N`` and ``ladder --help``, as a user runs them, beside floors.

Run: ``python -m bench.demo_bench`` (``--people 200 --rounds 5``). Each round, interleaved,
runs as fresh processes (wall clock, and the child's CPU: user + system):

* ``ladder --help``;
* ``ladder demo --people N`` on a fresh SQLite file (default settings otherwise);
* floor: the interpreter starting (``python -c "import sqlite3"``);
* floor: a hand-written ``sqlite3`` process writing the same events: the demo's own rows
  (every column, read back from its database) into a table made with the demo's own DDL,
  one transaction per command (grouped by idempotency key), WAL and
  ``synchronous=NORMAL`` as the demo writes. No planning, no sealing, no read models.

Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``, after one warm-up round not
counted), as an installed ``ladder`` runs. ``--root`` runs another checkout's code (to
compare before and after). Prints the median and the best of the rounds. Never a test:
figures go in the README.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LADDER = [sys.executable, "-m", "api.cli"]


def timed(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of ``cmd`` as a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    ran = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if ran.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {ran.returncode}: {ran.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


RAW_WRITER = """
import sqlite3, sys
source, target = sys.argv[1], sys.argv[2]
src = sqlite3.connect(source)
ddl = [r[0] for r in src.execute(
    "SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL "
    "AND type IN ('table', 'index') ORDER BY type DESC")]
rows = src.execute("SELECT * FROM events ORDER BY position").fetchall()
key = [r[0] for r in src.execute("SELECT json_extract(metadata, '$.idempotency_key') "
                                 "FROM events ORDER BY position")]
db = sqlite3.connect(target, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
for statement in ddl:
    db.execute(statement)
insert = "INSERT INTO events VALUES (" + ", ".join("?" * len(rows[0])) + ")"
i = 0
while i < len(rows):
    j = i + 1
    while j < len(rows) and key[j] is not None and key[j] == key[i]:
        j += 1
    db.execute("BEGIN")
    db.executemany(insert, rows[i:j])
    db.execute("COMMIT")
    i = j
print(len(rows))
"""


def commands_in(db: Path) -> tuple[int, int]:
    """(events, commands) in the demo's log (commands: distinct idempotency keys)."""
    with sqlite3.connect(db) as conn:
        events, keys = conn.execute(
            "SELECT count(*), count(DISTINCT json_extract(metadata, '$.idempotency_key')) "
            "FROM events"
        ).fetchone()
    return int(events), int(keys)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="The checkout to run.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.pop("LADDER_DATABASE_URL", None)
        env.pop("DATABASE_URL", None)
        env |= {"PYTHONPATH": str(args.root.resolve()), "PYTHONPYCACHEPREFIX": cache}
        rounds(args, env)


def rounds(args: argparse.Namespace, env: dict[str, str]) -> None:
    runs: dict[str, list[tuple[float, float]]] = {}
    sizes = (0, 0)
    for r in range(-1, args.rounds):  # round -1 warms the bytecode cache
        with tempfile.TemporaryDirectory() as tmp:
            here = Path(tmp)
            db = here / "ladder.db"
            demo = [*LADDER, "demo", "--people", str(args.people), "--seed", str(args.seed), "-q"]
            steps: list[tuple[str, list[str]]] = [
                ("ladder --help", [*LADDER, "--help"]),
                ("floor: python -c 'import sqlite3'", [sys.executable, "-c", "import sqlite3"]),
                (f"ladder demo --people {args.people}", demo),
                (
                    "floor: raw sqlite3, same rows, 1 tx/command",
                    [sys.executable, "-c", RAW_WRITER, str(db), str(here / "raw.db")],
                ),
            ]
            for name, cmd in steps:
                took = timed(cmd, here, env)
                if r >= 0:
                    runs.setdefault(name, []).append(took)
            sizes = commands_in(db)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    events, commands = sizes
    print(
        f"ladder demo --people {args.people} --seed {args.seed}: {events} events from "
        f"{commands} commands, fresh SQLite file; {args.rounds} rounds, interleaved; "
        f"code from {args.root}"
    )
    print(f"{'':46} {'wall median':>12} {'best':>7} {'CPU median':>11} {'best':>7}")
    for name, got in runs.items():
        walls = [w for w, _ in got]
        cpus = [c for _, c in got]
        print(
            f"{name:46} {statistics.median(walls):11.2f}s {min(walls):6.2f}s "
            f"{statistics.median(cpus):10.2f}s {min(cpus):6.2f}s"
        )


if __name__ == "__main__":
    main()
