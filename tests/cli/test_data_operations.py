"""RunPython / RunSQL / SeparateDatabaseAndState through ``shoal migrate`` on every
backend: reversibility, noop, atomic, params and statement lists, state-only
operations, schema changes from RunPython, and data-then-ALTER on one table."""

from __future__ import annotations

import json

import pytest

from tests.cli.projects import TempProject
from tests.cli.test_data_migrations import assert_clean_error, columns, ok, sql, tables

MODELS = """
from shoal import models


class Log(models.Model):
    msg = models.CharField(max_length=40)
{extra}
"""


@pytest.fixture
def proj(tmp_path, db_url):
    """App ``people`` with model Log, 0001_initial applied."""
    p = TempProject(tmp_path / "proj", ["people"], db_url)
    p.write("people/models.py", MODELS.format(extra=""))
    ok(p.shoal("makemigrations"))
    ok(p.shoal("migrate"))
    return p


def migration(previous: str, body: str, operations: str, atomic: bool = True) -> str:
    return (
        "from shoal import migrations, models\n\n"
        f"{body}\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('people', '{previous}')]\n"
        + ("    atomic = False\n" if not atomic else "")
        + f"    operations = [\n        {operations}\n    ]\n"
    )


def log(db_url: str) -> list[str]:
    return [r[0] for r in sql(db_url, "SELECT msg FROM people_log ORDER BY id")]


WRITE = """
def write(text):
    def run(apps, schema_editor):
        apps.get_model("people", "Log").objects.create(msg=text)
    run.__name__ = run.__qualname__ = "write_" + text
    return run


def add_a(apps, schema_editor):
    apps.get_model("people", "Log").objects.create(msg="a")


def add_b(apps, schema_editor):
    apps.get_model("people", "Log").objects.create(msg="b")


def remove_a(apps, schema_editor):
    apps.get_model("people", "Log").objects.filter(msg="a").delete()


def add_then_fail(apps, schema_editor):
    apps.get_model("people", "Log").objects.create(msg="half")
    raise RuntimeError("boom in user code")
"""


# -- reversibility ----------------------------------------------------------------------


def test_irreversible_runpython_refuses_before_anything_changes(proj, db_url):
    """Unapplying past a RunPython without reverse_code fails up front: later migrations stay applied."""
    proj.write("people/migrations/0002_data.py", migration("0001_initial", WRITE, "migrations.RunPython(add_a),"))
    proj.write("people/models.py", MODELS.format(extra="    level = models.IntegerField(default=0)"))
    ok(proj.shoal("migrate"))
    assert "0003_log_level.py" in ok(proj.shoal("makemigrations"))
    ok(proj.shoal("migrate"))
    plan = ok(proj.shoal("migrate", "people", "0001", "--plan"))
    assert "    Raw Python operation -> IRREVERSIBLE" in plan
    result = proj.shoal("migrate", "people", "0001")
    assert_clean_error(result, "people.0002_data", "Raw Python operation", "not reversible", "reverse_code")
    shown = ok(proj.shoal("showmigrations"))
    assert " [X] 0002_data" in shown and " [X] 0003_log_level" in shown
    assert "level" in columns(db_url, "people_log")
    assert log(db_url) == ["a"]
    # The same with the migration alone.
    ok(proj.shoal("migrate", "people", "0002"))
    assert_clean_error(proj.shoal("migrate", "people", "0001"), "not reversible")
    assert log(db_url) == ["a"]
    # --fake only records, so it may go back past it.
    assert "  Unapplying people.0002_data... FAKED" in ok(proj.shoal("migrate", "people", "0001", "--fake"))
    assert log(db_url) == ["a"]


def test_reverse_code_and_noop(proj, db_url):
    """reverse_code runs backwards; RunPython.noop makes either direction a no-op."""
    ops = ("migrations.RunPython(add_a, remove_a),\n"
           "        migrations.RunPython(add_b, migrations.RunPython.noop),\n"
           "        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),")
    proj.write("people/migrations/0002_data.py", migration("0001_initial", WRITE, ops))
    ok(proj.shoal("migrate"))
    assert log(db_url) == ["a", "b"]
    out = ok(proj.shoal("migrate", "people", "0001"))
    assert "  Unapplying people.0002_data... OK" in out
    assert log(db_url) == ["b"]
    collected = ok(proj.shoal("sqlmigrate", "people", "0002"))
    assert collected.count("-- MIGRATION NOW PERFORMS OPERATION THAT CANNOT BE WRITTEN AS SQL:") == 3
    assert "-- Raw Python operation" in collected
    ok(proj.shoal("migrate"))
    assert log(db_url) == ["b", "a", "b"]


