"""``shoal migrate``: apply or unapply migrations on a database."""

from __future__ import annotations

import argparse
from typing import Any

from shoal.cli.commands import _checks
from shoal.cli.commands._common import add_database, describe_step, project
from shoal.cli.output import Output

HELP = "Update the database schema: apply (or unapply) migrations."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label", nargs="?", help="only this app (and what it depends on)")
    parser.add_argument("migration_name", nargs="?", help="target migration (prefix) or 'zero' to unapply all")
    add_database(parser)
    parser.add_argument("--fake", action="store_true", help="record the migrations as run without running them")
    parser.add_argument("--fake-initial", action="store_true",
                        help="fake initial migrations whose tables (and columns) all exist already")
    parser.add_argument("--plan", action="store_true", help="show the operations that would run, run nothing")
    parser.add_argument("--check", action="store_true", help="exit 1 if there are unapplied migrations (runs nothing)")
    parser.add_argument("--run-syncdb", action="store_true", help="create tables of apps without migrations")
    parser.add_argument("--lock-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="how long to wait for another migrate on the same database (default 300)")
    parser.add_argument("--noinput", "--no-input", action="store_true", dest="noinput", help="never prompt")
    _checks.add_skip_checks(parser)


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    progress = _Progress(out)
    executor = proj.executor(args.database, progress=progress)
    proj.ensure_no_conflicts(executor.loader)
    # Refuse an inconsistent history before --plan/--check report on it (migrate re-checks under the lock).
    executor.loader.check_consistent_history(executor.loader.applied_migrations, database=args.database)
    targets = proj.resolve_targets(executor, args.app_label, args.migration_name)
    wanted = targets if targets is not None else executor.leaf_targets()
    plan = executor.migration_plan(wanted)
    if args.check:
        return 1 if plan else 0
    if plan or args.run_syncdb:
        # The system checks stop a migrate that would change something (one with
        # nothing to do never imports the models, so it stays fast).
        _checks.run_before(proj, args, out)
        from shoal.cli import collect_garbage

        collect_garbage()  # migrations run user code at length: collect as usual
    if args.plan:
        _print_plan(out, plan, proj.plan_notes(executor, plan))
        return 0
    out.write(out.heading("Operations to perform:"))
    unmigrated = sorted(executor.loader.unmigrated_apps)
    if args.run_syncdb and unmigrated:
        out.write(f"  Synchronize unmigrated apps: {', '.join(unmigrated)}")
    if targets is None:
        labels = sorted(executor.loader.migrated_apps)
        out.write(f"  Apply all migrations: {', '.join(labels) if labels else '(none)'}")
    elif targets[0][1] is None:
        out.write(f"  Unapply all migrations: {targets[0][0]}")
    else:
        out.write(f"  Target specific migration: {targets[0][1]}, from {targets[0][0]}")
    if args.run_syncdb and unmigrated:
        out.write(out.heading("Synchronizing apps without migrations:"))
        out.write("  Creating tables...")
        for table in proj.sync_unmigrated(args.database):
            out.write(f"    Creating table {table}")
        out.write("    Running deferred SQL...")
    out.write(out.heading("Running migrations:"))
    try:
        done = executor.migrate(targets, fake=args.fake, fake_initial=args.fake_initial,
                                lock_timeout=args.lock_timeout)
    finally:
        progress.end_line()
    if not done:
        out.write("  No migrations to apply.")
    return 0


def _print_plan(out: Output, plan: list[Any], notes: dict[tuple[str, str], dict[int, list[Any]]]) -> None:
    """Each migration and its operations; under an operation, what its SQL will
    rewrite or lock (``    ! rewrites table "x": ...``), as sqlmigrate notes it."""
    out.write(out.heading("Planned operations:"))
    if not plan:
        out.write("  No planned migration operations.")
        return
    for step in plan:
        out.write(describe_step(step.migration))
        by_operation = notes.get(step.key, {})
        for index, op in enumerate(step.migration.operations):
            out.write("    " + describe_planned(op, step.backwards))
            for note in by_operation.get(index, ()):
                out.write("    " + out.notice("! " + note.summary))


def describe_planned(op: Any, backwards: bool) -> str:
    """One line of ``--plan``, as Django writes it: RunPython shows its code's
    docstring and RunSQL its SQL (``-> IRREVERSIBLE`` when there is no reverse);
    other operations going back are prefixed ``Undo``."""
    if hasattr(op, "code"):
        code = op.reverse_code if backwards else op.code
        action = (code.__doc__ or "") if code is not None else None
    elif hasattr(op, "sql"):
        action = op.reverse_sql if backwards else op.sql
    else:
        return f"Undo {op.describe()}" if backwards else op.describe()
    if action is None:
        action = "IRREVERSIBLE"
    action = " ".join(str(action).split())
    action = f" -> {action}" if action else ""
    if len(action) > 40:
        action = action[:39] + "…"
    return op.describe() + action


class _Progress:
    """Prints "Applying books.0001_initial... OK" as the executor goes."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.line_open = False

    def end_line(self) -> None:
        """Finish an "Applying x..." line a failure left open (the error follows on stderr)."""
        if self.line_open:
            self.line_open = False
            self.out.write("")

    def __call__(self, event: str, migration: Any = None, **info: Any) -> None:
        if event == "apply_start":
            self.out.write(f"  Applying {describe_step(migration)}...", end="")
            self.line_open = True
        elif event == "unapply_start":
            self.out.write(f"  Unapplying {describe_step(migration)}...", end="")
            self.line_open = True
        elif event in ("apply_success", "unapply_success"):
            self.line_open = False
            outcome = info.get("outcome", "OK")
            self.out.write(" " + (self.out.success(outcome) if outcome == "OK" else self.out.notice(outcome)))
