"""``shoal COMMAND``: argument parsing and error reporting only.

Each command lives in ``shoal.cli.commands.<name>`` with ``HELP``,
``add_arguments(parser)`` and ``handle(args, out) -> int``; the work itself
is done by :class:`shoal.project.Project`.  A :class:`ShoalError` is a user
mistake: printed as one paragraph, no traceback unless ``--traceback``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from typing import Sequence

from shoal import __version__
from shoal.cli.output import Output
from shoal.exceptions import ShoalError

COMMANDS = ["makemigrations", "migrate", "showmigrations", "sqlmigrate", "squashmigrations", "optimizemigration",
            "check"]


def _command_module(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"shoal.cli.commands.{name}")


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="pyproject.toml with [tool.shoal] (default: search upwards; or SHOAL_CONFIG)")
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback on errors")
    common.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=argparse.SUPPRESS,
                        help="0 = minimal output, 1 = normal, 2 = verbose, 3 = very verbose")
    parser = argparse.ArgumentParser(
        prog="shoal", description="Django-style schema migrations for any Python project.",
    )
    parser.add_argument("--version", action="version", version=f"shoal {__version__}")
    parser.add_argument("--config", metavar="PATH", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--traceback", action="store_true", default=False, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=1, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if selected is not None and name != selected:
            # Only the command being run is imported (its imports are not free).
            sub.add_parser(name, help=f"see 'shoal {name} --help'")
            continue
        module = _command_module(name)
        cmd = sub.add_parser(name, parents=[common], help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
    return parser


def _selected_command(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (skipping global options and their values)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in ("--config", "-v", "--verbosity"):
            skip = True
            continue
        if token.startswith("-"):
            continue
        return token if token in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shoal`` script; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(arguments))
    args = parser.parse_args(arguments)
    if not args.command:
        parser.print_help()
        return 2
    out = Output(verbosity=args.verbosity)
    try:
        return int(_command_module(args.command).handle(args, out) or 0)
    except KeyboardInterrupt:
        out.error("Interrupted.")
        return 130
    except ShoalError as exc:
        if args.traceback:
            traceback.print_exc()
        out.error(f"Error: {exc}")
        code_trace = getattr(exc, "traceback_text", None)
        if code_trace and not args.traceback:
            out.error(code_trace.rstrip())
        return exc.exit_code


def run() -> None:
    sys.exit(main())
