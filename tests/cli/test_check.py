"""``shoal check`` and the checks makemigrations and migrate run first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.projects import TempProject

FIELDS = '''
from shoal import models


class IPAddressField(models.Field):
    system_check_deprecated_details = {
        "msg": "IPAddressField has been deprecated. Support for it will be removed in shoal 2.0.",
        "hint": "Use GenericIPAddressField instead.",
        "id": "fields.W900",
    }

    def get_internal_type(self):
        return "CharField"


class OldField(models.Field):
    system_check_removed_details = {
        "msg": "OldField has been removed except for support in historical migrations.",
        "hint": "Use TextField instead.",
        "id": "fields.E900",
    }

    def get_internal_type(self):
        return "TextField"
'''

WARNED = FIELDS + '''

class Host(models.Model):
    address = IPAddressField(max_length=15)
'''

BROKEN = FIELDS + '''

class Host(models.Model):
    address = IPAddressField(max_length=15)
    notes = OldField()


class Person(models.Model):
    name = models.CharField(max_length=10)


class Order(models.Model):
    buyer = models.ForeignKey(Person, on_delete=models.CASCADE)
    seller = models.ForeignKey(Person, on_delete=models.CASCADE)
    ghost = models.ForeignKey("shop.Missing", on_delete=models.CASCADE)
'''

CLEAN = '''
from shoal import models


class Person(models.Model):
    name = models.CharField(max_length=10)


class Order(models.Model):
    buyer = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="bought")
    seller = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sold")
'''


@pytest.fixture
def shop(tmp_path: Path) -> TempProject:
    return TempProject(tmp_path / "proj", ["shop"], f"sqlite:///{tmp_path / 'db.sqlite3'}")


def test_check_without_issues(shop: TempProject) -> None:
    """A clean project: exit 0 and Django's one-line summary on stdout."""
    shop.write("shop/models.py", CLEAN)
    result = shop.shoal("check")
    assert result.code == 0, result.err
    assert result.out.strip() == "System check identified no issues (0 silenced)."


def test_deprecated_field_is_a_warning_with_msg_hint_and_id(shop: TempProject) -> None:
    """system_check_deprecated_details is reported as a warning; the command still succeeds."""
    shop.write("shop/models.py", WARNED)
    result = shop.shoal("check")
    assert result.code == 0
    assert result.err.splitlines() == [
        "System check identified some issues:",
        "",
        "WARNINGS:",
        ("shop.Host.address: (fields.W900) IPAddressField has been deprecated. Support for it will be removed "
         "in shoal 2.0."),
        "\tHINT: Use GenericIPAddressField instead.",
        "",
        "System check identified 1 issue (0 silenced).",
    ]


def test_errors_are_listed_with_ids_and_fail(shop: TempProject) -> None:
    """Removed fields, clashing reverse accessors and a missing target are errors: exit 1, all listed."""
    shop.write("shop/models.py", BROKEN)
    result = shop.shoal("check")
    assert result.code == 1
    err = result.err
    assert "Traceback" not in err
    assert "shop.Host.notes: (fields.E900) OldField has been removed except for support in historical migrations." in err
    assert "\tHINT: Use TextField instead." in err
    assert ("shop.Order.buyer: (fields.E304) Reverse accessor 'Person.order_set' for 'shop.Order.buyer' clashes "
            "with reverse accessor for 'shop.Order.seller'.") in err
    assert "Add or change a related_name argument to the definition for 'shop.Order.buyer' or 'shop.Order.seller'." in err
    assert "(fields.E305) Reverse query name for 'shop.Order.buyer'" in err
    assert ("shop.Order.ghost: (fields.E300) Field defines a relation with model 'shop.Missing', which is either "
            "not installed, or is abstract.") in err
    assert err.index("ERRORS:") < err.index("WARNINGS:") < err.index("fields.W900")
    assert "System check identified 7 issues (0 silenced)." in err


def test_fail_level_warning_fails_on_warnings(shop: TempProject) -> None:
    """--fail-level WARNING turns a deprecation warning into a failure."""
    shop.write("shop/models.py", WARNED)
    assert shop.shoal("check", "--fail-level", "WARNING").code == 1


