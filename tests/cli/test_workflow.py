"""The guide's basic workflow end to end, on every backend, through the real command."""

from __future__ import annotations

import pytest

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

AUTHORS = """
from shoal import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    {extra}
"""

BOOKS = """
from shoal import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, unique=True)
    author = models.ForeignKey("authors.Author", on_delete=models.CASCADE, related_name="books")
"""


@pytest.fixture
def project(tmp_path, db_url):
    proj = TempProject(tmp_path / "proj", ["authors", "books"], db_url)
    proj.write("authors/models.py", AUTHORS.format(extra=""))
    proj.write("books/models.py", BOOKS)
    return proj


def columns(db_url, table):
    conn = create_connection("check", db_url)
    try:
        return {c.name: c for c in conn.introspection.get_columns(table)}
    finally:
        conn.close()


def test_makemigrations_migrate_show_and_change(project, db_url, vendor):
    """makemigrations -> migrate -> showmigrations -> change -> 0002_author_rating, rows kept."""
    made = project.shoal("makemigrations")
    assert made.code == 0, made.err
    assert "Migrations for 'authors':" in made.out
    assert "authors/migrations/0001_initial.py" in made.out
    assert "+ Create model Author" in made.out
    assert "books/migrations/0001_initial.py" in made.out
    books_initial = project.read("books/migrations/0001_initial.py")
    assert '("authors", "0001_initial")' in books_initial
    assert "initial = True" in books_initial

    again = project.shoal("makemigrations")
    assert again.code == 0 and again.out.strip() == "No changes detected"

    shown = project.shoal("showmigrations")
    assert shown.out.splitlines() == ["authors", " [ ] 0001_initial", "books", " [ ] 0001_initial"]

    applied = project.shoal("migrate")
    assert applied.code == 0, applied.err
    assert applied.out.splitlines() == [
        "Operations to perform:",
        "  Apply all migrations: authors, books",
        "Running migrations:",
        "  Applying authors.0001_initial... OK",
        "  Applying books.0001_initial... OK",
    ]
    cols = columns(db_url, "books_book")
    assert set(cols) == {"id", "title", "isbn", "author_id"}
    assert cols["author_id"].null is False

    conn = create_connection("rows", db_url)
    conn.execute("INSERT INTO authors_author (name) VALUES (%s)", ["Ursula"])
    (author_id,) = conn.fetchall("SELECT id FROM authors_author")[0]
    conn.execute("INSERT INTO books_book (title, isbn, author_id) VALUES (%s, %s, %s)", ["Earthsea", "1", author_id])
    conn.close()

    project.write("authors/models.py", AUTHORS.format(extra="rating = models.IntegerField(default=0)"))
    made = project.shoal("makemigrations")
    assert made.code == 0, made.err
    assert "authors/migrations/0002_author_rating.py" in made.out
    assert "+ Add field rating to author" in made.out

    sql = project.shoal("sqlmigrate", "authors", "0002")
    assert sql.code == 0, sql.err
    assert '"rating"' in sql.out or "`rating`" in sql.out
    assert "ALTER TABLE" in sql.out.upper() or "CREATE TABLE" in sql.out.upper()

    applied = project.shoal("migrate")
    assert "  Applying authors.0002_author_rating... OK" in applied.out, applied.err
    cols = columns(db_url, "authors_author")
    assert "rating" in cols and cols["rating"].null is False
    conn = create_connection("rows", db_url)
    assert conn.fetchall("SELECT name, rating FROM authors_author") == [("Ursula", 0)]
    assert conn.fetchall("SELECT title FROM books_book") == [("Earthsea",)]
    conn.close()

    shown = project.shoal("showmigrations", "authors")
    assert shown.out.splitlines() == ["authors", " [X] 0001_initial", " [X] 0002_author_rating"]
    nothing = project.shoal("migrate")
    assert "  No migrations to apply." in nothing.out
    assert project.shoal("makemigrations", "--check").code == 0


def test_makemigrations_options(project):
    """--dry-run writes nothing, --check exits 1 on missing migrations, --name names the file."""
    dry = project.shoal("makemigrations", "--dry-run")
    assert dry.code == 0 and "0001_initial.py" in dry.out
    assert not (project.path / "authors/migrations/0001_initial.py").exists()
    check = project.shoal("makemigrations", "--check")
    assert check.code == 1
    assert not (project.path / "authors/migrations/0001_initial.py").exists()
    assert project.shoal("makemigrations").code == 0
    project.write("authors/models.py", AUTHORS.format(extra="rating = models.IntegerField(null=True)"))
    named = project.shoal("makemigrations", "authors", "--name", "add_rating")
    assert named.code == 0 and "authors/migrations/0002_add_rating.py" in named.out


def test_migrate_one_app_applies_its_dependencies_first(project):
    """migrate books also applies authors.0001_initial, which books depends on."""
    assert project.shoal("makemigrations").code == 0
    out = project.shoal("migrate", "books").out.splitlines()
    assert out[-2:] == ["  Applying authors.0001_initial... OK", "  Applying books.0001_initial... OK"]
