"""Several databases: `--database NAME` on migrate/showmigrations/sqlmigrate, and routers.

Routers' ``allow_migrate`` decides which operations run on which database;
every migration is recorded on each database it is run against, as Django
does.  sqlmigrate computes SQL for a database without connecting to it.
"""

from __future__ import annotations

import re

import pytest

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

CATALOG = """
from shoal import models


class Item(models.Model):
    name = models.CharField(max_length=40)
"""

EVENTS = """
from shoal import models


class Event(models.Model):
    kind = models.CharField(max_length=20)
"""

# Events live on "other" only, everything else on "default"; RunPython/RunSQL
# operations may say where they belong with hints={"target_db": ...}.
ROUTER = """
class EventsRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if "target_db" in hints:
            return db == hints["target_db"]
        if app_label == "events":
            return db == "other"
        return db == "default"
"""

SEED = """
from shoal import migrations


def seed(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    Event.objects.create(kind="seeded-" + schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunSQL(
            "INSERT INTO events_event (kind) VALUES ('sql-hinted')",
            "DELETE FROM events_event WHERE kind = 'sql-hinted'",
            hints={"target_db": "other"},
        ),
    ]
"""


def add_database(proj: TempProject, alias: str, url: str) -> None:
    """Append another entry to [tool.shoal.databases] (the last table of the file)."""
    config = proj.path / "pyproject.toml"
    config.write_text(config.read_text() + f'{alias} = "{url}"\n')


def snapshot(url: str) -> tuple[set[str], list[tuple[str, str]]]:
    """(tables, recorded migrations) read back from one database."""
    conn = create_connection("snap", url)
    try:
        tables = set(conn.introspection.table_names())
        rows = []
        if "shoal_migrations" in tables:
            rows = [tuple(r) for r in conn.fetchall("SELECT app, name FROM shoal_migrations ORDER BY app, name")]
        return tables, rows  # type: ignore[return-value]
    finally:
        conn.close()


def event_kinds(url: str) -> list[str]:
    conn = create_connection("rows", url)
    try:
        return sorted(r[0] for r in conn.fetchall("SELECT kind FROM events_event"))
    finally:
        conn.close()


@pytest.fixture
def two_dbs(tmp_path, vendor, db_url, database_factory):
    """A project with "default" and "other" (both fresh databases of ``vendor``)."""
    other = database_factory(vendor)
    proj = TempProject(tmp_path / "p", ["catalog"], db_url)
    add_database(proj, "other", other)
    proj.write("catalog/models.py", CATALOG)
    assert proj.shoal("makemigrations").code == 0
    return proj, db_url, other


def test_migrate_database_only_touches_that_database(two_dbs):
    """migrate --database other applies there only; showmigrations --database tells them apart."""
    proj, default, other = two_dbs
    result = proj.shoal("migrate", "--database", "other")
    assert result.code == 0, result.err
    assert "  Applying catalog.0001_initial... OK" in result.out
    assert snapshot(other) == ({"catalog_item", "shoal_migrations"}, [("catalog", "0001_initial")])
    assert "catalog_item" not in snapshot(default)[0]
    assert " [X] 0001_initial" in proj.shoal("showmigrations", "--database", "other").out
    assert " [ ] 0001_initial" in proj.shoal("showmigrations").out
    assert proj.shoal("migrate", "--check", "--database", "other").code == 0
    assert proj.shoal("migrate", "--check").code == 1
    plan = proj.shoal("showmigrations", "--plan", "--database", "other")
    assert plan.out.splitlines() == ["[X]  catalog.0001_initial"]
    back = proj.shoal("migrate", "catalog", "zero", "--database", "other")
    assert back.code == 0, back.err
    assert snapshot(other)[1] == [] and "catalog_item" not in snapshot(other)[0]


def test_unknown_database_alias(two_dbs):
    """--database with an alias that is not configured names the configured ones."""
    proj, _, _ = two_dbs
    for command in (["migrate"], ["showmigrations"], ["sqlmigrate", "catalog", "0001"]):
        result = proj.shoal(*command, "--database", "nope")
        assert result.code != 0 and "Traceback" not in result.err
        assert "'nope'" in result.err and "default" in result.err and "other" in result.err, result.err


