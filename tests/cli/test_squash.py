"""squashmigrations and optimizemigration through the real command, on temporary projects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

MODELS_V1 = """
from shoal import models


class Author(models.Model):
    name = models.CharField(max_length=100)
"""

MODELS_V2 = """
from shoal import models


class Author(models.Model):
    name = models.CharField(max_length=200)
    rating = models.IntegerField()
"""

MODELS_V3 = MODELS_V2 + """

class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

DATA_MIGRATION = """
from shoal import migrations

SUFFIX = "!"


def shout(name):
    return name.upper()


def forwards(apps, schema_editor):
    Author = apps.get_model("books", "Author")
    for author in Author.objects.all():
        author.name = shout(author.name) + SUFFIX
        author.save()


class Migration(migrations.Migration):
    dependencies = [("books", "{previous}")]
    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunSQL("SELECT 1", migrations.RunSQL.noop, elidable=True),
    ]
"""

AFTERWORD = [
    "  You should commit this migration but leave the old ones in place;",
    "  the new migration will be used for new installs. Once you are sure",
    "  all instances of the codebase have applied the migrations you squashed,",
    "  you can delete them.",
]


def migrations_dir(project: TempProject) -> Path:
    return project.path / "books" / "migrations"


def names(project: TempProject) -> list[str]:
    return sorted(p.stem for p in migrations_dir(project).glob("0*.py"))


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.code == 0, result.out + result.err
    return result.out


def build_history(project: TempProject) -> list[str]:
    """0001_initial, 0002 (one-off default), 0003_data (RunPython + elidable RunSQL), 0004 (new model)."""
    project.write("books/models.py", MODELS_V1)
    ok(project.shoal("makemigrations"))
    project.write("books/models.py", MODELS_V2)
    made = project.shoal("makemigrations", stdin="1\n3\n", env={"SHOAL_FORCE_INTERACTIVE": "1"})
    ok(made)
    second = next(n for n in names(project) if n.startswith("0002"))
    assert "preserve_default=False" in project.read(f"books/migrations/{second}.py")
    project.write("books/migrations/0003_data.py", DATA_MIGRATION.replace("{previous}", second))
    project.write("books/models.py", MODELS_V3)
    ok(project.shoal("makemigrations"))
    return names(project)


def schema(url: str) -> dict[str, object]:
    conn = create_connection("inspect", url)
    try:
        intro = conn.introspection
        return {
            t: (
                {c.name: (c.type, c.null, c.default, c.primary_key) for c in intro.get_columns(t)},
                sorted(repr((tuple(i.columns), i.primary_key, i.unique, i.foreign_key, i.index))
                       for i in intro.get_constraints(t).values()),
            )
            for t in intro.table_names()
            if t != "shoal_migrations"
        }
    finally:
        conn.close()


def recorded(url: str) -> set[tuple[str, str]]:
    conn = create_connection("inspect", url)
    try:
        return {(a, n) for a, n in conn.fetchall("SELECT app, name FROM shoal_migrations")}
    finally:
        conn.close()


# -- the guide's workflow, end to end -------------------------------------------------------------


