"""Data migrations through the real command, on every backend: the guide's
``makemigrations --empty`` + ``combine_names`` walk-through, historical models
as RunPython sees them, and the cross-app LookupError."""

from __future__ import annotations

import json
import re

import pytest

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

PERSON_V1 = """
from shoal import models


class Person(models.Model):
    first_name = models.CharField(max_length=30)
    last_name = models.CharField(max_length=30)
"""

PERSON_V2 = PERSON_V1 + """    name = models.CharField(max_length=61, default="")
"""

# The guide's example, pasted as is with shoal imports (plus the save() the
# full Django docs have, which the guide's text lost).
COMBINE_NAMES = """
# -*- coding: utf-8 -*-
from shoal import models, migrations

def combine_names(apps, schema_editor):
    # We can't import the Person model directly as it may be a newer
    # version than this migration expects. We use the historical version.
    Person = apps.get_model("people", "Person")
    for person in Person.objects.all():
        person.name = "%s %s" % (person.first_name, person.last_name)
        person.save()
{extra}
class Migration(migrations.Migration):

    dependencies = [
        ('people', '{previous}'),
    ]

    operations = [
        migrations.RunPython({operation}),
    ]
"""

SPLIT_NAMES = """
def split_names(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    for person in Person.objects.all():
        person.first_name, _, person.last_name = person.name.partition(" ")
        person.name = ""
        person.save()
"""


def sql(db_url: str, statement: str, params: list | None = None) -> list[tuple]:
    """Run one statement on a fresh connection; rows for a SELECT."""
    conn = create_connection("check", db_url)
    try:
        if statement.lstrip().upper().startswith("SELECT"):
            return conn.fetchall(statement, params)
        conn.execute(statement, params)
        return []
    finally:
        conn.close()


def tables(db_url: str) -> set[str]:
    conn = create_connection("check", db_url)
    try:
        return set(conn.introspection.table_names())
    finally:
        conn.close()


def columns(db_url: str, table: str) -> set[str]:
    conn = create_connection("check", db_url)
    try:
        return {c.name for c in conn.introspection.get_columns(table)}
    finally:
        conn.close()


def ok(result) -> str:
    assert result.code == 0, result.out + result.err
    return result.out


def assert_clean_error(result, *needles: str) -> None:
    assert result.code != 0, result.out
    assert "Traceback" not in result.err, result.err
    for needle in needles:
        assert needle in result.err, result.err


@pytest.fixture
def people(tmp_path, db_url):
    proj = TempProject(tmp_path / "proj", ["people"], db_url)
    proj.write("people/models.py", PERSON_V1)
    return proj


def only_file(proj: TempProject, pattern: str) -> str:
    found = sorted(p.name for p in (proj.path / "people/migrations").glob(pattern))
    assert len(found) == 1, found
    return found[0]


# -- point 2: the guide's walk-through ------------------------------------------------


def test_makemigrations_empty_writes_the_guides_empty_migration(people):
    """makemigrations --empty APP writes a numbered, empty migration depending on the app's leaf."""
    ok(people.shoal("makemigrations"))
    out = ok(people.shoal("makemigrations", "--empty", "people"))
    name = only_file(people, "0002_*.py")
    assert re.fullmatch(r"0002_auto_\d{8}_\d{4}\.py", name)
    assert out.splitlines() == ["Migrations for 'people':", f"  people/migrations/{name}"]
    source = people.read(f"people/migrations/{name}")
    assert "from shoal import migrations\n" in source
    assert "class Migration(migrations.Migration):" in source
    assert 'dependencies = [\n        ("people", "0001_initial"),\n    ]' in source
    assert "operations = []" in source
    compile(source, name, "exec")
    # It is a real migration: applying it does nothing but record it.
    assert f"Applying people.{name[:-3]}... OK" in ok(people.shoal("migrate"))
    ok(people.shoal("makemigrations", "--empty", "people", "--name", "combine_names"))
    third = people.read("people/migrations/0003_combine_names.py")
    assert f'("people", "{name[:-3]}")' in third


def test_makemigrations_empty_without_app_is_a_clean_error(people):
    """--empty needs an app label: one-paragraph error, no file."""
    assert_clean_error(people.shoal("makemigrations", "--empty"), "app label")
    assert not (people.path / "people/migrations").exists()


