"""``shoal showmigrations``: which migrations exist and which are applied."""

from __future__ import annotations

import argparse

from shoal.cli.commands._common import add_database, project
from shoal.cli.output import Output
from shoal.migrations.recorder import MigrationRecorder

HELP = "Show all migrations and whether they are applied."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label", nargs="*", help="only these apps")
    parser.add_argument("-p", "--plan", action="store_true", help="show the migrations in the order they apply")
    parser.add_argument("-l", "--list", action="store_true", help="list by app (the default)")
    add_database(parser)


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    proj.check_app_labels(args.app_label)
    connection = proj.connection(args.database)
    recorder = MigrationRecorder(connection)
    # Times are shown only at -v 2: otherwise the keys will do.
    recorded = recorder.applied_migrations() if out.verbosity >= 2 else dict.fromkeys(recorder.applied_keys())
    loader = proj.loader(set(recorded))
    graph = loader.graph
    applied = loader.applied_migrations
    if args.plan:
        targets = [k for k in graph.leaf_nodes() if not args.app_label or k[0] in args.app_label]
        for key in graph.forwards_plan_many(targets):
            mark = "[X]" if key in applied else "[ ]"
            line = f"{mark}  {key[0]}.{key[1]}"
            if out.verbosity >= 2:
                parents = sorted(graph.node_map[key].parents)
                if parents:
                    line += " ... (" + ", ".join(f"{a}.{n}" for a, n in parents) + ")"
            out.write(line)
        if not targets:
            out.write("(no migrations)")
        return 0
    labels = sorted(args.app_label or [a.label for a in proj.app_specs])
    plans = graph.app_plans(labels)
    verbose = out.verbosity >= 2
    for label in labels:
        # One write per app: the lines are the same, the pipe sees far fewer flushes.
        lines = [out.label(label)]
        for key in plans[label]:
            migration = graph.nodes[key]
            replaces = list(getattr(migration, "replaces", None) or [])
            title = key[1]
            if replaces:
                done = sum(1 for r in replaces if r in recorded)
                title += f" ({len(replaces)} squashed migrations)"
                mark = "[X]" if key in applied else ("[-]" if done else "[ ]")
            else:
                mark = "[X]" if key in applied else "[ ]"
            if verbose and key in recorded and recorded[key] is not None:
                title += f" (applied at {_when(recorded[key])})"
            lines.append(f" {mark} {title}")
        if len(lines) == 1:
            lines.append(" (no migrations)")
        out.write("\n".join(lines))
    return 0


def _when(value: object) -> str:
    """The recorded time as text (SQLite hands it back as a string)."""
    import datetime

    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return str(value)[:19].replace("T", " ")
