"""``shoal check``: run the system checks and report what they find."""

from __future__ import annotations

import argparse

from shoal import checks
from shoal.cli.commands._checks import report
from shoal.cli.commands._common import project
from shoal.cli.output import Output

HELP = "Check the models for problems (the system checks) without changing anything."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app_label", nargs="*", help="only these apps")
    parser.add_argument("--database", action="append", default=[], metavar="NAME",
                        help="also run the checks that need this database (repeatable)")
    parser.add_argument("--deploy", action="store_true",
                        help="also run the deployment checks (shoal has none beyond the others yet)")
    parser.add_argument("--fail-level", default="ERROR", choices=sorted(checks.LEVELS, key=lambda name: checks.LEVELS[name]),
                        help="the level that makes the command fail (default ERROR)")


def handle(args: argparse.Namespace, out: Output) -> int:
    proj = project(args)
    proj.check_app_labels(list(args.app_label))
    messages = checks.run_checks(proj.registry, args.app_label or None)
    for alias in args.database:
        messages += checks.check_database(proj.connection(alias))
    messages, silenced = checks.silence(messages, proj.settings.silenced_system_checks)
    report(messages, out, checks.LEVELS[args.fail_level], silenced)
    if not messages:
        out.write(checks.format_messages(messages, silenced))
    return 0
