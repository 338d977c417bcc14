"""Running the system checks before a command (makemigrations, migrate)."""

from __future__ import annotations

import argparse
from typing import Any

from shoal import checks
from shoal.cli.output import Output
from shoal.exceptions import SystemCheckError


def add_skip_checks(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-checks", action="store_true", help="do not run the system checks first")


def report(messages: list[checks.CheckMessage], out: Output, fail_level: int = checks.ERROR,
           silenced: int = 0) -> None:
    """Print warnings (stderr); raise :class:`SystemCheckError` listing them all when any is serious."""
    if any(m.is_serious(fail_level) for m in messages):
        raise SystemCheckError(checks.format_messages(messages, silenced), messages)
    if messages:
        out.error(checks.format_messages(messages, silenced))


def run_before(proj: Any, args: argparse.Namespace, out: Output, database: str | None = None) -> None:
    """The model checks (and the database's, when named) before a command does its work."""
    if getattr(args, "skip_checks", False):
        return
    messages = checks.run_checks(proj.registry)
    if database is not None:
        messages += checks.check_database(proj.connection(database))
    messages, silenced = checks.silence(messages, proj.settings.silenced_system_checks)
    report(messages, out, silenced=silenced)
