"""``shoal optimizemigration APP MIGRATION``: rewrite one migration with fewer operations."""

from __future__ import annotations

import argparse

from shoal.cli.commands._common import project
from shoal.cli.commands.squashmigrations import _display
from shoal.cli.output import Output

HELP = "Optimize the operations of one migration and rewrite its file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label", help="the app of the migration")
    parser.add_argument("migration_name", metavar="MIGRATION", help="the migration (name or prefix)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the migration can be optimized")


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    result = proj.optimize_migration(args.app_label, args.migration_name, check=args.check)
    plan = result.plan
    if not plan.changed:
        out.write("No optimizations possible.")
        return 0
    out.write(f"Optimizing from {len(plan.migration.operations)} operations to {len(plan.operations)} operations.")
    if args.check:
        return 1
    if result.replacement:
        out.write(out.heading("Manual porting required"))
        out.write(f"  Some RunPython functions of {plan.migration.name} could not be copied into a rewritten\n"
                  f"  file, so {plan.migration.name} is kept and the optimized migration replaces it.\n"
                  "  See the comment at the top of the new migration.")
    out.write(out.heading(f"Optimized migration {_display(result.path)}"))
    return 0