PLAN_BODY = WRITE + """

def documented(apps, schema_editor):
    \"\"\"Copy every log line into the archive table of the new system.\"\"\"
"""


def test_plan_describes_code_and_sql_as_django_does(proj):
    """--plan shows RunPython docstrings and RunSQL text, and IRREVERSIBLE when going back is impossible."""
    ops = ("migrations.RunPython(documented, remove_a),\n"
           "        migrations.RunSQL(\"UPDATE people_log SET msg = 'x' WHERE 1 = 0\"),")
    proj.write("people/migrations/0002_data.py", migration("0001_initial", PLAN_BODY, ops))
    plan = ok(proj.shoal("migrate", "--plan")).splitlines()
    assert plan == ["Planned operations:", "people.0002_data",
                    "    Raw Python operation -> Copy every log line into the archiv…",
                    "    Raw SQL operation -> UPDATE people_log SET msg = 'x' WHE…"]
    ok(proj.shoal("migrate"))
    back = ok(proj.shoal("migrate", "people", "zero", "--plan")).splitlines()
    assert back == ["Planned operations:", "people.0002_data",
                    "    Raw Python operation", "    Raw SQL operation -> IRREVERSIBLE",
                    "people.0001_initial", "    Undo Create model Log"]


def test_failing_reverse_code_keeps_the_migration_applied(proj, db_url, vendor):
    """reverse_code that raises: traceback shown, migration still applied, its changes rolled back."""
    body = WRITE + """

def undo_then_fail(apps, schema_editor):
    apps.get_model("people", "Log").objects.all().delete()
    raise ValueError("cannot undo")
"""
    proj.write("people/migrations/0002_data.py", migration(
        "0001_initial", body, "migrations.RunPython(add_a, undo_then_fail),"))
    ok(proj.shoal("migrate"))
    result = proj.shoal("migrate", "people", "0001")
    assert result.code != 0
    assert "Unapplying people.0002_data failed: ValueError: cannot undo" in result.err
    assert 'raise ValueError("cannot undo")' in result.err
    assert " [X] 0002_data" in ok(proj.shoal("showmigrations"))
    assert log(db_url) == ["a"]


# -- atomic ---------------------------------------------------------------------------------


def test_exception_in_user_code_rolls_back_and_shows_its_traceback(proj, db_url, vendor):
    """A RunPython that raises: rows it wrote are rolled back (every backend), traceback of the user's code shown."""
    proj.write("people/migrations/0002_fail.py", migration(
        "0001_initial", WRITE, "migrations.RunPython(add_a),\n        migrations.RunPython(add_then_fail),"))
    result = proj.shoal("migrate")
    assert result.code != 0
    err = result.err
    assert "Applying people.0002_fail failed: RuntimeError: boom in user code" in err
    assert "Traceback (most recent call last):" in err
    assert 'raise RuntimeError("boom in user code")' in err and "0002_fail.py" in err
    # The traceback starts at the user's code, not in shoal's machinery.
    assert "executor.py" not in err
    assert "  Applying people.0002_fail...\n" in result.out
    assert " [ ] 0002_fail" in ok(proj.shoal("showmigrations"))
    if vendor == "mysql":
        # No transactional DDL: each RunPython runs in its own transaction.
        assert log(db_url) == ["a"]
        assert "add_a" not in err or "had already run" in err
    else:
        assert "rolled back" in err
        assert log(db_url) == []


def test_database_error_in_user_code_shows_its_traceback(proj, db_url):
    """A shoal error raised inside RunPython code (bad lookup) still points at the user's line."""
    body = 'def bad(apps, schema_editor):\n    apps.get_model("people", "Log").objects.filter(nope=1).count()\n'
    proj.write("people/migrations/0002_bad.py", migration("0001_initial", body, "migrations.RunPython(bad),"))
    result = proj.shoal("migrate")
    assert result.code != 0
    assert "people.0002_bad" in result.err and "nope" in result.err
    assert "objects.filter(nope=1)" in result.err


