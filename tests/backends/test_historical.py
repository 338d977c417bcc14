"""Historical models (StateApps) as RunPython code sees them, on real databases."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shoal import models
from shoal.apps import Apps
from shoal.apps import apps as global_apps
from shoal.migrations.historical import StateApps, bind_connection
from shoal.migrations.state import ModelState, ProjectState


# Managers must be importable module-level classes to be written into migrations.
class AdultQuerySet(models.QuerySet):
    def adults(self) -> Any:
        return self.filter(age__gte=18)


class PersonManager(models.Manager.from_queryset(AdultQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def named(self, name: str) -> Any:
        return self.filter(first_name=name)


class NotForMigrations(models.Manager):
    pass


class GreeterMixin:
    """A plain base class: kept as a base of the historical model."""

    def greet(self) -> str:
        return f"hello {self.first_name}"  # type: ignore[attr-defined]


def person_fields(with_name: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": models.BigAutoField(primary_key=True),
        "first_name": models.CharField(max_length=30),
        "last_name": models.CharField(max_length=30),
        "age": models.IntegerField(default=0),
    }
    if with_name:
        fields["name"] = models.CharField(max_length=61, default="")
    return fields


def make_state(*model_states: ModelState) -> ProjectState:
    state = ProjectState()
    for ms in model_states:
        state.add_model(ms)
    return state


def create_tables(connection: Any, state: ProjectState, keys: list[tuple[str, str]]) -> None:
    with connection.schema_editor() as editor:
        for key in keys:
            editor.create_model(state, state.get_model(*key))


def combine_names(apps: Any, schema_editor: Any) -> None:
    """The guide's data migration (with the save() it needs)."""
    Person = apps.get_model("yourappname", "Person")
    for person in Person.objects.all():
        person.name = "%s %s" % (person.first_name, person.last_name)
        person.save()


def test_combine_names_end_to_end(connection: Any) -> None:
    """The guide's combine_names runs on historical models inside the migration's transaction."""
    state = make_state(ModelState("yourappname", "Person", person_fields()))
    create_tables(connection, state, [("yourappname", "person")])
    qn = connection.ops.quote_name
    for first, last in [("Ada", "Lovelace"), ("Alan", "Turing")]:
        connection.execute(
            f"INSERT INTO {qn('yourappname_person')} ({qn('first_name')}, {qn('last_name')}, "
            f"{qn('age')}, {qn('name')}) VALUES (%s, %s, %s, %s)",
            [first, last, 30, ""],
        )
    with connection.schema_editor() as editor, bind_connection(editor.connection):
        combine_names(state.apps, editor)
    rows = connection.fetchall(f"SELECT {qn('name')} FROM {qn('yourappname_person')} ORDER BY {qn('id')}")
    assert rows == [("Ada Lovelace",), ("Alan Turing",)]


def test_runpython_changes_roll_back_with_the_migration(connection: Any) -> None:
    """Rows written by RunPython code vanish when the migration's transaction rolls back."""
    state = make_state(ModelState("yourappname", "Person", person_fields()))
    create_tables(connection, state, [("yourappname", "person")])

    def forwards(apps: Any, schema_editor: Any) -> None:
        apps.get_model("yourappname", "Person").objects.create(first_name="A", last_name="B")
        raise RuntimeError("user bug")

    with pytest.raises(RuntimeError):
        with connection.atomic(), bind_connection(connection):
            forwards(state.apps, None)
    assert connection.fetchall(f"SELECT COUNT(*) FROM {connection.ops.quote_name('yourappname_person')}") == [(0,)]


def test_connection_given_to_state_apps(connection: Any) -> None:
    """StateApps(state, connection=...) makes its models use that connection without binding."""
    state = make_state(ModelState("books", "Person", person_fields()))
    create_tables(connection, state, [("books", "person")])
    apps = StateApps(state, connection=connection)
    Person = apps.get_model("books", "Person")
    Person.objects.create(first_name="Grace", last_name="Hopper", age=85)
    assert Person.objects.get().first_name == "Grace"
    assert Person.objects.get()._state.db == connection.alias


