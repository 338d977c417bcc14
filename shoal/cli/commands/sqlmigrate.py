"""``shoal sqlmigrate``: the SQL a migration runs (computed, not executed)."""

from __future__ import annotations

import argparse

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
    statements = proj.sql_migrate(args.app_label, args.migration_name, backwards=args.backwards, database=args.database)
    if not statements:
        out.write("-- (no-op)")
    for statement in statements:
        out.write(statement)
    return 0
