"""``makemigrations --merge``: write merge migrations for conflicting leaves."""

from __future__ import annotations

import argparse

from shoal.cli.output import Output
from shoal.migrations.merge import plan_merges
from shoal.migrations.writer import MigrationWriter
from shoal.project import Project


def handle(proj: Project, args: argparse.Namespace, out: Output, interactive: bool) -> int:
    loader = proj.loader()
    conflicts = loader.detect_conflicts()
    if args.app_label:
        conflicts = {app: names for app, names in conflicts.items() if app in args.app_label}
    if not conflicts:
        out.write("No conflicts detected to merge.")
        return 0
    for plan in plan_merges(loader, conflicts, args.name):
        out.write(out.heading(f"Merging {plan.app_label}"))
        for leaf, migrations in plan.branches.items():
            out.write(out.label(f"  Branch {leaf}"))
            for migration in migrations:
                for op in migration.operations:
                    out.write(f"    {op.formatted_description()}")
        if interactive:
            out.write("\nMerging will only work if the operations printed above do not conflict\n"
                      "with each other (working on different fields or models)")
            answer = input("Should these migration branches be merged? [y/N] ").strip().lower()
            if not answer.startswith("y"):
                continue
        source = MigrationWriter(plan.migration).as_string()
        path = proj.migrations_directory(plan.app_label) / f"{plan.migration.name}.py"
        if args.dry_run or args.check:
            out.write(f"\nWould create merge migration {path}")
            if out.verbosity >= 3:
                out.write(source)
            continue
        path.write_text(source, encoding="utf-8")
        out.write(f"\nCreated new merge migration {path}")
    return 0