def test_makemigrations_and_migrate_stop_on_errors(shop: TempProject) -> None:
    """Errors stop makemigrations (no file written) and migrate (nothing applied)."""
    shop.write("shop/models.py", CLEAN)
    assert shop.shoal("makemigrations").code == 0
    shop.write("shop/models.py", BROKEN)
    made = shop.shoal("makemigrations")
    assert made.code == 1 and "(fields.E304)" in made.err
    assert sorted(p.name for p in (shop.path / "shop" / "migrations").glob("0*.py")) == ["0001_initial.py"]
    migrated = shop.shoal("migrate")
    assert migrated.code == 1 and "(fields.E300)" in migrated.err
    assert "Applying" not in migrated.out
    skipped = shop.shoal("migrate", "--skip-checks")
    assert skipped.code == 0, skipped.err
    assert "Applying shop.0001_initial... OK" in skipped.out


def test_warnings_are_printed_and_commands_go_on(shop: TempProject) -> None:
    """A deprecation warning is printed by makemigrations and migrate, which still do their work."""
    shop.write("shop/models.py", WARNED)
    made = shop.shoal("makemigrations")
    assert made.code == 0, made.err
    assert "(fields.W900)" in made.err and "0001_initial.py" in made.out
    migrated = shop.shoal("migrate")
    assert migrated.code == 0 and "(fields.W900)" in migrated.err


def test_check_database_and_deploy_options(tmp_path: Path, db_url: str, vendor: str) -> None:
    """--database runs the backend's checks on that database; --deploy is accepted."""
    proj = TempProject(tmp_path / "proj", ["shop"], db_url)
    proj.write("shop/models.py", CLEAN)
    result = proj.shoal("check", "--database", "default", "--deploy")
    assert result.code == 0, result.err
    assert "System check identified" in result.out + result.err
    missing = proj.shoal("check", "--database", "nope")
    assert missing.code == 1 and "No database named 'nope'" in missing.err


def test_silenced_system_checks_are_not_reported_but_counted(tmp_path: Path) -> None:
    """[tool.shoal] silenced_system_checks hides those ids (even errors) and counts them, as Django's setting."""
    shop = TempProject(tmp_path / "proj", ["shop"], f"sqlite:///{tmp_path / 'db.sqlite3'}",
                       extra_toml='silenced_system_checks = ["fields.W900", "fields.E900"]\n')
    shop.write("shop/models.py", FIELDS + '''

class Host(models.Model):
    address = IPAddressField(max_length=15)
    notes = OldField()
''')
    result = shop.shoal("check")
    assert result.code == 0, result.err
    assert result.out.strip() == "System check identified no issues (2 silenced)."
    assert shop.shoal("makemigrations", "--noinput").code == 0


def test_silenced_system_checks_must_be_a_list_of_ids(tmp_path: Path) -> None:
    """A malformed silenced_system_checks is a config error naming the key."""
    shop = TempProject(tmp_path / "proj", ["shop"], f"sqlite:///{tmp_path / 'db.sqlite3'}",
                       extra_toml='silenced_system_checks = "fields.W900"\n')
    shop.write("shop/models.py", CLEAN)
    result = shop.shoal("check")
    assert result.code != 0 and "silenced_system_checks" in result.err and "Traceback" not in result.err


def test_db_default_reading_a_column_is_an_error(shop: TempProject) -> None:
    """A db_default expression that refers to another column stops makemigrations (fields.E012),
    before any file is written, naming the field and the expression."""
    shop.write("shop/models.py", '''
from shoal import models
from shoal.models.functions import Lower


class Item(models.Model):
    name = models.CharField(max_length=10)
    slug = models.CharField(max_length=10, db_default=Lower("name"))
    made = models.CharField(max_length=10, db_default=Lower(models.Value("X")))
''')
    result = shop.shoal("makemigrations")
    assert result.code == 1 and "Traceback" not in result.err
    assert "shop.Item.slug: (fields.E012) F(name) in Lower('name') refers to the column 'name'" in result.err
    assert "models.Value('name')" in result.err
    assert "shop.Item.made" not in result.err
    assert not (shop.path / "shop" / "migrations" / "0001_initial.py").exists()
