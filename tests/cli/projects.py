"""Temporary shoal projects for command tests, run in subprocesses like a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


class TempProject:
    """A project directory with pyproject.toml and app packages."""

    def __init__(self, path: Path, apps: list[str], db_url: str, extra_toml: str = "") -> None:
        self.path = path
        self.db_url = db_url
        path.mkdir(parents=True, exist_ok=True)
        apps_list = ", ".join(f'"{a}"' for a in apps)
        (path / "pyproject.toml").write_text(
            f'[tool.shoal]\napps = [{apps_list}]\n{extra_toml}\n[tool.shoal.databases]\ndefault = "{db_url}"\n'
        )
        for app in apps:
            (path / app).mkdir(exist_ok=True)
            (path / app / "__init__.py").write_text("")

    def write(self, relative: str, source: str) -> Path:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip())
        return target

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text()

    def shoal(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        environ = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})}
        environ.pop("DATABASE_URL", None)
        proc = subprocess.run(
            [sys.executable, "-m", "shoal", *args], cwd=self.path, input=stdin, capture_output=True,
            text=True, env=environ, timeout=300,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)