def test_historical_model_is_the_past_version(connection: Any) -> None:
    """A field added later and the real model's methods and save() are absent."""
    reg = Apps()

    class Person(models.Model):
        first_name = models.CharField(max_length=30)
        last_name = models.CharField(max_length=30)
        age = models.IntegerField(default=0)
        nickname = models.CharField(max_length=30, default="")  # added "later"

        class Meta:
            app_label = "people"
            apps = reg

        def full_name(self) -> str:
            return f"{self.first_name} {self.last_name}"

        def save(self, *args: Any, **kwargs: Any) -> None:
            self.last_name = "CUSTOM SAVE RAN"
            super().save(*args, **kwargs)

    assert "nickname" in ModelState.from_model(Person).fields
    old = ModelState("people", "Person", person_fields(with_name=False))
    state = make_state(old)
    create_tables(connection, state, [("people", "person")])
    Historical = StateApps(state, connection=connection).get_model("people", "Person")
    assert Historical is not Person
    assert [f.name for f in Historical._meta.fields] == ["id", "first_name", "last_name", "age"]
    assert not hasattr(Historical, "full_name")
    obj = Historical.objects.create(first_name="Ann", last_name="Lee")
    assert Historical.objects.get(pk=obj.pk).last_name == "Lee"
    with pytest.raises(TypeError, match="nickname"):
        Historical(first_name="x", nickname="y")


def test_use_in_migrations_managers(connection: Any) -> None:
    """Managers with use_in_migrations (a from_queryset subclass) are present; others are not."""
    reg = Apps()

    class Person(models.Model):
        first_name = models.CharField(max_length=30)
        age = models.IntegerField(default=0)
        people = PersonManager()
        hidden = NotForMigrations()

        class Meta:
            app_label = "people"
            apps = reg

    ms = ModelState.from_model(Person)
    assert [name for name, _ in ms.managers] == ["people"]
    state = make_state(ms)
    create_tables(connection, state, [("people", "person")])
    Historical = StateApps(state, connection=connection).get_model("people", "Person")
    assert isinstance(Historical.people, PersonManager)
    assert not hasattr(Historical, "hidden") and not hasattr(Historical, "objects")
    Historical.people.create(first_name="Kid", age=5)
    Historical.people.create(first_name="Grown", age=40)
    assert [p.first_name for p in Historical.people.adults()] == ["Grown"]
    assert Historical.people.named("Kid").count() == 1
    assert Historical.people.model is Historical


def test_plain_objects_manager_when_none_in_state() -> None:
    """Without use_in_migrations managers the historical model gets a plain ``objects``."""
    state = make_state(ModelState("books", "Person", person_fields()))
    Historical = StateApps(state).get_model("books", "Person")
    assert type(Historical.objects) is models.Manager
    assert Historical._meta.managers[0][0] == "objects"


def test_relations_resolve_within_state_apps(connection: Any) -> None:
    """FKs point at the other historical classes; reverse accessors and cascades work."""
    author = ModelState(
        "authors", "Author", {"id": models.AutoField(primary_key=True), "name": models.CharField(max_length=20)}
    )
    book = ModelState(
        "books",
        "Book",
        {
            "id": models.AutoField(primary_key=True),
            "title": models.CharField(max_length=20),
            "author": models.ForeignKey("authors.author", models.CASCADE, related_name="books"),
        },
    )
    state = make_state(author, book)
    create_tables(connection, state, [("authors", "author"), ("books", "book")])
    apps = StateApps(state, connection=connection)
    Author, Book = apps.get_model("authors", "Author"), apps.get_model("books.Book")
    assert Book._meta.get_field("author").remote_field.model is Author
    a = Author.objects.create(name="Le Guin")
    Book.objects.create(title="Earthsea", author=a)
    assert Book.objects.get().author.name == "Le Guin"
    assert [b.title for b in a.books.all()] == ["Earthsea"]
    assert Book.objects.filter(author__name__startswith="Le").count() == 1
    assert a.delete() == (2, {"authors.Author": 1, "books.Book": 1})


def test_registered_only_in_state_apps() -> None:
    """Rendering adds nothing to the global app registry."""
    before = {k: dict(v) for k, v in global_apps.all_models.items()}
    state = make_state(ModelState("books", "Person", person_fields()))
    apps = StateApps(state)
    Person = apps.get_model("books", "Person")
    assert Person._meta.apps is apps
    assert {k: dict(v) for k, v in global_apps.all_models.items()} == before
    assert apps.get_models() == [Person]


