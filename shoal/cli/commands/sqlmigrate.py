"""``shoal sqlmigrate``: the SQL a migration runs (computed, not executed).

Before a statement that will rewrite, copy or read every row of a table that
may hold rows, one ``-- NOTE: ...`` comment line per note says what it does and
what it locks, so that the output still runs when piped into psql, mysql or
sqlite3.
"""

from __future__ import annotations

import argparse
from typing import Any

from shoal.cli.commands._common import add_database, project
from shoal.cli.output import Output

HELP = "Print the SQL statements of a migration (no database connection needed)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label")
    parser.add_argument("migration_name", help="migration name or unique prefix")
    parser.add_argument("--backwards", action="store_true", help="the SQL to unapply it")
    add_database(parser)


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    lines = proj.sql_migrate_lines(args.app_label, args.migration_name, backwards=args.backwards,
                                   database=args.database)
    if not lines:
        out.write("-- (no-op)")
    for line in lines:
        for note in line.notes:
            out.write(note_comment(note))
        out.write(line.sql)
    return 0


def note_comment(note: Any) -> str:
    """A note as one SQL comment line (``--`` and a space: a comment for every backend)."""
    return "-- NOTE: " + note.summary  # one line: SchemaNote.summary folds whitespace