def test_guide_workflow_end_to_end(tmp_path, db_url, database_factory, vendor):
    """Squash, part-way database continues on the old files, new database uses the squash, transition."""
    fresh_url = database_factory(vendor)
    project = TempProject(tmp_path / "proj", ["books"], db_url)
    (project.path / "pyproject.toml").write_text(
        f'[tool.shoal]\napps = ["books"]\n[tool.shoal.databases]\ndefault = "{db_url}"\nfresh = "{fresh_url}"\n'
    )
    history = build_history(project)
    assert len(history) == 4 and history[2] == "0003_data"
    last = history[3]

    # A database part-way through, with a row for the data migration to change.
    ok(project.shoal("migrate", "books", history[1]))
    conn = create_connection("rows", db_url)
    conn.execute("INSERT INTO books_author (name, rating) VALUES (%s, %s)", ["ursula", 5])
    conn.close()

    squash = project.shoal("squashmigrations", "books", last[:4], stdin="y\n")
    out = ok(squash).splitlines()
    squashed = f"0001_squashed_{last}"
    assert out[:5] == ["Will squash the following migrations:", *(f" - {n}" for n in history)]
    assert out[5].startswith("Do you wish to proceed? [yN]")
    assert out[5].split("[yN] ", 1)[1] == "  Optimized from 6 operations to 3 operations."
    assert out[6] == f"Created new squashed migration books/migrations/{squashed}.py"
    assert out[7:] == AFTERWORD

    source = project.read(f"books/migrations/{squashed}.py")
    assert "initial = True" in source
    for name in history:
        assert f'("books", "{name}")' in source
    assert "def forwards(apps, schema_editor):" in source and "def shout(name):" in source
    assert 'SUFFIX = "!"' in source or "SUFFIX = '!'" in source
    assert "RunSQL" not in source  # the elidable operation is gone
    assert "migration_function" not in source  # the function was copied, not referenced
    assert "preserve_default" not in source and "default=3" not in source  # one-off stays one-off

    # makemigrations right after a squash finds nothing.
    assert ok(project.shoal("makemigrations")).strip() == "No changes detected"

    # The part-way database keeps using the old migrations...
    shown = ok(project.shoal("showmigrations", "books")).splitlines()
    assert shown == ["books", f" [X] {history[0]}", f" [X] {history[1]}", " [ ] 0003_data", f" [ ] {last}"]
    applied = ok(project.shoal("migrate")).splitlines()
    assert applied[-2:] == ["  Applying books.0003_data... OK", f"  Applying books.{last}... OK"]
    conn = create_connection("rows", db_url)
    assert conn.fetchall("SELECT name FROM books_author") == [("URSULA!",)]
    conn.close()
    # ...and is then treated as squashed.
    shown = ok(project.shoal("showmigrations", "books")).splitlines()
    assert shown == ["books", f" [X] {squashed} (4 squashed migrations)"]

    # A new database applies only the squashed migration.
    applied = ok(project.shoal("migrate", "--database", "fresh")).splitlines()
    assert applied[-1] == f"  Applying books.{squashed}... OK"
    assert not any("0003_data" in line for line in applied)
    assert recorded(fresh_url) == {("books", n) for n in history} | {("books", squashed)}
    assert schema(fresh_url) == schema(db_url)

    # The transition: delete the replaced files and the replaces list.
    for name in history:
        (migrations_dir(project) / f"{name}.py").unlink()
    path = migrations_dir(project) / f"{squashed}.py"
    path.write_text(re.sub(r"    replaces = \[.*?\]\n\n", "", path.read_text(), flags=re.DOTALL))
    assert "replaces" not in path.read_text()
    for database in ("default", "fresh"):
        assert "  No migrations to apply." in ok(project.shoal("migrate", "--database", database))
        shown = ok(project.shoal("showmigrations", "books", "--database", database)).splitlines()
        assert shown == ["books", f" [X] {squashed}"]
    assert ok(project.shoal("makemigrations")).strip() == "No changes detected"

    # Life goes on after the transition.
    project.write("books/models.py", MODELS_V3 + "    pages = models.IntegerField(null=True)\n")
    assert "books/migrations/0005_book_pages.py" in ok(project.shoal("makemigrations"))
    assert f'("books", "{squashed}")' in project.read("books/migrations/0005_book_pages.py")
    for database in ("default", "fresh"):
        assert "  Applying books.0005_book_pages... OK" in ok(project.shoal("migrate", "--database", database))
    assert schema(fresh_url) == schema(db_url)


# -- squashmigrations options (SQLite) ---------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> TempProject:
    proj = TempProject(tmp_path / "proj", ["books"], "sqlite:///db.sqlite3")
    build_history(proj)
    return proj


def test_answer_no_writes_nothing(project):
    """Answering n (or nothing) to the prompt writes no file."""
    before = names(project)
    out = ok(project.shoal("squashmigrations", "books", "0004", stdin="n\n"))
    assert "Squash cancelled; nothing was written." in out
    assert names(project) == before
    failed = project.shoal("squashmigrations", "books", "0004", stdin="")
    assert failed.code == 1 and "--noinput" in failed.err
    assert names(project) == before


