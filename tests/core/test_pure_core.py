"""The pure core imports no database driver and the public surface is exact."""

from __future__ import annotations

import subprocess
import sys

from tests.cli.projects import ROOT

PURE = [
    "shoal.migrations.state", "shoal.migrations.graph", "shoal.migrations.autodetector",
    "shoal.migrations.optimizer", "shoal.migrations.serializer", "shoal.migrations.writer",
    "shoal.migrations.loader", "shoal.migrations.squash", "shoal.models",
]
DRIVERS = ["sqlite3", "_sqlite3", "psycopg", "pymysql", "MySQLdb"]


def test_pure_core_loads_no_driver():
    """Importing state, graph, autodetector, optimizer, serializer and writer loads no driver."""
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + f"print(sorted(d for d in {DRIVERS!r} if d in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_surface():
    """`from shoal import migrations, models` and shoal.setup are the public names."""
    import shoal

    assert set(shoal.__all__) == {"setup", "__version__", "migrations", "models", "deconstructible"}
    from shoal import migrations, models

    assert migrations.Migration and migrations.CreateModel and models.Model and models.CharField


def test_every_command_has_help():
    """Every CLI command answers --help with its description."""
    from shoal.cli import COMMANDS

    for name in COMMANDS:
        out = subprocess.run([sys.executable, "-m", "shoal", name, "--help"], cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert f"usage: shoal {name}" in out.stdout
