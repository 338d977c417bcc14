"""Every bad input gets a clear error naming the thing, a non-zero exit and no traceback."""

from __future__ import annotations

from tests.cli.projects import TempProject

MODELS = """
from shoal import models


class Author(models.Model):
    name = models.CharField(max_length=100)
"""


def make(tmp_path, apps=("authors",), url=None, extra_toml=""):
    proj = TempProject(tmp_path / "p", list(apps), url or f"sqlite:///{tmp_path}/db.sqlite3", extra_toml)
    for app in apps:
        proj.write(f"{app}/models.py", MODELS if app == "authors" else "")
    return proj


def assert_clean_error(result, *needles):
    assert result.code != 0
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in result.err, result.err


def test_no_config(tmp_path):
    """Without [tool.shoal] anywhere up the tree, the error says what to add."""
    proj = TempProject(tmp_path / "p", [], "sqlite://")
    (proj.path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert_clean_error(proj.shoal("migrate"), "No [tool.shoal] table")


def test_app_that_does_not_import(tmp_path):
    """An app listed in apps that does not exist is named."""
    proj = make(tmp_path)
    (proj.path / "pyproject.toml").write_text('[tool.shoal]\napps = ["authors", "nosuchapp"]\n')
    assert_clean_error(proj.shoal("makemigrations"), "nosuchapp")


def test_duplicate_labels(tmp_path):
    """Two apps with one label are refused, both modules named."""
    proj = make(tmp_path)
    proj.write("other/authors/__init__.py", "")
    proj.write("other/__init__.py", "")
    (proj.path / "pyproject.toml").write_text('[tool.shoal]\napps = ["authors", "other.authors"]\n')
    assert_clean_error(proj.shoal("makemigrations"), "two apps have the label 'authors'", "other.authors")


def test_unknown_url_scheme_hides_password(tmp_path):
    """A bad database URL names the scheme and never prints the password."""
    proj = make(tmp_path, url="oracle://scott:tiger@db/x")
    result = proj.shoal("migrate")
    assert_clean_error(result, "oracle")
    assert "tiger" not in result.err + result.out


def test_unreachable_server_hides_password(tmp_path):
    """A server that does not answer gives a one-paragraph error without the password."""
    proj = make(tmp_path, url="postgresql://someone:s3cret@127.0.0.1:1/nodb")
    result = proj.shoal("migrate")
    assert_clean_error(result)
    assert "s3cret" not in result.err + result.out


def test_syntax_error_in_migration_file(tmp_path):
    """A migration file that does not parse is named with its line."""
    proj = make(tmp_path)
    assert proj.shoal("makemigrations").code == 0
    proj.write("authors/migrations/0002_broken.py", "from shoal import migrations\nclass Migration(migrations.Migration:\n")
    assert_clean_error(proj.shoal("migrate"), "0002_broken.py")
    assert_clean_error(proj.shoal("showmigrations"), "0002_broken.py")


def test_missing_dependency(tmp_path):
    """A dependency on a migration that does not exist names both ends; nothing is applied."""
    proj = make(tmp_path)
    assert proj.shoal("makemigrations").code == 0
    proj.write("authors/migrations/0002_next.py", """
        from shoal import migrations

        class Migration(migrations.Migration):
            dependencies = [("authors", "0001_initial"), ("authors", "0009_missing")]
    """)
    assert_clean_error(proj.shoal("migrate"), "0002_next", "0009_missing")
    assert "[X]" not in proj.shoal("showmigrations").out


def test_lambda_default(tmp_path):
    """A lambda default cannot be written: model, field and value are named, no file written."""
    proj = make(tmp_path)
    proj.write("authors/models.py", MODELS + "    code = models.CharField(max_length=5, default=lambda: 'x')\n")
    assert_clean_error(proj.shoal("makemigrations"), "authors", "code", "lambda")
    assert not (proj.path / "authors/migrations/0001_initial.py").exists()


def test_unknown_app_label(tmp_path):
    """Naming an app that is not installed is an error listing the installed ones."""
    proj = make(tmp_path)
    assert_clean_error(proj.shoal("makemigrations", "nope"), "nope", "authors")


def test_traceback_flag_shows_traceback(tmp_path):
    """--traceback shows the traceback of a user error."""
    proj = make(tmp_path)
    result = proj.shoal("makemigrations", "nope", "--traceback")
    assert result.code != 0 and "Traceback" in result.err


def test_failing_migration_is_not_recorded(tmp_path):
    """A migration whose SQL fails is rolled back and not recorded (SQLite)."""
    proj = make(tmp_path)
    assert proj.shoal("makemigrations").code == 0
    proj.write("authors/migrations/0002_bad.py", """
        from shoal import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("authors", "0001_initial")]
            operations = [
                migrations.AddField("Author", "age", models.IntegerField(null=True)),
                migrations.RunSQL("SELECT * FROM no_such_table"),
            ]
    """)
    result = proj.shoal("migrate")
    assert_clean_error(result, "authors.0002_bad", "no_such_table", "rolled back")
    assert " [ ] 0002_bad" in proj.shoal("showmigrations").out
    assert " [X] 0001_initial" in proj.shoal("showmigrations").out
