"""Broken histories stop `shoal migrate` before anything runs, on every backend.

Each error names the migrations (or file) involved, exits non-zero without a
traceback, and leaves the database exactly as it was: no table created, no
migration recorded.  (Syntax errors and missing dependencies on SQLite are in
test_errors.py; here they are checked against every backend's database too.)
"""

from __future__ import annotations

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

CREATE = """
from shoal import migrations, models


class Migration(migrations.Migration):
    dependencies = {deps}
    operations = [
        migrations.CreateModel("{model}", [
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
        ]),
    ]
"""


def project(tmp_path, db_url, apps=("authors", "books")) -> TempProject:
    proj = TempProject(tmp_path / "p", list(apps), db_url)
    for app in apps:
        proj.write(f"{app}/models.py", "from shoal import models\n")
        proj.write(f"{app}/migrations/__init__.py", "")
    return proj


def write(proj: TempProject, app: str, name: str, model: str, deps: str = "[]") -> None:
    proj.write(f"{app}/migrations/{name}.py", CREATE.format(deps=deps, model=model))


def db_snapshot(db_url: str) -> tuple[set[str], list[tuple[str, str]]]:
    """(tables, recorded migrations) of the database."""
    conn = create_connection("snap", db_url)
    try:
        tables = set(conn.introspection.table_names())
        rows = []
        if "shoal_migrations" in tables:
            rows = [tuple(r) for r in conn.fetchall("SELECT app, name FROM shoal_migrations ORDER BY id")]
        return tables, rows  # type: ignore[return-value]
    finally:
        conn.close()


def assert_refused(result, *needles: str) -> None:
    assert result.code != 0, result.out
    assert "Traceback" not in result.err, result.err
    assert "Applying" not in result.out, result.out
    for needle in needles:
        assert needle in result.err, result.err


def test_cycle_is_named_and_nothing_applied(tmp_path, db_url):
    """Migrations that depend on each other in a circle: the cycle is printed, nothing runs."""
    proj = project(tmp_path, db_url)
    write(proj, "authors", "0001_initial", "Author")
    write(proj, "authors", "0002_second", "Pen", '[("authors", "0001_initial"), ("books", "0001_initial")]')
    write(proj, "books", "0001_initial", "Book", '[("books", "0002_second")]')
    write(proj, "books", "0002_second", "Shelf", '[("books", "0001_initial"), ("authors", "0002_second")]')
    result = proj.shoal("migrate")
    assert_refused(result, "Circular dependency", "authors.0002_second", "books.0001_initial", "books.0002_second")
    # The printed cycle is a real one: each node depends on the next.
    cycle = result.err.split("migrations: ", 1)[1].split(" (", 1)[0].split(" -> ")
    assert cycle[0] == cycle[-1] and len(cycle) == 4, cycle
    assert "authors.0001_initial" not in cycle
    tables, rows = db_snapshot(db_url)
    assert rows == [] and not {"authors_author", "books_book"} & tables
    assert_refused(proj.shoal("showmigrations"), "Circular dependency")


def test_self_cycle_within_one_app(tmp_path, db_url):
    """Two migrations of one app depending on each other are named as a cycle."""
    proj = project(tmp_path, db_url, apps=("authors",))
    write(proj, "authors", "0001_initial", "Author", '[("authors", "0002_second")]')
    write(proj, "authors", "0002_second", "Pen", '[("authors", "0001_initial")]')
    result = proj.shoal("migrate")
    assert_refused(result, "authors.0001_initial -> authors.0002_second -> authors.0001_initial")
    assert db_snapshot(db_url)[1] == []


def test_inconsistent_history_is_named_and_nothing_applied(tmp_path, db_url):
    """An applied migration whose (new) dependency is not applied is refused, both named."""
    proj = project(tmp_path, db_url)
    write(proj, "authors", "0001_initial", "Author")
    write(proj, "books", "0001_initial", "Book", '[("authors", "0001_initial")]')
    first = proj.shoal("migrate")
    assert first.code == 0, first.err
    # Someone inserts a migration under one that is already applied everywhere.
    write(proj, "authors", "0002_pen", "Pen", '[("authors", "0001_initial")]')
    write(proj, "books", "0001_initial", "Book", '[("authors", "0002_pen")]')
    write(proj, "books", "0002_shelf", "Shelf", '[("books", "0001_initial")]')
    before = db_snapshot(db_url)
    result = proj.shoal("migrate")
    assert_refused(result, "books.0001_initial", "authors.0002_pen", "applied before its dependency")
    assert db_snapshot(db_url) == before
    assert "authors_pen" not in before[0] and "books_shelf" not in before[0]
    # --plan and --fake refuse too; a partial target as well.
    assert_refused(proj.shoal("migrate", "--fake"), "authors.0002_pen")
    assert_refused(proj.shoal("migrate", "--plan"), "authors.0002_pen")
    assert_refused(proj.shoal("migrate", "--check"), "authors.0002_pen")
    assert_refused(proj.shoal("migrate", "authors"), "authors.0002_pen")
    assert db_snapshot(db_url) == before