ATOMIC_CASES = {
    # name: (migration atomic?, operations, rows left per vendor kind)
    "op_atomic_in_nonatomic_migration": (
        False, "migrations.RunPython(add_a),\n        migrations.RunPython(add_then_fail, atomic=True),",
        {"transactional": ["a"], "mysql": ["a"]}),
    "op_nonatomic_in_nonatomic_migration": (
        False, "migrations.RunPython(add_a),\n        migrations.RunPython(add_then_fail, atomic=False),",
        {"transactional": ["a", "half"], "mysql": ["a", "half"]}),
    "op_default_in_nonatomic_migration": (
        False, "migrations.RunPython(add_then_fail),",
        {"transactional": ["half"], "mysql": ["half"]}),
    "op_nonatomic_in_atomic_migration": (
        True, "migrations.RunPython(add_a),\n        migrations.RunPython(add_then_fail, atomic=False),",
        {"transactional": [], "mysql": ["a", "half"]}),
}


@pytest.mark.parametrize("case", sorted(ATOMIC_CASES))
def test_runpython_atomic(proj, db_url, vendor, case):
    """RunPython(atomic=...) and Migration.atomic decide what a failure rolls back, as in Django."""
    atomic, ops, expected = ATOMIC_CASES[case]
    proj.write("people/migrations/0002_fail.py", migration("0001_initial", WRITE, ops, atomic=atomic))
    result = proj.shoal("migrate")
    assert result.code != 0 and "boom in user code" in result.err
    assert " [ ] 0002_fail" in ok(proj.shoal("showmigrations"))
    assert log(db_url) == expected["mysql" if vendor == "mysql" else "transactional"]


def test_nonatomic_migration_runs_outside_a_transaction(proj, db_url):
    """In an atomic = False migration, RunPython code sees autocommit; atomic=True gives it a transaction."""
    body = """
import json
from pathlib import Path

seen = []

def probe(apps, schema_editor):
    seen.append(schema_editor.connection.in_atomic_block)
    Path(__file__).resolve().parents[2].joinpath("seen.json").write_text(json.dumps(seen))
"""
    proj.write("people/migrations/0002_probe.py", migration(
        "0001_initial", body, "migrations.RunPython(probe),\n        migrations.RunPython(probe, atomic=True),",
        atomic=False))
    ok(proj.shoal("migrate"))
    assert json.loads(proj.read("seen.json")) == [False, True]


# -- RunSQL -----------------------------------------------------------------------------------

RUNSQL_OPS = """migrations.RunSQL(
            [("INSERT INTO people_log (msg) VALUES (%s)", ["p1"]),
             ("INSERT INTO people_log (msg) VALUES (%s), (%s)", ("p2", "p3")),
             "INSERT INTO people_log (msg) VALUES ('plain')"],
            reverse_sql=[("DELETE FROM people_log WHERE msg IN (%s, %s, %s)", ["p1", "p2", "p3"]),
                         "DELETE FROM people_log WHERE msg = 'plain'"],
        ),
        migrations.RunSQL(
            "INSERT INTO people_log (msg) VALUES ('50%; off'); -- a comment; with a semicolon\\n"
            "INSERT INTO people_log (msg) VALUES ('it''s');",
            reverse_sql="DELETE FROM people_log WHERE msg LIKE '50%'; DELETE FROM people_log WHERE msg = 'it''s'",
        ),
        migrations.RunSQL("UPDATE people_log SET msg = msg", migrations.RunSQL.noop),"""


def test_runsql_lists_params_scripts_and_reverse(proj, db_url):
    """RunSQL takes lists of statements and (sql, params) pairs, scripts with ;, and runs reverse_sql back."""
    proj.write("people/migrations/0002_sql.py", migration("0001_initial", "", RUNSQL_OPS))
    ok(proj.shoal("migrate"))
    assert log(db_url) == ["p1", "p2", "p3", "plain", "50%; off", "it's"]
    collected = ok(proj.shoal("sqlmigrate", "people", "0002"))
    assert "VALUES ('p1');" in collected and "-- Raw SQL operation" in collected
    back = ok(proj.shoal("sqlmigrate", "people", "0002", "--backwards"))
    assert "DELETE FROM people_log WHERE msg = 'plain';" in back
    ok(proj.shoal("migrate", "people", "0001"))
    assert log(db_url) == []
    assert " [ ] 0002_sql" in ok(proj.shoal("showmigrations"))


def test_runsql_without_reverse_is_irreversible(proj, db_url):
    """RunSQL without reverse_sql cannot be unapplied; the error says so and nothing changes."""
    ops = "migrations.RunSQL(\"INSERT INTO people_log (msg) VALUES ('x')\"),"
    proj.write("people/migrations/0002_sql.py", migration("0001_initial", "", ops))
    ok(proj.shoal("migrate"))
    assert_clean_error(proj.shoal("migrate", "people", "zero"), "people.0002_sql", "Raw SQL operation",
                       "not reversible")
    assert log(db_url) == ["x"] and "people_log" in tables(db_url)