def test_routers_decide_operations_but_every_migration_is_recorded(two_dbs):
    """allow_migrate routes each app's tables (and hinted RunSQL/RunPython) to one database;
    both databases record every migration."""
    proj, default, other = two_dbs
    config = proj.path / "pyproject.toml"
    config.write_text(config.read_text().replace(
        'apps = ["catalog"]', 'apps = ["catalog", "events"]\nrouters = ["dbrouters.EventsRouter"]'))
    proj.write("dbrouters.py", ROUTER)
    proj.write("events/__init__.py", "")
    proj.write("events/models.py", EVENTS)
    assert proj.shoal("makemigrations", "events").code == 0
    proj.write("events/migrations/0002_seed.py", SEED)
    everything = [("catalog", "0001_initial"), ("events", "0001_initial"), ("events", "0002_seed")]

    on_default = proj.shoal("migrate")
    assert on_default.code == 0, on_default.err
    assert re.findall(r"Applying (\S+)\.\.\. OK", on_default.out) == [f"{a}.{n}" for a, n in everything]
    tables, rows = snapshot(default)
    assert "catalog_item" in tables and "events_event" not in tables
    assert rows == everything

    on_other = proj.shoal("migrate", "--database", "other")
    assert on_other.code == 0, on_other.err
    tables, rows = snapshot(other)
    assert "events_event" in tables and "catalog_item" not in tables
    assert rows == everything
    # RunPython (no hints: routed by app) wrote through the migration's own connection.
    assert event_kinds(other) == ["seeded-other", "sql-hinted"]

    # sqlmigrate follows the routers too.
    assert "events_event" not in proj.shoal("sqlmigrate", "events", "0001").out
    assert "CREATE TABLE" in proj.shoal("sqlmigrate", "events", "0001", "--database", "other").out

    # Unapplying is routed the same way.
    back = proj.shoal("migrate", "events", "zero", "--database", "other")
    assert back.code == 0, back.err
    tables, rows = snapshot(other)
    assert "events_event" not in tables and rows == [("catalog", "0001_initial")]
    assert snapshot(default)[1] == everything


UNREACHABLE = {
    "postgresql": "postgresql://x@127.0.0.1:1/none",
    "mysql": "mysql://x@127.0.0.1:1/none",
}


@pytest.mark.parametrize("target", ["postgresql", "mysql", "sqlite"])
def test_sqlmigrate_database_does_not_connect(tmp_path, target):
    """sqlmigrate --database prints that backend's SQL without connecting: a server that does
    not exist (or an SQLite file in a missing directory) is fine."""
    proj = TempProject(tmp_path / "p", ["catalog"], f"sqlite:///{tmp_path}/main.sqlite3")
    missing_sqlite = tmp_path / "no" / "such" / "dir" / "x.sqlite3"
    add_database(proj, "other", UNREACHABLE.get(target, f"sqlite:///{missing_sqlite}"))
    proj.write("catalog/models.py", CATALOG)
    assert proj.shoal("makemigrations").code == 0
    result = proj.shoal("sqlmigrate", "catalog", "0001", "--database", "other")
    assert result.code == 0, result.err
    create = next(line for line in result.out.splitlines() if line.startswith("CREATE TABLE"))
    if target == "postgresql":
        assert result.out.startswith("BEGIN;") and result.out.rstrip().endswith("COMMIT;")
        assert '"catalog_item"' in create and "bigint" in create and "IDENTITY" in create.upper(), create
        assert '"name" varchar(40) NOT NULL' in create, create
    elif target == "mysql":
        assert "BEGIN;" not in result.out
        assert "`catalog_item`" in create and "AUTO_INCREMENT" in create.upper(), create
        assert "`name` varchar(40) NOT NULL" in create, create
    else:
        assert '"catalog_item"' in create and "AUTOINCREMENT" in create.upper(), create
        assert not missing_sqlite.parent.exists()
    backwards = proj.shoal("sqlmigrate", "catalog", "0001", "--backwards", "--database", "other")
    assert backwards.code == 0, backwards.err
    assert "DROP TABLE" in backwards.out and "catalog_item" in backwards.out
    assert not (tmp_path / "main.sqlite3").exists()  # the default database is never opened either


@pytest.mark.backends("postgresql", "mysql")
def test_mixed_backends_in_one_project(tmp_path, vendor, database_factory):
    """A SQLite default and a server database as "other" are migrated independently."""
    other = database_factory(vendor)
    default = f"sqlite:///{tmp_path}/main.sqlite3"
    proj = TempProject(tmp_path / "p", ["catalog"], default)
    add_database(proj, "other", other)
    proj.write("catalog/models.py", CATALOG)
    assert proj.shoal("makemigrations").code == 0
    for alias, url in (("other", other), ("default", default)):
        result = proj.shoal("migrate", "--database", alias)
        assert result.code == 0, result.err
        assert snapshot(url) == ({"catalog_item", "shoal_migrations"}, [("catalog", "0001_initial")])
