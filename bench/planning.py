#!/usr/bin/env python3
"""Benchmark: shoal (and Django, when installed) on one generated project.

Generates a project of A apps x M migrations with ../shared/bench/gen_project.py
in both flavours from one seed, then times, as whole commands (what a user
waits for), the median of --repeat runs of:

  migrate (from empty)   apply every migration to an empty database
  migrate (nothing)      decide that nothing is left to do
  showmigrations         list every migration with its state
  makemigrations (no cache)  makemigrations --check without shoal's cached end state
                         (__pycache__/shoal_state.pickle removed first); Django has no such cache
  makemigrations (warm)  makemigrations --check again, the cache in place
  makemigrations (new file)  makemigrations --check after a new migration was added to
                         the first app since the last run (the everyday case: shoal carries
                         its cached state on and replays only the new file)
  makemigrations (fresh) with --fresh: every __pycache__ of the project removed first
                         (a fresh checkout, as in CI: both tools compile every file)

and prints the figures, with Django's beside them as a ratio when
`import django` works in the interpreter running this script.

    python bench/planning.py --apps 20 --migrations 100 [--db sqlite|postgresql|mysql] [--fresh]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATOR_CANDIDATES = [ROOT.parent / "shared" / "bench" / "gen_project.py", ROOT / "bench" / "gen_project.py"]


def generator() -> Path:
    for candidate in GENERATOR_CANDIDATES:
        if candidate.exists():
            return candidate
    sys.exit("gen_project.py not found (expected ../shared/bench/gen_project.py)")


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,):
        sys.stderr.write(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}\n")
        raise SystemExit(1)
    return elapsed


def fresh_database(db: str, name: str) -> str | None:
    """Create an empty server database; returns shoal's URL for it."""
    if db == "postgresql":
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=root dbname=test", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://root@127.0.0.1:5432/{name}"
    if db == "mysql":
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        return f"mysql://root@127.0.0.1:3306/{name}"
    return None


def remove_state_cache(project: Path) -> None:
    """Forget shoal's cached end-of-history state (a no-op for Django)."""
    (project / "__pycache__" / "shoal_state.pickle").unlink(missing_ok=True)


NEW_MIGRATION = "9999_bench_new"


def add_migration(project: Path, import_line: str) -> Path:
    """A new (empty) migration on top of the first app's latest one, old enough
    for shoal to trust its timestamp (as any file written a few seconds ago)."""
    directory = sorted(p for p in project.glob("*/migrations") if p.is_dir())[0]
    latest = sorted(p.stem for p in directory.glob("[0-9]*.py") if p.stem != NEW_MIGRATION)[-1]
    path = directory / f"{NEW_MIGRATION}.py"
    path.write_text(f"{import_line}\n\n\nclass Migration(migrations.Migration):\n"
                    f"    dependencies = [({directory.parent.name!r}, {latest!r})]\n    operations = []\n")
    then = time.time() - 10
    os.utime(path, (then, then))
    return path


def remove_migration(path: Path) -> None:
    path.unlink()
    for compiled in path.parent.glob(f"__pycache__/{NEW_MIGRATION}.*"):
        compiled.unlink()


def remove_pycache(project: Path) -> None:
    """Every __pycache__ of the project, as after a fresh checkout."""
    for directory in sorted(project.rglob("__pycache__"), reverse=True):
        shutil.rmtree(directory, ignore_errors=True)


def time_tool(label: str, base: list[str], project: Path, env: dict[str, str], db: str, repeat: int,
              reset, fresh: bool = False) -> dict[str, float]:  # type: ignore[no-untyped-def]
    check = base + ["makemigrations", "--check", "--noinput"]
    import_line = "from shoal import migrations" if label == "shoal" else "from django.db import migrations"
    keys = ["migrate (from empty)", "migrate (nothing)", "showmigrations", "makemigrations (warm)",
            "makemigrations (new file)", "makemigrations (no cache)"] + (["makemigrations (fresh)"] if fresh else [])
    results: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(repeat):
        reset()
        results["migrate (from empty)"].append(run(base + ["migrate", "--noinput"], project, env))
        results["migrate (nothing)"].append(run(base + ["migrate", "--noinput"], project, env))
        results["showmigrations"].append(run(base + ["showmigrations"], project, env))
        remove_state_cache(project)
        results["makemigrations (no cache)"].append(run(check, project, env))
        results["makemigrations (warm)"].append(run(check, project, env))
        added = add_migration(project, import_line)
        results["makemigrations (new file)"].append(run(check, project, env))
        remove_migration(added)
        run(check, project, env)  # back to the history the other rows time
    for _ in range(repeat if fresh else 0):  # apart: it throws away the caches the rows above use
        remove_pycache(project)
        results["makemigrations (fresh)"].append(run(check, project, env))
    return {k: statistics.median(v) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--migrations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "mysql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-django", action="store_true", help="time shoal only")
    parser.add_argument("--fresh", action="store_true",
                        help="also time makemigrations --check with every __pycache__ removed (a fresh checkout)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shoal-bench-"))
    try:
        shoal_dir, django_dir = work / "shoal_proj", work / "django_proj"
        for flavor, out in (("shoal", shoal_dir), ("django", django_dir)):
            subprocess.run([sys.executable, str(generator()), "--flavor", flavor, "--apps", str(args.apps),
                            "--migrations", str(args.migrations), "--out", str(out), "--seed", str(args.seed)],
                           check=True, capture_output=True)
        time.sleep(2.1)  # files written just now are not trusted from shoal's header cache
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)

        def reset_shoal() -> None:
            url = fresh_database(args.db, "shoal_bench")
            if url:
                env["DATABASE_URL"] = url
            for f in shoal_dir.glob("db.sqlite3*"):
                f.unlink()

        shoal_times = time_tool("shoal", [sys.executable, "-m", "shoal"], shoal_dir, env, args.db, args.repeat, reset_shoal,
                                args.fresh)
        django_times = None
        have_django = False
        if not args.no_django:
            try:
                import django  # noqa: F401  (oracle only: timed as a separate process)

                have_django = True
            except ImportError:
                pass
        if have_django:
            denv = {**env, "BENCH_DB": args.db, "BENCH_DB_NAME": "django_bench", "DJANGO_SETTINGS_MODULE": "settings"}
            denv.pop("DATABASE_URL", None)

            def reset_django() -> None:
                fresh_database(args.db, "django_bench")
                for f in django_dir.glob("db.sqlite3*"):
                    f.unlink()

            django_times = time_tool("django", [sys.executable, "manage.py"], django_dir, denv, args.db, args.repeat,
                                     reset_django, args.fresh)

        print(f"\n{args.apps} apps x {args.migrations} migrations, {args.db}, median of {args.repeat}")
        header = f"{'command':<26}{'shoal':>10}"
        if django_times:
            header += f"{'django':>10}{'speed-up':>10}"
        print(header)
        for key, value in shoal_times.items():
            line = f"{key:<26}{value:>9.2f}s"
            if django_times:
                d = django_times[key]
                line += f"{d:>9.2f}s{d / value:>9.1f}x"
            print(line)
        if not django_times and not args.no_django:
            print("(Django is not installed in this interpreter: pip install django to compare)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