def test_combine_names_forwards_and_back(people, db_url):
    """The guide's combine_names fills name on real rows; with a reverse callable it migrates back."""
    ok(people.shoal("makemigrations"))
    ok(people.shoal("migrate"))
    sql(db_url, "INSERT INTO people_person (first_name, last_name) VALUES (%s, %s), (%s, %s)",
        ["Ada", "Lovelace", "Alan", "Turing"])
    people.write("people/models.py", PERSON_V2)
    assert "0002_person_name.py" in ok(people.shoal("makemigrations"))
    ok(people.shoal("makemigrations", "--empty", "people", "-n", "combine_names"))
    people.write("people/migrations/0003_combine_names.py",
                 COMBINE_NAMES.format(previous="0002_person_name", extra="", operation="combine_names"))
    out = ok(people.shoal("migrate"))
    assert out.splitlines()[-2:] == ["  Applying people.0002_person_name... OK",
                                     "  Applying people.0003_combine_names... OK"]
    assert sql(db_url, "SELECT first_name, name FROM people_person ORDER BY id") == [
        ("Ada", "Ada Lovelace"), ("Alan", "Alan Turing")]
    assert ok(people.shoal("makemigrations", "--check")).strip() == "No changes detected"

    # Without a reverse callable, going back is refused and changes nothing.
    back = people.shoal("migrate", "people", "0002")
    assert_clean_error(back, "people.0003_combine_names", "Raw Python operation", "not reversible")
    assert " [X] 0003_combine_names" in ok(people.shoal("showmigrations"))
    assert sql(db_url, "SELECT name FROM people_person ORDER BY id") == [("Ada Lovelace",), ("Alan Turing",)]

    # With one, it does: rows are migrated back.
    people.write("people/migrations/0003_combine_names.py", COMBINE_NAMES.format(
        previous="0002_person_name", extra=SPLIT_NAMES, operation="combine_names, split_names"))
    sql(db_url, "UPDATE people_person SET name = %s, first_name = %s WHERE first_name = %s",
        ["Augusta Byron", "?", "Ada"])
    out = ok(people.shoal("migrate", "people", "0002"))
    assert "  Unapplying people.0003_combine_names... OK" in out
    assert sql(db_url, "SELECT first_name, last_name, name FROM people_person ORDER BY id") == [
        ("Augusta", "Byron", ""), ("Alan", "Turing", "")]
    assert " [ ] 0003_combine_names" in ok(people.shoal("showmigrations"))
    ok(people.shoal("migrate"))
    assert sql(db_url, "SELECT name FROM people_person ORDER BY id") == [("Augusta Byron",), ("Alan Turing",)]


# -- point 3: historical models ----------------------------------------------------------

MANAGERS = """
from shoal import models


class AdultQuerySet(models.QuerySet):
    def adults(self):
        return self.filter(age__gte=18)


class BasePersonManager(models.Manager):
    def named(self, first):
        return self.filter(first_name=first)


class PersonManager(BasePersonManager.from_queryset(AdultQuerySet)):
    use_in_migrations = True


class ArchiveManager(models.Manager):
    pass
"""

MIXINS = """
class GreeterMixin:
    def greet(self):
        return "hello " + self.first_name
"""

PEOPLE_HISTORY_V1 = """
from shoal import models

from people.managers import ArchiveManager, PersonManager
from people.mixins import GreeterMixin


class Person(GreeterMixin, models.Model):
    first_name = models.CharField(max_length=30)
    last_name = models.CharField(max_length=30)
    age = models.IntegerField(default=0)
    legacy_code = models.CharField(max_length=10, default="old")

    objects = PersonManager()
    archive = ArchiveManager()

    class Meta:
        ordering = ["last_name"]
        verbose_name = "human"

    def full_name(self):
        return self.first_name + " " + self.last_name

    def save(self, *args, **kwargs):
        self.last_name = self.last_name.upper()
        super().save(*args, **kwargs)


class Student(Person):
    school = models.CharField(max_length=50, default="")
"""

PEOPLE_HISTORY_V2 = """
from shoal import models

from people.managers import ArchiveManager, PersonManager
from people.mixins import GreeterMixin


class Person(GreeterMixin, models.Model):
    first_name = models.CharField(max_length=30)
    last_name = models.CharField(max_length=30)
    age = models.IntegerField(default=0)
    nickname = models.CharField(max_length=30, default="")

    objects = PersonManager()
    archive = ArchiveManager()

    class Meta:
        ordering = ["first_name"]
        verbose_name = "person"

    def full_name(self):
        return self.first_name + " " + self.last_name

    def save(self, *args, **kwargs):
        self.last_name = self.last_name.upper()
        super().save(*args, **kwargs)


class Student(Person):
    school = models.CharField(max_length=50, default="")
"""

