"""RunPython / RunSQL ``hints`` and routers' ``allow_migrate`` with several databases,
through ``shoal migrate --database NAME`` on every backend."""

from __future__ import annotations

import pytest

from tests.cli.projects import TempProject
from tests.cli.test_data_migrations import ok, sql, tables

MODELS = """
from shoal import models


class Log(models.Model):
    msg = models.CharField(max_length=60)
"""

ROUTERS = """
class HintRouter:
    \"\"\"Operations with a target_db hint run only there; app 'archive' lives only on 'other'.\"\"\"

    def db_for_write(self, model, **hints):
        return "default"

    def db_for_read(self, model, **hints):
        return "default"

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if "target_db" in hints:
            return db == hints["target_db"]
        if model_name == "secret":
            return db == "other"
        if app_label == "archive":
            return db == "other"
        return None
"""

DATA = """
from shoal import migrations


def note(text):
    def run(apps, schema_editor):
        # No using(): the migration's own connection is used, whatever db_for_write says.
        apps.get_model("people", "Log").objects.create(msg=f"{text} on {schema_editor.connection.alias}")
    run.__name__ = run.__qualname__ = "note_" + text.replace(" ", "_")
    return run


def explicit(apps, schema_editor):
    Log = apps.get_model("people", "Log")
    Log.objects.using(schema_editor.connection.alias).create(msg="explicit using")


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [
        migrations.RunPython(note("everywhere"), migrations.RunPython.noop),
        migrations.RunPython(note("default only"), migrations.RunPython.noop, hints={"target_db": "default"}),
        migrations.RunPython(note("other only"), migrations.RunPython.noop, hints={"target_db": "other"}),
        migrations.RunPython(note("secret"), migrations.RunPython.noop, hints={"model_name": "secret"}),
        migrations.RunPython(explicit, migrations.RunPython.noop, hints={"target_db": "other"}),
        migrations.RunSQL("INSERT INTO people_log (msg) VALUES ('sql everywhere')",
                          "DELETE FROM people_log WHERE msg = 'sql everywhere'"),
        migrations.RunSQL([("INSERT INTO people_log (msg) VALUES (%s)", ["sql other"])],
                          [("DELETE FROM people_log WHERE msg = %s", ["sql other"])],
                          hints={"target_db": "other"}),
    ]
"""

ARCHIVE_MODELS = """
from shoal import models


class Entry(models.Model):
    text = models.CharField(max_length=20)
"""

ARCHIVE_DATA = """
from shoal import migrations


def fill(apps, schema_editor):
    apps.get_model("archive", "Entry").objects.create(text="kept")


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_initial")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
"""


@pytest.fixture
def proj(tmp_path, db_url, vendor, database_factory):
    other = database_factory(vendor)
    p = TempProject(tmp_path / "proj", ["people", "archive"], db_url,
                    extra_toml='routers = ["myrouters.HintRouter"]')
    with open(p.path / "pyproject.toml", "a") as fh:
        fh.write(f'other = "{other}"\n')
    p.other_url = other
    p.write("myrouters.py", ROUTERS)
    p.write("people/models.py", MODELS)
    p.write("archive/models.py", ARCHIVE_MODELS)
    ok(p.shoal("makemigrations"))
    p.write("people/migrations/0002_data.py", DATA)
    p.write("archive/migrations/0002_fill.py", ARCHIVE_DATA)
    return p


def msgs(url: str) -> list[str]:
    return sorted(r[0] for r in sql(url, "SELECT msg FROM people_log"))


def recorded(url: str) -> list[tuple[str, str]]:
    return sorted(sql(url, "SELECT app, name FROM shoal_migrations"))


ALL_RECORDED = [("archive", "0001_initial"), ("archive", "0002_fill"),
                ("people", "0001_initial"), ("people", "0002_data")]


def test_hints_and_allow_migrate_pick_the_database(proj, db_url):
    """Each database runs only the RunPython/RunSQL its router allows, on its own connection; all are recorded."""
    ok(proj.shoal("migrate"))
    ok(proj.shoal("migrate", "--database", "other"))
    assert msgs(db_url) == ["default only on default", "everywhere on default", "sql everywhere"]
    assert msgs(proj.other_url) == ["everywhere on other", "explicit using", "other only on other",
                                    "secret on other", "sql everywhere", "sql other"]
    # App 'archive' exists only on 'other': no table, no RunPython on default.
    assert "archive_entry" not in tables(db_url)
    assert sql(proj.other_url, "SELECT text FROM archive_entry") == [("kept",)]
    # Every migration is recorded on both databases, as Django does.
    assert recorded(db_url) == ALL_RECORDED
    assert recorded(proj.other_url) == ALL_RECORDED


def test_backwards_follows_the_same_routing(proj, db_url):
    """Unapplying on one database reverses only what ran there and leaves the other database alone."""
    ok(proj.shoal("migrate"))
    ok(proj.shoal("migrate", "--database", "other"))
    out = ok(proj.shoal("migrate", "people", "0001", "--database", "other"))
    assert "  Unapplying people.0002_data... OK" in out
    assert msgs(proj.other_url) == ["everywhere on other", "explicit using", "other only on other", "secret on other"]
    assert msgs(db_url) == ["default only on default", "everywhere on default", "sql everywhere"]
    assert ("people", "0002_data") in recorded(db_url)
    assert ("people", "0002_data") not in recorded(proj.other_url)
    shown = ok(proj.shoal("showmigrations", "people", "--database", "other"))
    assert " [ ] 0002_data" in shown


def test_unknown_database_is_a_clean_error(proj):
    """migrate --database with an alias not configured names the configured ones."""
    result = proj.shoal("migrate", "--database", "nope")
    assert result.code != 0 and "Traceback" not in result.err
    assert "nope" in result.err and "default" in result.err and "other" in result.err
