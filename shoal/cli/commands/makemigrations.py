"""``shoal makemigrations``: write migrations for model changes."""

from __future__ import annotations

import argparse
import os
import sys

from shoal.cli.commands import _checks
from shoal.cli.commands._common import project
from shoal.cli.output import Output
from shoal.cli.questioner import InteractiveQuestioner
from shoal.migrations.questioner import NonInteractiveQuestioner

HELP = "Create new migrations based on the changes detected to your models."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label", nargs="*", help="only these apps")
    parser.add_argument("-n", "--name", help="use this name for the migration file(s)")
    parser.add_argument("--empty", action="store_true", help="create an empty migration (for a data migration)")
    parser.add_argument("--dry-run", action="store_true", help="show what would be written, write nothing")
    parser.add_argument("--check", action="store_true", help="exit 1 if model changes are missing migrations (writes nothing)")
    parser.add_argument("--merge", action="store_true", help="fix migration conflicts")
    parser.add_argument("--noinput", "--no-input", action="store_true", dest="noinput",
                        help="never prompt (no renames assumed; a new non-null field needs a default)")
    _checks.add_skip_checks(parser)


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    _checks.run_before(proj, args, out)
    interactive = not args.noinput and sys.stdin is not None and (sys.stdin.isatty() or os.environ.get("SHOAL_FORCE_INTERACTIVE"))
    dry_run = args.dry_run or args.check
    if interactive:
        questioner = InteractiveQuestioner(specified_apps=set(args.app_label), dry_run=dry_run)
    else:
        questioner = NonInteractiveQuestioner(set(args.app_label), dry_run=dry_run)
    if args.merge:
        from shoal.cli.commands import _merge

        return _merge.handle(proj, args, out, interactive)
    result = proj.make_migrations(args.app_label, name=args.name, empty=args.empty, dry_run=dry_run,
                                  questioner=questioner)
    if result.empty:
        if args.app_label and len(args.app_label) == 1:
            out.write(f"No changes detected in app '{args.app_label[0]}'")
        elif args.app_label:
            out.write(f"No changes detected in apps '{', '.join(args.app_label)}'")
        else:
            out.write("No changes detected")
        return 0
    for label, written in result.changes.items():
        out.write(out.heading(f"Migrations for '{label}':"))
        for item in written:
            out.write(f"  {out.label(_display(item.path))}")
            for op in item.migration.operations:
                out.write(f"    {op.formatted_description()}")
            if args.dry_run and out.verbosity >= 3:
                out.write(item.source)
    return 1 if args.check else 0


def _display(path: os.PathLike[str]) -> str:
    text = os.fspath(path)
    rel = os.path.relpath(text)
    return text if rel.startswith("..") else rel
