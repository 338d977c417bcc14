"""``shoal squashmigrations APP [START] MIGRATION``: replace a run of migrations by one."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from shoal.cli.commands._common import project
from shoal.cli.output import Output
from shoal.exceptions import QuestionError

HELP = "Squash an app's migrations up to MIGRATION (from START) into one migration that replaces them."

_AFTERWORD = (
    "  You should commit this migration but leave the old ones in place;\n"
    "  the new migration will be used for new installs. Once you are sure\n"
    "  all instances of the codebase have applied the migrations you squashed,\n"
    "  you can delete them."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label", help="the app whose migrations to squash")
    parser.add_argument("start_migration_name", nargs="?", metavar="START",
                        help="first migration to squash (default: the app's first)")
    parser.add_argument("migration_name", metavar="MIGRATION", help="last migration to squash (name or prefix)")
    parser.add_argument("--no-optimize", action="store_true", help="do not optimize the operations")
    parser.add_argument("--squashed-name", help="name of the new migration (after its number)")
    parser.add_argument("--noinput", "--no-input", action="store_true", dest="noinput",
                        help="do not ask for confirmation")


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    interactive = not args.noinput

    def confirm(plan: Any) -> bool:
        if out.verbosity > 0 or interactive:
            out.write(out.heading("Will squash the following migrations:"), level=0)
            for migration in plan.squashed:
                out.write(f" - {migration.name}", level=0)
        return not interactive or ask(out, "Do you wish to proceed? [yN] ")

    result = proj.squash_migrations(
        args.app_label, args.migration_name, args.start_migration_name,
        optimize=not args.no_optimize, squashed_name=args.squashed_name, confirm=confirm,
    )
    if not result.written:
        out.write("Squash cancelled; nothing was written.")
        return 0
    plan = result.plan
    if not plan.optimized:
        out.write("  (Skipping optimization.)")
    elif plan.final_count == plan.original_count:
        out.write("  No optimizations possible.")
    else:
        out.write(f"  Optimized from {plan.original_count} operations to {plan.final_count} operations.")
    if plan.elided:
        out.write(f"  Dropped {plan.elided} elidable operation(s).", level=2)
    out.write(out.heading(f"Created new squashed migration {_display(result.path)}"))
    out.write(_AFTERWORD)
    if result.rendered.needs_manual_porting:
        out.write("")
        out.write(out.heading("Manual porting required"))
        out.write("  Some RunPython functions could not be copied into the new migration; it\n"
                  "  refers to them in the old files. See the comment at the top of the new\n"
                  "  migration: move them before you delete the old files.")
    return 0


def ask(out: Output, prompt: str) -> bool:
    """y/n on stdin; an empty answer is no."""
    while True:
        out.write(prompt, level=0, end="")
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line:
            raise QuestionError(
                "No answer to 'Do you wish to proceed?' (end of input); nothing was written. "
                "Answer y, or pass --noinput to squash without asking."
            )
        answer = line.strip().lower()
        if not answer or answer[0] == "n":
            return False
        if answer[0] == "y":
            return True


def _display(path: os.PathLike[str]) -> str:
    text = os.fspath(path)
    rel = os.path.relpath(text)
    return text if rel.startswith("..") else rel
