"""[tool.shoal.migration_modules]: migrations stored elsewhere, or an app without migrations.

Through the real `shoal` command on every backend: makemigrations writes to the
configured module and migrate reads from it; ``false`` makes an unmigrated app
whose tables ``migrate --run-syncdb`` creates directly, the first stage of the
guide's "adding migrations to apps" (the second: makemigrations, then
``migrate --fake-initial``).
"""

from __future__ import annotations

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

BOOKS = """
from shoal import models


class Book(models.Model):
    title = models.CharField(max_length=100)
    {extra}
"""

LEGACY = """
from shoal import models


class Client(models.Model):
    name = models.CharField(max_length=60)
    {extra}
"""


def read_schema(db_url: str) -> tuple[set[str], list[tuple[str, str]]]:
    """(tables, recorded migrations) read back from the database."""
    conn = create_connection("schema", db_url)
    try:
        tables = set(conn.introspection.table_names())
        rows = []
        if "shoal_migrations" in tables:
            rows = [tuple(r) for r in conn.fetchall("SELECT app, name FROM shoal_migrations ORDER BY id")]
        return tables, rows  # type: ignore[return-value]
    finally:
        conn.close()


def columns(db_url: str, table: str) -> set[str]:
    conn = create_connection("cols", db_url)
    try:
        return set(conn.introspection.column_names(table))
    finally:
        conn.close()


def foreign_keys(db_url: str, table: str) -> dict[str, tuple[str, str]]:
    conn = create_connection("fks", db_url)
    try:
        return {
            i.columns[0]: tuple(i.foreign_key)  # type: ignore[misc]
            for i in conn.introspection.get_constraints(table).values()
            if i.foreign_key
        }
    finally:
        conn.close()


def test_migrations_in_another_module(tmp_path, db_url):
    """makemigrations writes into the configured module (creating it), migrate and
    showmigrations read from there, and the default migrations/ package is never made."""
    toml = '[tool.shoal.migration_modules]\nbooks = "books.db_migrations"\n'
    proj = TempProject(tmp_path / "p", ["books"], db_url, extra_toml=toml)
    proj.write("books/models.py", BOOKS.format(extra=""))
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    assert "books/db_migrations/0001_initial.py" in made.out
    assert (proj.path / "books/db_migrations/__init__.py").is_file()
    assert not (proj.path / "books/migrations").exists()
    proj.write("books/models.py", BOOKS.format(extra="pages = models.IntegerField(default=0)"))
    second = proj.shoal("makemigrations")
    assert second.code == 0, second.err
    assert "books/db_migrations/0002_book_pages.py" in second.out
    assert 'dependencies = [\n        ("books", "0001_initial"),\n    ]' in proj.read("books/db_migrations/0002_book_pages.py")
    result = proj.shoal("migrate")
    assert result.code == 0, result.err
    assert "  Applying books.0001_initial... OK" in result.out
    assert "  Applying books.0002_book_pages... OK" in result.out
    tables, rows = read_schema(db_url)
    assert "books_book" in tables and {"title", "pages"} <= columns(db_url, "books_book")
    assert rows == [("books", "0001_initial"), ("books", "0002_book_pages")]
    shown = proj.shoal("showmigrations", "books")
    assert shown.out.splitlines() == ["books", " [X] 0001_initial", " [X] 0002_book_pages"]
    sql = proj.shoal("sqlmigrate", "books", "0002")
    assert sql.code == 0 and "pages" in sql.out, sql.err


def test_migrations_module_outside_the_app(tmp_path, db_url):
    """A module in another package (whose intermediate packages do not exist yet) works too."""
    toml = '[tool.shoal.migration_modules]\nbooks = "deploy.schema.books"\n'
    proj = TempProject(tmp_path / "p", ["books"], db_url, extra_toml=toml)
    proj.write("deploy/__init__.py", "")
    proj.write("books/models.py", BOOKS.format(extra=""))
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    assert (proj.path / "deploy/schema/__init__.py").is_file()
    assert (proj.path / "deploy/schema/books/0001_initial.py").is_file()
    assert not (proj.path / "books/migrations").exists()
    result = proj.shoal("migrate")
    assert result.code == 0, result.err
    assert "  Applying books.0001_initial... OK" in result.out
    assert "books_book" in read_schema(db_url)[0]


def test_missing_configured_module_is_an_error_for_migrate(tmp_path, db_url):
    """migrate with a configured migrations module that does not exist names the module."""
    toml = '[tool.shoal.migration_modules]\nbooks = "books.nowhere"\n'
    proj = TempProject(tmp_path / "p", ["books"], db_url, extra_toml=toml)
    proj.write("books/models.py", BOOKS.format(extra=""))
    result = proj.shoal("migrate")
    assert result.code != 0 and "Traceback" not in result.err
    assert "books.nowhere" in result.err, result.err