TAG_TABLE = {
    "sqlite": "CREATE TABLE people_tag (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, label varchar(20) NOT NULL)",
    "postgresql": "CREATE TABLE people_tag (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                  "label varchar(20) NOT NULL)",
    "mysql": "CREATE TABLE people_tag (id integer AUTO_INCREMENT PRIMARY KEY, label varchar(20) NOT NULL)",
}

TAG_MODEL = """
class Tag(models.Model):
    id = models.AutoField(primary_key=True)
    label = models.CharField(max_length=20)
"""

STATE_OPS = """migrations.RunSQL(
            {create!r},
            reverse_sql="DROP TABLE people_tag",
            state_operations=[migrations.CreateModel("Tag", [
                ("id", models.AutoField(primary_key=True)),
                ("label", models.CharField(max_length=20)),
            ])],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(
                "ALTER TABLE people_log ADD COLUMN level integer DEFAULT 3 NOT NULL",
                reverse_sql="ALTER TABLE people_log DROP COLUMN level",
            )],
            state_operations=[migrations.AddField("log", "level", models.IntegerField(default=3))],
        ),
        migrations.RunPython(use_them, migrations.RunPython.noop),"""

USE_THEM = """
def use_them(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    Log = apps.get_model("people", "Log")
    Tag.objects.create(label="new")
    Log.objects.create(msg="lvl", level=7)
    assert sorted(f.name for f in Log._meta.fields) == ["id", "level", "msg"]
"""


def test_state_operations_and_separate_database_and_state(proj, db_url, vendor):
    """RunSQL state_operations and SeparateDatabaseAndState change the state as if the model ops ran."""
    ops = STATE_OPS.format(create=TAG_TABLE[vendor])
    proj.write("people/migrations/0002_state.py", migration("0001_initial", USE_THEM, ops))
    ok(proj.shoal("migrate"))
    assert sql(db_url, "SELECT label FROM people_tag") == [("new",)]
    assert sql(db_url, "SELECT msg, level FROM people_log") == [("lvl", 7)]
    # The models now match the state these operations produced: nothing to make.
    proj.write("people/models.py", MODELS.format(extra="    level = models.IntegerField(default=3)\n" + TAG_MODEL))
    assert ok(proj.shoal("makemigrations", "--check")).strip() == "No changes detected"
    # Backwards: the database operations are reversed.
    ok(proj.shoal("migrate", "people", "0001"))
    assert "people_tag" not in tables(db_url)
    assert "level" not in columns(db_url, "people_log")


# -- schema_editor inside RunPython --------------------------------------------------------

SCHEMA_BODY = """
import json
from pathlib import Path


def make_table(apps, schema_editor):
    qn = schema_editor.quote_name
    schema_editor.execute(f"CREATE TABLE {qn('people_extra')} ({qn('n')} integer NOT NULL)")
    schema_editor.execute(f"INSERT INTO {qn('people_extra')} ({qn('n')}) VALUES (%s)", [41])
    Log = apps.get_model("people", "Log")
    Log.objects.using(schema_editor.connection.alias).create(msg="with extra")
    rows = schema_editor.connection.fetchall(f"SELECT {qn('n')} FROM {qn('people_extra')}")
    Path(__file__).resolve().parents[2].joinpath("seen.json").write_text(json.dumps({
        "rows": [list(r) for r in rows],
        "alias": schema_editor.connection.alias,
        "in_transaction": schema_editor.connection.in_atomic_block,
    }))


def drop_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE " + schema_editor.quote_name("people_extra"))
"""


def test_schema_editor_changes_schema_in_the_migration_transaction(proj, db_url, vendor):
    """RunPython's schema_editor runs DDL on the migration's connection and transaction (rolled back on failure)."""
    ops = "migrations.RunPython(make_table, drop_table),"
    proj.write("people/migrations/0002_extra.py", migration("0001_initial", SCHEMA_BODY, ops))
    ok(proj.shoal("migrate"))
    seen = json.loads(proj.read("seen.json"))
    assert seen == {"rows": [[41]], "alias": "default", "in_transaction": True}
    assert sql(db_url, "SELECT n FROM people_extra") == [(41,)]
    ok(proj.shoal("migrate", "people", "0001"))
    assert "people_extra" not in tables(db_url) and log(db_url) == ["with extra"]

    sql(db_url, "DELETE FROM people_log")
    ops += "\n        migrations.RunSQL('SELECT * FROM no_such_table'),"
    proj.write("people/migrations/0002_extra.py", migration("0001_initial", SCHEMA_BODY, ops))
    result = proj.shoal("migrate")
    assert_clean_error(result, "no_such_table")
    if vendor != "mysql":
        assert "people_extra" not in tables(db_url)
        assert log(db_url) == []