INSPECT = """
import json
from pathlib import Path

from shoal import migrations


def inspect(apps, schema_editor):
    from people.managers import PersonManager
    from people.mixins import GreeterMixin

    Person = apps.get_model("people", "Person")
    Student = apps.get_model("people", "Student")
    Person.objects.create(first_name="Ada", last_name="lovelace", age=36)
    Person.objects.create(first_name="Tim", last_name="minor", age=9)
    Student.objects.create(first_name="Sue", last_name="pupil", age=19, school="Elm")
    kid = Person(first_name="Kid", last_name="lower", age=3)
    kid.save()
    seen = {
        "fields": [f.name for f in Person._meta.fields],
        "student_fields": [f.name for f in Student._meta.fields],
        "ordering": list(Person._meta.ordering),
        "verbose_name": str(Person._meta.verbose_name),
        "db_table": Person._meta.db_table,
        "module": Person.__module__,
        "manager_class": type(Person.objects).__name__,
        "manager_is_users": isinstance(Person.objects, PersonManager),
        "adults": sorted(p.first_name for p in Person.objects.adults()),
        "named": [p.last_name for p in Person.objects.named("Ada")],
        "archive": hasattr(Person, "archive"),
        "mixin_base": issubclass(Person, GreeterMixin),
        "greet": kid.greet(),
        "student_is_person": issubclass(Student, Person),
        "full_name": hasattr(Person, "full_name"),
        "ordered": [p.last_name for p in Person.objects.all()],
        "same_class_again": apps.get_model("people", "person") is Person,
    }
    out = Path(__file__).resolve().parents[2] / "seen.json"
    out.write_text(json.dumps(seen))


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(inspect, migrations.RunPython.noop)]
"""


@pytest.fixture
def history(tmp_path, db_url):
    """people: 0001 (v1), 0002 RunPython inspect, 0003 (v2: nickname added, legacy_code removed, new Meta)."""
    proj = TempProject(tmp_path / "proj", ["people"], db_url)
    proj.write("people/managers.py", MANAGERS)
    proj.write("people/mixins.py", MIXINS)
    proj.write("people/models.py", PEOPLE_HISTORY_V1)
    ok(proj.shoal("makemigrations"))
    proj.write("people/migrations/0002_inspect.py", INSPECT)
    proj.write("people/models.py", PEOPLE_HISTORY_V2)
    assert "0003_" in ok(proj.shoal("makemigrations"))
    return proj


def test_initial_migration_serializes_the_use_in_migrations_manager(history):
    """The manager with use_in_migrations is written into CreateModel; the other is not."""
    initial = history.read("people/migrations/0001_initial.py")
    assert "people.managers.PersonManager()" in initial
    assert "ArchiveManager" not in initial
    assert "people.mixins.GreeterMixin" in initial


def test_historical_model_is_the_model_of_that_point_in_history(history, db_url):
    """get_model() in RunPython: fields/Meta as they were, use_in_migrations managers, bases, no custom methods."""
    out = ok(history.shoal("migrate"))
    assert "  Applying people.0002_inspect... OK" in out
    seen = json.loads(history.read("seen.json"))
    # A field added later is absent, a field removed later is present.
    assert seen["fields"] == ["id", "first_name", "last_name", "age", "legacy_code"]
    assert seen["student_fields"][-2:] == ["person_ptr", "school"]
    # Meta as it was then (current models.py says first_name / "person").
    assert seen["ordering"] == ["last_name"]
    assert seen["verbose_name"] == "human"
    assert seen["db_table"] == "people_person"
    assert seen["module"] == "__fake__"
    # The use_in_migrations manager, a from_queryset() subclass, works; the other is gone.
    assert seen["manager_class"] == "PersonManager" and seen["manager_is_users"] is True
    assert seen["adults"] == ["Ada", "Sue"]
    assert seen["named"] == ["lovelace"]
    assert seen["archive"] is False
    # Base classes kept (their methods inherit), the model's own methods are not there.
    assert seen["mixin_base"] is True and seen["greet"] == "hello Kid"
    assert seen["student_is_person"] is True
    assert seen["full_name"] is False
    assert seen["ordered"] == ["lovelace", "lower", "minor", "pupil"]
    assert seen["same_class_again"] is True
    # The custom save() (which upper-cases last_name) never ran.
    assert sql(db_url, "SELECT last_name FROM people_person ORDER BY id") == [
        ("lovelace",), ("minor",), ("pupil",), ("lower",)]
    # And the legacy column really was removed afterwards, nickname added.
    assert {"nickname"} <= columns(db_url, "people_person")
    assert "legacy_code" not in columns(db_url, "people_person")