def test_unmigrated_app_tables_come_from_run_syncdb(tmp_path, db_url):
    """`legacy = false` gets no migrations; --run-syncdb creates its tables before the
    migrations run, so a migrated app's FK to it works; plain migrate leaves it alone."""
    toml = '[tool.shoal.migration_modules]\nlegacy = false\n'
    proj = TempProject(tmp_path / "p", ["books", "legacy"], db_url, extra_toml=toml)
    proj.write("legacy/models.py", LEGACY.format(extra=""))
    proj.write("books/models.py", BOOKS.format(
        extra='client = models.ForeignKey("legacy.Client", on_delete=models.CASCADE)'))
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    assert "Migrations for 'legacy'" not in made.out
    assert not (proj.path / "legacy/migrations").exists()
    refused = proj.shoal("makemigrations", "legacy")
    assert refused.code != 0 and "Traceback" not in refused.err
    assert "'legacy'" in refused.err and "migration_modules" in refused.err, refused.err
    plan = proj.shoal("migrate", "--plan")
    assert plan.code == 0, plan.err
    assert "books.0001_initial" in plan.out and "legacy." not in plan.out
    result = proj.shoal("migrate", "--run-syncdb")
    assert result.code == 0, result.err
    assert "  Synchronize unmigrated apps: legacy" in result.out
    assert "    Creating table legacy_client" in result.out
    assert result.out.index("Creating table legacy_client") < result.out.index("Applying books.0001_initial... OK")
    tables, rows = read_schema(db_url)
    assert {"legacy_client", "books_book"} <= tables
    assert rows == [("books", "0001_initial")]
    assert foreign_keys(db_url, "books_book") == {"client_id": ("legacy_client", "id")}
    shown = proj.shoal("showmigrations")
    assert "legacy\n (no migrations)" in shown.out, shown.out
    again = proj.shoal("migrate", "--run-syncdb")
    assert again.code == 0, again.err
    assert "Creating table legacy" not in again.out and "No migrations to apply." in again.out


def test_unmigrated_app_then_adopt_migrations(tmp_path, db_url):
    """The guide's path: an unmigrated app's table made by --run-syncdb; then the setting is
    dropped, makemigrations writes 0001_initial and migrate --fake-initial fakes it over the
    existing table; later changes migrate normally."""
    toml = '[tool.shoal.migration_modules]\nlegacy = false\n'
    proj = TempProject(tmp_path / "p", ["books", "legacy"], db_url, extra_toml=toml)
    proj.write("legacy/models.py", LEGACY.format(extra=""))
    proj.write("books/models.py", BOOKS.format(extra=""))
    assert proj.shoal("makemigrations").code == 0
    plain = proj.shoal("migrate")
    assert plain.code == 0, plain.err
    assert "legacy_client" not in read_schema(db_url)[0]
    synced = proj.shoal("migrate", "--run-syncdb")
    assert synced.code == 0, synced.err
    assert "    Creating table legacy_client" in synced.out
    assert "legacy_client" in read_schema(db_url)[0]

    config = proj.path / "pyproject.toml"
    config.write_text(config.read_text().replace("legacy = false\n", ""))
    made = proj.shoal("makemigrations", "legacy")
    assert made.code == 0, made.err
    assert "legacy/migrations/0001_initial.py" in made.out
    refused = proj.shoal("migrate")
    assert refused.code != 0 and "legacy_client" in refused.err, refused.out + refused.err
    adopted = proj.shoal("migrate", "--fake-initial")
    assert adopted.code == 0, adopted.err
    assert "  Applying legacy.0001_initial... FAKED" in adopted.out
    assert read_schema(db_url)[1] == [("books", "0001_initial"), ("legacy", "0001_initial")]
    proj.write("legacy/models.py", LEGACY.format(extra="email = models.CharField(max_length=80, default='')"))
    assert proj.shoal("makemigrations").code == 0
    evolved = proj.shoal("migrate")
    assert evolved.code == 0, evolved.err
    assert "  Applying legacy.0002_client_email... OK" in evolved.out
    assert "email" in columns(db_url, "legacy_client")


def test_run_syncdb_skips_swapped_out_model(tmp_path, db_url):
    """An unmigrated app's model swapped out by its swappable setting gets no table."""
    toml = ('[tool.shoal.migration_modules]\nlegacy = false\n'
            '[tool.shoal.swappable]\nAUTH_USER_MODEL = "legacy.Member"\n')
    proj = TempProject(tmp_path / "p", ["legacy"], db_url, extra_toml=toml)
    proj.write("legacy/models.py", """
        from shoal import models

        class User(models.Model):
            username = models.CharField(max_length=30)

            class Meta:
                swappable = "AUTH_USER_MODEL"

        class Member(models.Model):
            handle = models.CharField(max_length=30)
    """)
    result = proj.shoal("migrate", "--run-syncdb")
    assert result.code == 0, result.err
    assert "    Creating table legacy_member" in result.out
    tables = read_schema(db_url)[0]
    assert "legacy_member" in tables and "legacy_user" not in tables