def test_file_without_migration_class(tmp_path, db_url):
    """A migrations-package file with no Migration class is named; nothing is applied."""
    proj = project(tmp_path, db_url, apps=("authors",))
    write(proj, "authors", "0001_initial", "Author")
    proj.write("authors/migrations/0002_helpers.py", "def helper():\n    return 1\n")
    result = proj.shoal("migrate")
    assert_refused(result, "0002_helpers.py", "no Migration class")
    tables, rows = db_snapshot(db_url)
    assert rows == [] and "authors_author" not in tables


def test_syntax_error_names_file_on_every_backend(tmp_path, db_url):
    """A migration file that does not parse is named with its line; the good ones before it do not run."""
    proj = project(tmp_path, db_url, apps=("authors",))
    write(proj, "authors", "0001_initial", "Author")
    proj.write("authors/migrations/0002_broken.py", "from shoal import migrations\n\n\nclass Migration(:\n")
    result = proj.shoal("migrate")
    assert_refused(result, "0002_broken.py", "line 4")
    tables, rows = db_snapshot(db_url)
    assert rows == [] and "authors_author" not in tables


def test_missing_dependency_names_both_on_every_backend(tmp_path, db_url):
    """A dependency on a migration that does not exist names the one that needs it; nothing runs."""
    proj = project(tmp_path, db_url)
    write(proj, "authors", "0001_initial", "Author")
    write(proj, "books", "0001_initial", "Book", '[("authors", "0001_initial"), ("authors", "0007_gone")]')
    result = proj.shoal("migrate")
    assert_refused(result, "books.0001_initial", "0007_gone")
    tables, rows = db_snapshot(db_url)
    assert rows == [] and not {"authors_author", "books_book"} & tables


# -- a migration failing part-way -------------------------------------------------

FAILING = """
from shoal import migrations, models


class Migration(migrations.Migration):
    {atomic}
    dependencies = [("authors", "0001_initial")]
    operations = [
        migrations.CreateModel("Pen", [
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
        ]),
        migrations.AddField("Author", "age", models.IntegerField(null=True)),
        migrations.RunSQL({sql!r}, migrations.RunSQL.noop),
        migrations.AddField("Author", "nick", models.CharField(max_length=10, null=True)),
    ]
"""


def columns(db_url: str, table: str) -> set[str]:
    conn = create_connection("cols", db_url)
    try:
        return set(conn.introspection.column_names(table))
    finally:
        conn.close()


def failing_project(tmp_path, db_url, atomic: str = "") -> TempProject:
    proj = project(tmp_path, db_url, apps=("authors",))
    write(proj, "authors", "0001_initial", "Author")
    proj.write("authors/migrations/0002_partial.py",
               FAILING.format(atomic=atomic, sql="INSERT INTO no_such_table VALUES (1)"))
    return proj


def test_failure_part_way(tmp_path, db_url, vendor):
    """A migration failing at its third operation: SQLite/PostgreSQL roll all of it back;
    MySQL says which operations already ran. It is never recorded; later ones never run."""
    proj = failing_project(tmp_path, db_url)
    result = proj.shoal("migrate")
    assert result.code != 0 and "Traceback" not in result.err
    assert "  Applying authors.0001_initial... OK" in result.out
    assert "Applying authors.0002_partial failed" in result.err and "no_such_table" in result.err, result.err
    tables, rows = db_snapshot(db_url)
    assert rows == [("authors", "0001_initial")]
    assert "nick" not in columns(db_url, "authors_author")
    if vendor == "mysql":
        assert "MySQL cannot roll back schema changes" in result.err, result.err
        assert "had already run: Create model Pen; Add field age to Author." in result.err, result.err
        assert "NOT recorded" in result.err and "nick" not in result.err
        assert "authors_pen" in tables and "age" in columns(db_url, "authors_author")
        assert " [ ] 0002_partial" in proj.shoal("showmigrations").out
    else:
        assert "rolled back; nothing of it was applied or recorded" in result.err, result.err
        assert "had already run" not in result.err
        assert "authors_pen" not in tables and "age" not in columns(db_url, "authors_author")
        # Fixed, the same migration then applies cleanly from the untouched schema.
        proj.write("authors/migrations/0002_partial.py", FAILING.format(atomic="", sql="SELECT 1"))
        again = proj.shoal("migrate")
        assert again.code == 0, again.err
        assert "  Applying authors.0002_partial... OK" in again.out
        assert {"age", "nick"} <= columns(db_url, "authors_author")


def test_non_atomic_failure_part_way(tmp_path, db_url, vendor):
    """With atomic = False every backend keeps what ran, and the message lists it."""
    proj = failing_project(tmp_path, db_url, atomic="atomic = False")
    result = proj.shoal("migrate")
    assert result.code != 0 and "Traceback" not in result.err
    reason = "MySQL cannot roll back schema changes" if vendor == "mysql" else "is not atomic (atomic = False)"
    assert reason in result.err, result.err
    assert "had already run: Create model Pen; Add field age to Author." in result.err, result.err
    assert "NOT recorded" in result.err
    tables, rows = db_snapshot(db_url)
    assert rows == [("authors", "0001_initial")]
    assert "authors_pen" in tables and "age" in columns(db_url, "authors_author")
    assert "nick" not in columns(db_url, "authors_author")