def test_historical_model_rows_roll_back_with_a_failing_migration(history, db_url, vendor):
    """Rows written through historical models vanish when a later operation of the migration fails."""
    history.write("people/migrations/0002_inspect.py", INSPECT.replace(
        "operations = [migrations.RunPython(inspect, migrations.RunPython.noop)]",
        "operations = [migrations.RunPython(inspect), migrations.RunSQL('SELECT * FROM no_such_table')]"))
    result = history.shoal("migrate")
    assert_clean_error(result, "people.0002_inspect", "no_such_table")
    shown = ok(history.shoal("showmigrations"))
    assert " [X] 0001_initial" in shown and " [ ] 0002_inspect" in shown
    if vendor != "mysql":
        assert "rolled back" in result.err
        assert sql(db_url, "SELECT count(*) FROM people_person") == [(0,)]


# -- accessing models from other apps ----------------------------------------------------

SHOP_MODELS = """
from shoal import models


class Order(models.Model):
    number = models.IntegerField()
"""

CROSS_APP = """
from shoal import migrations


def copy_orders(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    Person = apps.get_model("people", "Person")
    for order in Order.objects.all():
        Person.objects.create(first_name="order", last_name=str(order.number))


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        {extra}
    ]
    operations = [migrations.RunPython(copy_orders)]
"""


@pytest.fixture
def two_apps(tmp_path, db_url):
    proj = TempProject(tmp_path / "proj", ["people", "shop"], db_url)
    proj.write("people/models.py", PERSON_V1)
    proj.write("shop/models.py", SHOP_MODELS)
    ok(proj.shoal("makemigrations"))
    return proj


def test_model_of_an_app_not_depended_on_is_a_lookup_error(two_apps, db_url):
    """get_model() of an app the migration does not depend on raises LookupError saying to add the dependency."""
    two_apps.write("people/migrations/0002_copy_orders.py", CROSS_APP.format(extra=""))
    result = two_apps.shoal("migrate", "people")
    assert result.code != 0
    assert "people.0002_copy_orders" in result.err
    assert "LookupError: No installed app with label 'shop'" in result.err
    assert "('shop', " in result.err and "dependencies" in result.err
    # The user's own code is shown with its traceback, down to the failing line.
    assert "Traceback" in result.err and 'Order = apps.get_model("shop", "Order")' in result.err
    assert " [ ] 0002_copy_orders" in ok(two_apps.shoal("showmigrations", "people"))


def test_model_of_another_app_with_the_dependency(two_apps, db_url):
    """With the other app's latest migration as a dependency, its historical model is there."""
    two_apps.write("people/migrations/0002_copy_orders.py",
                   CROSS_APP.format(extra='("shop", "0001_initial"),'))
    out = ok(two_apps.shoal("migrate", "shop"))
    assert "Applying shop.0001_initial... OK" in out
    sql(db_url, "INSERT INTO shop_order (number) VALUES (%s), (%s)", [7, 8])
    out = ok(two_apps.shoal("migrate", "people"))
    assert "  Applying people.0002_copy_orders... OK" in out
    assert sql(db_url, "SELECT last_name FROM people_person ORDER BY last_name") == [("7",), ("8",)]


RENAMED_DEFAULT = """
from shoal import models

from people.managers import ArchiveManager


class Person(models.Model):
    first_name = models.CharField(max_length=30)
    people = ArchiveManager()
"""

USE_RENAMED = """
from shoal import migrations, models


def use_people(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    assert type(Person.people) is models.Manager, type(Person.people)
    assert not hasattr(Person, "objects")
    assert Person._default_manager.name == "people"
    Person.people.create(first_name="via people")


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(use_people)]
"""


def test_default_manager_without_use_in_migrations_keeps_its_name(tmp_path, db_url):
    """A default manager named other than objects, without use_in_migrations, is a plain Manager of that name."""
    proj = TempProject(tmp_path / "proj", ["people"], db_url)
    proj.write("people/managers.py", MANAGERS)
    proj.write("people/models.py", RENAMED_DEFAULT)
    ok(proj.shoal("makemigrations"))
    assert '("people", models.Manager()),' in proj.read("people/migrations/0001_initial.py")
    assert ok(proj.shoal("makemigrations", "--check")).strip() == "No changes detected"
    proj.write("people/migrations/0002_use.py", USE_RENAMED)
    ok(proj.shoal("migrate"))
    assert sql(db_url, "SELECT first_name FROM people_person") == [("via people",)]