def test_rendering_is_lazy_and_cached() -> None:
    """Nothing is rendered before the first get_model; later calls return the same class."""
    state = make_state(ModelState("books", "Person", person_fields()))
    apps = state.apps
    assert isinstance(apps, StateApps) and apps.all_models == {}
    first = apps.get_model("books", "Person")
    assert apps.get_model("books", "person") is first
    assert state.apps is apps


def test_missing_app_lookup_error_text() -> None:
    """An app absent from the state gives the guide's LookupError with the dependency hint."""
    apps = StateApps(make_state(ModelState("app1", "M1", person_fields())))
    with pytest.raises(LookupError) as info:
        apps.get_model("app2", "M2")
    assert str(info.value) == (
        "No installed app with label 'app2'. The migration that uses it must depend on app2's "
        "latest migration (add ('app2', '<name>') to its dependencies)."
    )
    with pytest.raises(LookupError, match="App 'app1' doesn't have a 'Nope' model"):
        apps.get_model("app1", "Nope")


def test_meta_options_and_bases_from_state(connection: Any) -> None:
    """Meta (db_table, ordering) comes from the state; mixins and model bases are kept."""
    place = ModelState(
        "geo",
        "Place",
        {"id": models.AutoField(primary_key=True), "name": models.CharField(max_length=20)},
        options={"db_table": "old_places", "ordering": ["-name"]},
    )
    person = ModelState("people", "Person", person_fields(), bases=(GreeterMixin, "shoal.models.Model"))
    state = make_state(place, person)
    apps = StateApps(state, connection=connection)
    Place, Person = apps.get_model("geo", "Place"), apps.get_model("people", "Person")
    assert Place._meta.db_table == "old_places" and Place._meta.ordering == ["-name"]
    assert issubclass(Person, GreeterMixin)
    assert Person(first_name="Bo").greet() == "hello Bo"
    create_tables(connection, state, [("geo", "place")])
    for name in ["a", "c", "b"]:
        Place.objects.create(name=name)
    assert [p.name for p in Place.objects.all()] == ["c", "b", "a"]


def test_multi_table_inheritance_from_string_base(connection: Any) -> None:
    """A base "geo.place" renders as multi-table inheritance over the historical Place."""
    place = ModelState(
        "geo", "Place", {"id": models.AutoField(primary_key=True), "name": models.CharField(max_length=20)}
    )
    shop = ModelState(
        "geo",
        "Shop",
        {
            "place_ptr": models.OneToOneField(
                "geo.place", models.CASCADE, parent_link=True, auto_created=True, primary_key=True, serialize=False
            ),
            "kind": models.CharField(max_length=20),
        },
        bases=("geo.place",),
    )
    state = make_state(place, shop)
    create_tables(connection, state, [("geo", "place"), ("geo", "shop")])
    apps = StateApps(state, connection=connection)
    Place, Shop = apps.get_model("geo", "Place"), apps.get_model("geo", "Shop")
    assert issubclass(Shop, Place)
    s = Shop.objects.create(name="Deli", kind="food")
    assert Place.objects.get(pk=s.pk).name == "Deli"
    assert Shop.objects.filter(name="Deli", kind="food").get().pk == s.pk
    s.name = "Deli 2"
    s.save()
    assert Place.objects.get().name == "Deli 2"
    assert s.delete() == (2, {"geo.Shop": 1, "geo.Place": 1})


def test_rendering_500_models_is_fast() -> None:
    """500 related models render in well under a second or two (linear, not quadratic)."""
    state = ProjectState()
    for i in range(500):
        fields: dict[str, Any] = {"id": models.AutoField(primary_key=True), "name": models.CharField(max_length=10)}
        if i:
            fields["prev"] = models.ForeignKey(f"app{(i - 1) % 10}.m{i - 1}", models.CASCADE)
        state.add_model(ModelState(f"app{i % 10}", f"M{i}", fields))
    started = time.perf_counter()
    apps = StateApps(state)
    last = apps.get_model("app9", "M499")
    elapsed = time.perf_counter() - started
    assert len(apps.get_models()) == 500
    assert last._meta.get_field("prev").remote_field.model is apps.get_model("app8", "M498")
    assert elapsed < 2.0, f"rendering 500 models took {elapsed:.2f}s"
