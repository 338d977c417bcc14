"""``shoal COMMAND``: argument parsing and error reporting only.

Each command lives in ``shoal.cli.commands.<name>`` with ``HELP``,
``add_arguments(parser)`` and ``handle(args, out) -> int``; the work itself
is done by :class:`shoal.project.Project`.  A :class:`ShoalError` is a user
mistake: printed as one paragraph, no traceback unless ``--traceback``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from typing import Any, Sequence

from shoal import __version__
from shoal.cli.output import Output
from shoal.exceptions import ShoalError

COMMANDS = ["makemigrations", "migrate", "showmigrations", "sqlmigrate", "squashmigrations", "optimizemigration",
            "check"]


def _command_module(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"shoal.cli.commands.{name}")


class _Parser(argparse.ArgumentParser):
    """argparse's parser; while it is being built, the formatter argparse makes
    to check each argument gets a fixed width instead of measuring the
    terminal (which imports ``shutil``): help text is formatted afterwards,
    for the real terminal, exactly as before."""

    _building = False

    def _get_formatter(self) -> Any:
        if _Parser._building:
            return self.formatter_class(prog=self.prog, width=80)  # type: ignore[call-arg]
        return super()._get_formatter()


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    _Parser._building = True
    try:
        return _build_parser(selected)
    finally:
        _Parser._building = False


def _build_parser(selected: str | None) -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="pyproject.toml with [tool.shoal] (default: search upwards; or SHOAL_CONFIG)")
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback on errors")
    common.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=argparse.SUPPRESS,
                        help="0 = minimal output, 1 = normal, 2 = verbose, 3 = very verbose")
    parser = _Parser(
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
    """Entry point of the ``shoal`` script; returns the exit code.

    The cyclic garbage collector is paused while the command runs: a command
    builds hundreds of thousands of long-lived objects (model classes, fields,
    the migration graph) that every full collection would walk again, for
    little garbage.  Work that runs user code at length (``migrate`` applying
    migrations) turns it back on with :func:`collect_garbage`; the previous
    setting is restored on return.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


def collect_garbage() -> None:
    """Turn the collector back on for the rest of a command (see :func:`main`)."""
    gc.enable()


def _main(argv: Sequence[str] | None) -> int:
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
            import traceback

            traceback.print_exc()
        out.error(f"Error: {exc}")
        code_trace = getattr(exc, "traceback_text", None)
        if code_trace and not args.traceback:
            out.error(code_trace.rstrip())
        return exc.exit_code


def run() -> None:
    """The ``shoal`` script: run the command, then exit.

    Everything the command built is moved out of the collector's sight
    (``gc.freeze``) first, so the collection the interpreter makes as it shuts
    down does not walk the whole heap once more; finalization is otherwise the
    usual one (buffers flushed, atexit handlers run).
    """
    code = main()
    gc.freeze()
    sys.exit(code)
