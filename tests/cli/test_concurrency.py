"""Concurrent deploys: N `shoal migrate` processes at once apply each migration exactly once."""

from __future__ import annotations

import os
import subprocess
import sys

from shoal.db.connections import create_connection
from tests.cli.projects import ROOT, TempProject

N_PROCESSES = 4


def test_parallel_migrate_applies_each_migration_once(tmp_path, db_url):
    """All processes exit 0, every migration is recorded once, the late ones find nothing to do."""
    proj = TempProject(tmp_path / "proj", ["shop"], db_url)
    proj.write("shop/models.py", "from shoal import models\n")
    proj.write("shop/migrations/__init__.py", "")
    for i in range(1, 9):
        deps = f'[("shop", "{i - 1:04d}_step")]' if i > 1 else "[]"
        proj.write(f"shop/migrations/{i:04d}_step.py", f"""
            from shoal import migrations, models

            class Migration(migrations.Migration):
                dependencies = {deps}
                operations = [
                    migrations.CreateModel("Thing{i}", [
                        ("id", models.BigAutoField(primary_key=True, auto_created=True, serialize=False)),
                        ("name", models.CharField(max_length=50)),
                    ]),
                ]
        """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("DATABASE_URL", None)
    procs = [
        subprocess.Popen([sys.executable, "-m", "shoal", "migrate", "--lock-timeout", "120"], cwd=proj.path,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(N_PROCESSES)
    ]
    outputs = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for code, out, err in outputs:
        assert code == 0, err
    applying = [line for _, out, _ in outputs for line in out.splitlines() if line.startswith("  Applying")]
    assert sorted(applying) == sorted(f"  Applying shop.{i:04d}_step... OK" for i in range(1, 9))
    nothing = [out for _, out, _ in outputs if "No migrations to apply." in out]
    assert len(nothing) >= N_PROCESSES - 1
    conn = create_connection("check", db_url)
    try:
        rows = conn.fetchall("SELECT app, name FROM shoal_migrations ORDER BY id")
    finally:
        conn.close()
    assert rows == [("shop", f"{i:04d}_step") for i in range(1, 9)]