def test_noinput_no_optimize_and_squashed_name(project):
    """--noinput skips the prompt, --no-optimize keeps every operation, --squashed-name names the file."""
    out = ok(project.shoal("squashmigrations", "books", "0004", "--noinput", "--no-optimize", "--squashed-name", "everything"))
    assert "Do you wish to proceed" not in out
    assert "  (Skipping optimization.)" in out
    assert "Created new squashed migration books/migrations/0001_everything.py" in out
    source = project.read("books/migrations/0001_everything.py")
    assert source.count("migrations.AddField(") == 1 and source.count("migrations.CreateModel(") == 2
    assert "preserve_default=False" in source  # not optimized: kept as written
    assert "RunSQL" not in source  # elidable operations are dropped all the same
    ok(project.shoal("migrate"))
    assert ok(project.shoal("makemigrations")).strip() == "No changes detected"


def test_start_migration(project):
    """squashmigrations APP START MIGRATION squashes from START and depends on what precedes it."""
    second, last = names(project)[1], names(project)[3]
    out = ok(project.shoal("squashmigrations", "books", "0003", "0004", "--noinput"))
    name = f"0003_data_squashed_{last}"
    assert f"Created new squashed migration books/migrations/{name}.py" in out
    source = project.read(f"books/migrations/{name}.py")
    assert f'("books", "{second}")' in source.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "initial = True" not in source
    assert '("books", "0001_initial")' not in source
    # A second squash of the migrations before it: both are used on a new database.
    named = ok(project.shoal("squashmigrations", "books", "0001", "0002", "--noinput", "--squashed-name", "middle"))
    assert "books/migrations/0001_middle.py" in named
    applied = ok(project.shoal("migrate")).splitlines()
    assert applied[-2:] == ["  Applying books.0001_middle... OK", f"  Applying books.{name}... OK"]
    assert ok(project.shoal("showmigrations", "books")).splitlines() == [
        "books", " [X] 0001_middle (2 squashed migrations)", f" [X] {name} (2 squashed migrations)"]


def test_start_after_end_is_an_error(project):
    """A START that comes after MIGRATION is refused with both names."""
    result = project.shoal("squashmigrations", "books", "0004", "0002", "--noinput")
    assert result.code == 1
    assert "Maybe it comes after the migration 'books.0002" in result.err
    assert "Traceback" not in result.err


def test_resquash_is_refused(project):
    """Squashing a squashed migration (or its replaced ones again) is refused with the guide's advice."""
    ok(project.shoal("squashmigrations", "books", "0004", "--noinput"))
    project.write("books/models.py", MODELS_V3 + "    pages = models.IntegerField(null=True)\n")
    ok(project.shoal("makemigrations"))
    before = names(project)
    again = project.shoal("squashmigrations", "books", "0005", "--noinput")
    assert again.code == 1
    assert "You cannot squash squashed migrations" in again.err
    assert "you should not then re-squash that squashed migration until you have fully transitioned it" in again.err
    twice = project.shoal("squashmigrations", "books", "0004", "--noinput", "--squashed-name", "other")
    assert twice.code == 1 and "already replaced by the squashed migration" in twice.err
    assert names(project) == before


def test_existing_name_is_refused(project):
    """A squashed name that already exists is refused, nothing overwritten."""
    ok(project.shoal("squashmigrations", "books", "0002", "--noinput", "--squashed-name", "x"))
    result = project.shoal("squashmigrations", "books", "0002", "0003", "--noinput", "--squashed-name", "x")
    assert result.code == 1