# -- rows changed, then the same table altered (PostgreSQL deferred FK checks) -------------

LIBRARY_V1 = """
from shoal import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

LIBRARY_V2 = """
from shoal import models


class Author(models.Model):
    name = models.CharField(max_length=80, db_index=True)


class Book(models.Model):
    title = models.CharField(max_length=120)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    pages = models.IntegerField(default=1)
"""

FILL_BOOKS = """
def fill(apps, schema_editor):
    Author = apps.get_model("people", "Author")
    Book = apps.get_model("people", "Book")
    for i in range(5):
        author = Author.objects.create(name=f"author {i}")
        Book.objects.create(title=f"book {i}", author=author)
    Book.objects.filter(title="book 0").update(author=Author.objects.get(name="author 4"))
    Author.objects.filter(name="author 0").delete()
    # Relations as of this point in history: the reverse accessor is still book_set.
    author = Author.objects.get(name="author 4")
    assert sorted(b.title for b in author.book_set.all()) == ["book 0", "book 4"]
    assert not hasattr(author, "books")
    assert Book.objects.filter(author__name="author 4").count() == 2
"""


def test_rows_changed_then_same_tables_altered(tmp_path, db_url):
    """A migration that writes rows with foreign keys and then alters those tables succeeds (no pending trigger events)."""
    p = TempProject(tmp_path / "proj", ["people"], db_url)
    p.write("people/models.py", LIBRARY_V1)
    ok(p.shoal("makemigrations"))
    ok(p.shoal("migrate"))
    p.write("people/models.py", LIBRARY_V2)
    made = ok(p.shoal("makemigrations", "-n", "grow"))
    assert "0002_grow.py" in made
    source = p.read("people/migrations/0002_grow.py")
    source = source.replace("from shoal import migrations, models\n",
                            "from shoal import migrations, models\n" + FILL_BOOKS)
    source = source.replace("    operations = [\n", "    operations = [\n        migrations.RunPython(fill),\n", 1)
    p.write("people/migrations/0002_grow.py", source)
    out = ok(p.shoal("migrate"))
    assert "  Applying people.0002_grow... OK" in out
    assert sql(db_url, "SELECT b.title, a.name, b.pages FROM people_book b JOIN people_author a "
                       "ON a.id = b.author_id ORDER BY b.title") == [
        ("book 0", "author 4", 1), ("book 1", "author 1", 1), ("book 2", "author 2", 1),
        ("book 3", "author 3", 1), ("book 4", "author 4", 1)]
    assert {"pages"} <= columns(db_url, "people_book")

    # The same with raw SQL: an INSERT with a foreign key, then ALTER TABLE, in one migration.
    p.write("people/migrations/0003_raw.py", migration("0002_grow", "", """migrations.RunSQL(
            [("INSERT INTO people_book (title, author_id, pages) SELECT %s, id, 3 FROM people_author "
              "WHERE name = %s", ["raw", "author 1"]),
             "ALTER TABLE people_book ADD COLUMN note varchar(10) NULL"],
            ["ALTER TABLE people_book DROP COLUMN note", "DELETE FROM people_book WHERE title = 'raw'"],
        ),"""))
    ok(p.shoal("migrate"))
    assert sql(db_url, "SELECT pages, note FROM people_book WHERE title = 'raw'") == [(3, None)]
    ok(p.shoal("migrate", "people", "0002"))
    assert "note" not in columns(db_url, "people_book")
    assert sql(db_url, "SELECT count(*) FROM people_book") == [(5,)]


def test_foreign_key_violation_from_raw_sql_is_a_clean_error(tmp_path, db_url, vendor):
    """Rows that break a foreign key (found at once, before DDL, or at COMMIT) give one paragraph, no traceback."""
    p = TempProject(tmp_path / "proj", ["people"], db_url)
    p.write("people/models.py", LIBRARY_V1)
    ok(p.shoal("makemigrations"))
    p.write("people/migrations/0002_bad.py", migration("0001_initial", "", """migrations.RunSQL(
            "INSERT INTO people_book (title, author_id) VALUES ('orphan', 999)"),"""))
    result = p.shoal("migrate")
    assert_clean_error(result, "people.0002_bad")
    assert " [ ] 0002_bad" in ok(p.shoal("showmigrations"))
    assert sql(db_url, "SELECT count(*) FROM people_book") == [(0,)]
