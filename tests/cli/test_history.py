"""Working with history: targets, unapplying, --plan, --check, --fake, --fake-initial, merges."""

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
    author = models.ForeignKey("authors.Author", on_delete=models.CASCADE)
"""


@pytest.fixture
def project(tmp_path, db_url):
    proj = TempProject(tmp_path / "proj", ["authors", "books"], db_url)
    proj.write("authors/models.py", AUTHORS.format(extra=""))
    proj.write("books/models.py", BOOKS)
    assert proj.shoal("makemigrations").code == 0
    proj.write("authors/models.py", AUTHORS.format(extra="rating = models.IntegerField(default=0)"))
    assert proj.shoal("makemigrations").code == 0
    return proj


def tables(db_url):
    conn = create_connection("t", db_url)
    try:
        return set(conn.introspection.table_names())
    finally:
        conn.close()


def cols(db_url, table):
    conn = create_connection("t", db_url)
    try:
        return set(conn.introspection.column_names(table))
    finally:
        conn.close()


def test_migrate_to_target_and_back(project, db_url):
    """migrate APP NAME moves forwards or backwards to that node; zero unapplies dependents first."""
    out = project.shoal("migrate", "authors", "0001")
    assert out.code == 0, out.err
    assert "  Target specific migration: 0001_initial, from authors" in out.out
    assert "rating" not in cols(db_url, "authors_author")
    assert project.shoal("migrate").code == 0
    assert "rating" in cols(db_url, "authors_author")
    back = project.shoal("migrate", "authors", "0001")
    assert "  Unapplying authors.0002_author_rating... OK" in back.out, back.err
    assert "rating" not in cols(db_url, "authors_author")
    zero = project.shoal("migrate", "authors", "zero")
    assert zero.code == 0, zero.err
    lines = zero.out.splitlines()
    # books depends on authors: it is unapplied first.
    assert lines.index("  Unapplying books.0001_initial... OK") < lines.index("  Unapplying authors.0001_initial... OK")
    assert not {"authors_author", "books_book"} & tables(db_url)


def test_plan_and_check(project):
    """--plan lists operations (and Undo when going back); --check exits 1 while anything is unapplied."""
    assert project.shoal("migrate", "--check").code == 1
    plan = project.shoal("migrate", "--plan")
    assert plan.code == 0
    assert "authors.0002_author_rating\n    Add field rating to author" in plan.out
    assert project.shoal("migrate").code == 0
    assert project.shoal("migrate", "--check").code == 0
    back = project.shoal("migrate", "authors", "0001", "--plan")
    assert "Undo Add field rating to author" in back.out


def test_fake_and_fake_initial(project, db_url):
    """--fake records without running; --fake-initial fakes only when every table exists."""
    assert project.shoal("migrate", "authors", "0001", "--fake").code == 0
    assert "authors_author" not in tables(db_url)
    assert " [X] 0001_initial" in project.shoal("showmigrations", "authors").out
    assert project.shoal("migrate", "authors", "zero", "--fake").code == 0
    # Create the tables for real, forget the record, then fake the initial migrations.
    assert project.shoal("migrate", "books", "0001").code == 0
    assert project.shoal("migrate", "authors", "zero", "--fake").code == 0
    out = project.shoal("migrate", "--fake-initial")
    assert out.code == 0, out.err
    assert "  Applying authors.0001_initial... FAKED" in out.out
    assert "  Applying books.0001_initial... FAKED" in out.out
    assert "  Applying authors.0002_author_rating... OK" in out.out


def test_conflicting_leaves_then_merge(project):
    """Two 0002 migrations: migrate and makemigrations refuse; --merge --noinput fixes it."""
    project.write("authors/migrations/0002_author_nick.py", """
        from shoal import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("authors", "0001_initial")]
            operations = [migrations.AddField("Author", "nick", models.CharField(max_length=10, null=True))]
    """)
    refused = project.shoal("migrate")
    assert refused.code != 0
    assert "0002_author_nick" in refused.err and "0002_author_rating" in refused.err and "--merge" in refused.err
    assert project.shoal("makemigrations").code != 0
    merged = project.shoal("makemigrations", "--merge", "--noinput")
    assert merged.code == 0, merged.err
    assert "0003_merge_0002_author_nick_0002_author_rating" in merged.out
    assert project.shoal("migrate").code == 0
    project.write("authors/models.py", AUTHORS.format(
        extra="rating = models.IntegerField(default=0)\n    nick = models.CharField(max_length=10, null=True)"))
    assert project.shoal("makemigrations", "--check").code == 0


def test_showmigrations_verbose_shows_applied_time(project):
    """showmigrations -v 2 prints when each applied migration was applied."""
    assert project.shoal("migrate").code == 0
    out = project.shoal("showmigrations", "authors", "-v", "2")
    assert out.code == 0, out.err
    assert " [X] 0001_initial (applied at 20" in out.out