def test_cross_app_dependencies_are_kept(tmp_path):
    """Dependencies on other apps' migrations move onto the squashed migration."""
    proj = TempProject(tmp_path / "proj", ["authors", "books"], "sqlite:///db.sqlite3")
    proj.write("authors/models.py", "from shoal import models\n\nclass Author(models.Model):\n    name = models.CharField(max_length=10)\n")
    proj.write("books/models.py", "from shoal import models\n\nclass Book(models.Model):\n    title = models.CharField(max_length=10)\n")
    ok(proj.shoal("makemigrations"))
    proj.write("books/models.py", "from shoal import models\n\nclass Book(models.Model):\n    title = models.CharField(max_length=10)\n"
               "    author = models.ForeignKey('authors.Author', on_delete=models.CASCADE, null=True)\n")
    ok(proj.shoal("makemigrations"))
    ok(proj.shoal("squashmigrations", "books", "0002", "--noinput"))
    squashed = next((proj.path / "books/migrations").glob("0001_squashed_*.py"))
    deps = squashed.read_text().split("dependencies = [", 1)[1].split("]", 1)[0]
    assert '("authors", "0001_initial")' in deps and '"books"' not in deps
    ok(proj.shoal("migrate"))
    assert "[X] 0001_squashed_" in ok(proj.shoal("showmigrations", "books"))


def test_circular_squash_is_refused(tmp_path):
    """A squash that would depend on itself through another app is refused before writing."""
    proj = TempProject(tmp_path / "proj", ["authors", "books"], "sqlite:///db.sqlite3")
    proj.write("books/migrations/__init__.py", "")
    proj.write("authors/migrations/__init__.py", "")
    proj.write("books/migrations/0001_initial.py", """
        from shoal import migrations, models
        class Migration(migrations.Migration):
            initial = True
            operations = [migrations.CreateModel("Book", [("id", models.AutoField(primary_key=True))])]
    """)
    proj.write("authors/migrations/0001_initial.py", """
        from shoal import migrations, models
        class Migration(migrations.Migration):
            initial = True
            dependencies = [("books", "0001_initial")]
            operations = [migrations.CreateModel("Author", [("id", models.AutoField(primary_key=True)),
                ("fav", models.ForeignKey("books.Book", models.CASCADE))])]
    """)
    proj.write("books/migrations/0002_author.py", """
        from shoal import migrations, models
        class Migration(migrations.Migration):
            dependencies = [("books", "0001_initial"), ("authors", "0001_initial")]
            operations = [migrations.AddField("Book", "author", models.ForeignKey("authors.Author", models.CASCADE, null=True))]
    """)
    result = proj.shoal("squashmigrations", "books", "0002", "--noinput")
    assert result.code == 1
    assert "circular dependency" in result.err and "authors.0001_initial" in result.err
    assert not list((proj.path / "books/migrations").glob("*squashed*"))


def test_uncopyable_function_is_referenced_with_a_note(project):
    """A RunPython function that cannot be copied stays a reference; the file says so and still works."""
    data = project.read("books/migrations/0003_data.py").replace('SUFFIX = "!"', 'SUFFIX = object()')
    project.write("books/migrations/0003_data.py", data)
    last = names(project)[3]
    out = ok(project.shoal("squashmigrations", "books", "0004", "--noinput"))
    assert "Manual porting required" in out
    source = project.read(f"books/migrations/0001_squashed_{last}.py")
    assert "# NOTE: this migration still refers to RunPython functions" in source
    assert "#   books.migrations.0003_data" in source
    assert 'migration_function("books.migrations.0003_data","forwards")' in re.sub(r"\s+", "", source)
    ok(project.shoal("migrate"))  # the file imports and runs


ANNOTATED = """
import datetime
from typing import TYPE_CHECKING, Any

from shoal import migrations

if TYPE_CHECKING:
    from shoal.apps import Apps

LOW = (1, 2)


def forwards(apps: "Apps", schema_editor: Any, since=datetime.date(2020, 1, 1)) -> None:
    Author = apps.get_model("books", "Author")
    Author.objects.filter(rating__in=LOW).update(rating=since.year)


class Migration(migrations.Migration):
    dependencies = [("books", "{previous}")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
"""


