"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
from typing import Any

from shoal.project import Project


def project(args: argparse.Namespace) -> Project:
    return Project.load(getattr(args, "config", None))


def add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default="default", help="database alias from [tool.shoal.databases]")


def describe_step(migration: Any) -> str:
    return f"{migration.app_label}.{migration.name}"