def test_copied_functions_keep_imports_defaults_and_distinct_names(project):
    """Functions are copied with the modules and constants they use; a second 'forwards' is renamed."""
    last = names(project)[3]
    project.write("books/migrations/0005_more.py", ANNOTATED.replace("{previous}", last))
    out = ok(project.shoal("squashmigrations", "books", "0005", "--noinput"))
    assert "Manual porting required" not in out
    source = project.read("books/migrations/0001_squashed_0005_more.py")
    assert source.startswith("# Generated by shoal")
    assert "from __future__ import annotations" in source
    assert "import datetime" in source and "LOW = (1, 2)" in source
    assert "def forwards(apps, schema_editor):" in source
    assert "def forwards_0005(" in source
    assert "code=forwards_0005," in source and "code=forwards," in source
    assert "migration_function" not in source
    # The old files can go: the squashed migration stands alone.
    for name in names(project):
        if "squashed" not in name:
            (migrations_dir(project) / f"{name}.py").unlink()
    path = migrations_dir(project) / "0001_squashed_0005_more.py"
    path.write_text(re.sub(r"    replaces = \[.*?\]\n\n", "", path.read_text(), flags=re.DOTALL))
    applied = ok(project.shoal("migrate"))
    assert "Applying books.0001_squashed_0005_more... OK" in applied


# -- optimizemigration ---------------------------------------------------------------------------------


UNOPTIMIZED = """
from shoal import migrations, models


def fill(apps, schema_editor):
    Author = apps.get_model("books", "Author")
    Author.objects.create(name="x", rating=1)


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel("Author", [("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))]),
        migrations.AddField("Author", "name", models.CharField(max_length=50)),
        migrations.AlterField("Author", "name", models.CharField(max_length=200)),
        migrations.AddField("Author", "rating", models.IntegerField(default=3), preserve_default=False),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
"""


@pytest.fixture
def unoptimized(tmp_path) -> TempProject:
    proj = TempProject(tmp_path / "proj", ["books"], "sqlite:///db.sqlite3")
    proj.write("books/models.py", MODELS_V2)
    proj.write("books/migrations/__init__.py", "")
    proj.write("books/migrations/0001_initial.py", UNOPTIMIZED)
    return proj


def test_optimizemigration_check_and_rewrite(unoptimized):
    """--check exits 1 and writes nothing; without it the file is rewritten, optimized, and still works."""
    before = unoptimized.read("books/migrations/0001_initial.py")
    check = unoptimized.shoal("optimizemigration", "books", "0001", "--check")
    assert check.code == 1 and check.out.strip() == "Optimizing from 5 operations to 2 operations."
    assert unoptimized.read("books/migrations/0001_initial.py") == before
    out = ok(unoptimized.shoal("optimizemigration", "books", "0001"))
    assert out.splitlines() == ["Optimizing from 5 operations to 2 operations.",
                                "Optimized migration books/migrations/0001_initial.py"]
    source = unoptimized.read("books/migrations/0001_initial.py")
    assert source.count("migrations.CreateModel(") == 1 and "AddField" not in source
    assert "def fill(apps, schema_editor):" in source and "default=3" not in source
    again = unoptimized.shoal("optimizemigration", "books", "0001", "--check")
    assert again.code == 0 and again.out.strip() == "No optimizations possible."
    assert ok(unoptimized.shoal("makemigrations")).strip() == "No changes detected"
    ok(unoptimized.shoal("migrate"))
    conn = create_connection("rows", f"sqlite:///{unoptimized.path / 'db.sqlite3'}")
    assert conn.fetchall("SELECT name, rating FROM books_author") == [("x", 1)]
    conn.close()


def test_optimizemigration_with_uncopyable_function_writes_replacement(unoptimized):
    """When its RunPython code cannot be copied, an _optimized migration replacing it is written."""
    source = unoptimized.read("books/migrations/0001_initial.py")
    unoptimized.write("books/migrations/0001_initial.py", source.replace("def fill(", "LOCK = object()\n\n\ndef fill(")
                      .replace('Author.objects.create(name="x", rating=1)', 'Author.objects.create(name="x", rating=1)\n    LOCK'))
    out = ok(unoptimized.shoal("optimizemigration", "books", "0001"))
    assert "Manual porting required" in out
    assert "Optimized migration books/migrations/0001_initial_optimized.py" in out
    new = unoptimized.read("books/migrations/0001_initial_optimized.py")
    assert 'replaces = [\n        ("books", "0001_initial"),\n    ]' in new or '("books", "0001_initial")' in new
    applied = ok(unoptimized.shoal("migrate"))
    assert "Applying books.0001_initial_optimized... OK" in applied
