"""The small ORM against real databases: querysets, lookups, relations, deletes."""

from __future__ import annotations

import datetime
import decimal
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from shoal import models
from shoal.apps import Apps
from shoal.exceptions import FieldDoesNotExist
from shoal.migrations.state import ModelState, ProjectState
from shoal.models.sql import bind_connection


def build_models() -> SimpleNamespace:
    """A fresh set of test models in their own registry (never the global one)."""
    reg = Apps()

    class Publisher(models.Model):
        name = models.CharField(max_length=50)

        class Meta:
            app_label = "orm"
            apps = reg

    class Author(models.Model):
        name = models.CharField(max_length=50)
        age = models.IntegerField(null=True)
        joined = models.DateField(null=True)

        class Meta:
            app_label = "orm"
            apps = reg
            ordering = ["name"]

    class Book(models.Model):
        title = models.CharField(max_length=100)
        pages = models.IntegerField(default=0)
        price = models.DecimalField(max_digits=6, decimal_places=2, null=True)
        author = models.ForeignKey("orm.Author", models.CASCADE)
        editor = models.ForeignKey(Author, models.SET_NULL, null=True, related_name="edited_books")
        publisher = models.ForeignKey(Publisher, models.PROTECT, null=True)

        class Meta:
            app_label = "orm"
            apps = reg

    class Review(models.Model):
        book = models.ForeignKey(Book, models.RESTRICT)
        reviewer = models.ForeignKey(Author, models.CASCADE, related_name="reviews")
        stars = models.IntegerField(default=3)

        class Meta:
            app_label = "orm"
            apps = reg

    class Place(models.Model):
        name = models.CharField(max_length=50)

        class Meta:
            app_label = "orm"
            apps = reg

    class Restaurant(models.Model):
        place = models.OneToOneField(Place, models.CASCADE, primary_key=True)
        serves_pizza = models.BooleanField(default=False)

        class Meta:
            app_label = "orm"
            apps = reg

    class Tag(models.Model):
        label = models.CharField(max_length=20)
        owner = models.ForeignKey(Author, models.SET_DEFAULT, null=True, default=None, related_name="+")
        keeper = models.ForeignKey(Author, models.SET(None), null=True, related_name="kept_tags")
        created = models.DateTimeField(auto_now_add=True, null=True)

        class Meta:
            app_label = "orm"
            apps = reg

    class Note(models.Model):
        author = models.ForeignKey(Author, models.DO_NOTHING)
        text = models.TextField()

        class Meta:
            app_label = "orm"
            apps = reg

    return SimpleNamespace(
        registry=reg,
        Publisher=Publisher,
        Author=Author,
        Book=Book,
        Review=Review,
        Place=Place,
        Restaurant=Restaurant,
        Tag=Tag,
        Note=Note,
        order=[Publisher, Author, Book, Review, Place, Restaurant, Tag, Note],
    )


def create_tables(connection: Any, model_classes: list[type]) -> ProjectState:
    """CREATE TABLE for each model through the backend's schema editor."""
    state = ProjectState()
    for model in model_classes:
        state.add_model(ModelState.from_model(model))
    with connection.schema_editor() as editor:
        for model in model_classes:
            editor.create_model(state, state.get_model(model._meta.app_label, model.__name__))
    return state


@pytest.fixture
def m(connection: Any) -> Iterator[SimpleNamespace]:
    """Test models with tables on the test database; querysets bound to it."""
    ns = build_models()
    create_tables(connection, ns.order)
    ns.connection = connection
    with bind_connection(connection):
        yield ns


@pytest.fixture
def library(m: SimpleNamespace) -> SimpleNamespace:
    """A few authors and books to query."""
    m.pub = m.Publisher.objects.create(name="Acme")
    m.ann = m.Author.objects.create(name="Ann", age=30, joined=datetime.date(2020, 1, 5))
    m.bob = m.Author.objects.create(name="Bob", age=45)
    m.cy = m.Author.objects.create(name="cy_100%", age=None)
    m.b1 = m.Book.objects.create(title="Alpha", pages=100, price=decimal.Decimal("9.50"), author=m.ann)
    m.b2 = m.Book.objects.create(title="Beta", pages=250, author=m.ann, editor=m.bob)
    m.b3 = m.Book.objects.create(title="Gamma ray", pages=400, author=m.bob, publisher=m.pub)
    m.b4 = m.Book.objects.create(title="delta", pages=50, author=m.cy, editor=m.ann)
    return m


def titles(qs: Any) -> list[str]:
    return sorted(b.title for b in qs)


# -- creating and reading -----------------------------------------------------------


def test_save_inserts_then_updates(m: SimpleNamespace) -> None:
    """save() inserts a new row with its auto pk filled in, then updates the same row."""
    a = m.Author(name="Zed", age=1)
    a.save()
    assert isinstance(a.pk, int) and a.pk > 0
    a.age = 2
    a.save()
    rows = m.connection.fetchall("SELECT name, age FROM " + m.connection.ops.quote_name("orm_author"))
    assert rows == [("Zed", 2)]


def test_pks_are_distinct_and_increasing(m: SimpleNamespace) -> None:
    """Consecutive inserts get the ids the database assigned (RETURNING or lastrowid)."""
    ids = [m.Author.objects.create(name=f"a{i}").pk for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert sorted(m.Author.objects.values_list("pk", flat=True)) == ids


def test_all_filter_exclude(library: SimpleNamespace) -> None:
    """all(), filter() and exclude() return exactly the matching rows."""
    m = library
    assert titles(m.Book.objects.all()) == ["Alpha", "Beta", "Gamma ray", "delta"]
    assert titles(m.Book.objects.filter(author=m.ann)) == ["Alpha", "Beta"]
    assert titles(m.Book.objects.exclude(author=m.ann)) == ["Gamma ray", "delta"]
    assert titles(m.Book.objects.filter(author=m.ann).exclude(pages__gt=200)) == ["Alpha"]


def test_exclude_keeps_rows_with_null(library: SimpleNamespace) -> None:
    """exclude(age=30) keeps authors whose age is NULL (Django semantics)."""
    m = library
    assert sorted(a.name for a in m.Author.objects.exclude(age=30)) == ["Bob", "cy_100%"]
    assert titles(m.Book.objects.exclude(editor__name="Bob")) == ["Alpha", "Gamma ray", "delta"]


def test_get_and_its_errors(library: SimpleNamespace) -> None:
    """get() returns one row; DoesNotExist / MultipleObjectsReturned name the model."""
    m = library
    assert m.Book.objects.get(title="Beta").pk == m.b2.pk
    assert m.Book.objects.get(pk=m.b3.pk).title == "Gamma ray"
    with pytest.raises(m.Book.DoesNotExist, match="Book matching query does not exist"):
        m.Book.objects.get(title="nope")
    with pytest.raises(m.Book.MultipleObjectsReturned, match="returned more than one Book -- it returned 2"):
        m.Book.objects.get(author=m.ann)


def test_does_not_exist_is_specific_to_model(library: SimpleNamespace) -> None:
    """Author.DoesNotExist is not caught as Book.DoesNotExist."""
    m = library
    with pytest.raises(m.Author.DoesNotExist):
        try:
            m.Author.objects.get(name="none")
        except m.Book.DoesNotExist:  # pragma: no cover - must not match
            pytest.fail("wrong exception class")


def test_create_and_get_or_create(m: SimpleNamespace) -> None:
    """get_or_create() creates once (with defaults) and then finds the row."""
    a, created = m.Author.objects.get_or_create(name="Ann", defaults={"age": 5})
    assert created and a.age == 5
    again, created2 = m.Author.objects.get_or_create(name="Ann", defaults={"age": 99})
    assert not created2 and again.pk == a.pk and again.age == 5
    assert m.Author.objects.count() == 1


def test_count_and_exists(library: SimpleNamespace) -> None:
    """count() and exists() agree with the rows."""
    m = library
    assert m.Book.objects.count() == 4
    assert m.Book.objects.filter(pages__gte=250).count() == 2
    assert m.Book.objects.filter(title="Alpha").exists()
    assert not m.Book.objects.filter(title="Omega").exists()
    assert m.Book.objects.none().count() == 0


def test_update_returns_rows_matched(library: SimpleNamespace) -> None:
    """update() changes only filtered rows and returns how many matched."""
    m = library
    assert m.Book.objects.filter(author=m.ann).update(pages=1) == 2
    assert sorted(m.Book.objects.values_list("title", "pages")) == [
        ("Alpha", 1),
        ("Beta", 1),
        ("Gamma ray", 400),
        ("delta", 50),
    ]


def test_update_with_f_expression(library: SimpleNamespace) -> None:
    """update(pages=F("pages") + 1) computes in the database."""
    m = library
    m.Book.objects.filter(title__in=["Alpha", "delta"]).update(pages=models.F("pages") + 1)
    assert dict(m.Book.objects.values_list("title", "pages")) == {
        "Alpha": 101,
        "Beta": 250,
        "Gamma ray": 400,
        "delta": 51,
    }


def test_update_across_relation_filter(library: SimpleNamespace) -> None:
    """update() on a queryset filtered through a join updates the right rows."""
    m = library
    assert m.Book.objects.filter(author__name="Bob").update(title="Renamed") == 1
    assert m.Book.objects.get(title="Renamed").pk == m.b3.pk


# -- ordering, slicing, values ---------------------------------------------------------


def test_order_by_field_desc_and_across_fk(library: SimpleNamespace) -> None:
    """order_by("-pages") and order_by("author__name", "title") order rows correctly."""
    m = library
    assert [b.title for b in m.Book.objects.order_by("-pages")] == ["Gamma ray", "Beta", "Alpha", "delta"]
    assert [b.title for b in m.Book.objects.order_by("author__name", "-title")] == [
        "Beta",
        "Alpha",
        "Gamma ray",
        "delta",
    ]


def test_meta_ordering_is_default(library: SimpleNamespace) -> None:
    """Author has Meta.ordering = ["name"]: unordered querysets follow it."""
    m = library
    assert [a.name for a in m.Author.objects.all()] == ["Ann", "Bob", "cy_100%"]
    assert [a.name for a in m.Author.objects.order_by("-name")] == ["cy_100%", "Bob", "Ann"]


def test_order_by_relation_uses_target_ordering(library: SimpleNamespace) -> None:
    """order_by("author") orders by Author's Meta.ordering (name)."""
    m = library
    got = [b.title for b in m.Book.objects.filter(editor__isnull=False).order_by("-editor")]
    assert got == ["Beta", "delta"]


def test_slicing_limit_offset(library: SimpleNamespace) -> None:
    """[:2], [1:3] and [0] translate to LIMIT/OFFSET."""
    m = library
    qs = m.Book.objects.order_by("pages")
    assert [b.title for b in qs[:2]] == ["delta", "Alpha"]
    assert [b.title for b in qs[1:3]] == ["Alpha", "Beta"]
    assert [b.title for b in qs[2:]] == ["Beta", "Gamma ray"]
    assert qs[0].title == "delta"
    assert qs[3].title == "Gamma ray"
    with pytest.raises(IndexError):
        qs[4]
    with pytest.raises(TypeError, match="slice"):
        qs[:2].filter(pages=1)


def test_first_and_last(library: SimpleNamespace) -> None:
    """first()/last() follow the ordering, or the pk; None when empty."""
    m = library
    assert m.Book.objects.order_by("pages").first().title == "delta"
    assert m.Book.objects.order_by("pages").last().title == "Gamma ray"
    assert m.Book.objects.first().pk == m.b1.pk
    assert m.Book.objects.filter(title="x").first() is None


def test_values_and_values_list(library: SimpleNamespace) -> None:
    """values() gives dicts, values_list() tuples, flat=True plain values; FKs give ids."""
    m = library
    rows = list(m.Book.objects.filter(title="Beta").values("title", "author", "editor__name"))
    assert rows == [{"title": "Beta", "author": m.ann.pk, "editor__name": "Bob"}]
    full = m.Book.objects.filter(title="Alpha").values()[0]
    assert full["author_id"] == m.ann.pk and full["price"] == decimal.Decimal("9.50")
    assert list(m.Book.objects.order_by("pages").values_list("pages", flat=True)) == [50, 100, 250, 400]
    assert list(m.Book.objects.order_by("pages").values_list("title", "author__name"))[:2] == [
        ("delta", "cy_100%"),
        ("Alpha", "Ann"),
    ]
    with pytest.raises(TypeError):
        m.Book.objects.values_list("title", "pages", flat=True)


def test_iterator_streams_in_chunks(m: SimpleNamespace) -> None:
    """iterator(chunk_size=7) yields every row once, without filling the cache."""
    m.Author.objects.bulk_create([m.Author(name=f"n{i:03}") for i in range(30)])
    qs = m.Author.objects.all()
    names = [a.name for a in qs.iterator(chunk_size=7)]
    assert names == [f"n{i:03}" for i in range(30)]
    assert qs._result_cache is None


def test_using_unknown_alias_is_a_config_error(library: SimpleNamespace) -> None:
    """using("nowhere") names the missing alias when evaluated."""
    from shoal.exceptions import ConfigError

    with pytest.raises(ConfigError, match="nowhere"):
        list(library.Book.objects.using("nowhere"))


def test_using_bound_alias_runs_on_bound_connection(library: SimpleNamespace) -> None:
    """using("default") inside bind_connection() uses the bound wrapper."""
    assert library.Book.objects.using("default").count() == 4


# -- lookups -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookup,value,expected",
    [
        ("title__exact", "Beta", ["Beta"]),
        ("title__iexact", "beta", ["Beta"]),
        ("title__contains", "amm", ["Gamma ray"]),
        ("title__contains", "AMM", []),
        ("title__icontains", "AMM", ["Gamma ray"]),
        ("title__startswith", "Al", ["Alpha"]),
        ("title__istartswith", "D", ["delta"]),
        ("title__endswith", "ray", ["Gamma ray"]),
        ("title__iendswith", "TA", ["Beta", "delta"]),
        ("pages__in", [50, 400, 7], ["Gamma ray", "delta"]),
        ("pages__in", [], []),
        ("pages__gt", 100, ["Beta", "Gamma ray"]),
        ("pages__gte", 100, ["Alpha", "Beta", "Gamma ray"]),
        ("pages__lt", 100, ["delta"]),
        ("pages__lte", 100, ["Alpha", "delta"]),
        ("pages__range", (60, 300), ["Alpha", "Beta"]),
        ("price__isnull", True, ["Beta", "Gamma ray", "delta"]),
        ("price__isnull", False, ["Alpha"]),
        ("editor", None, ["Alpha", "Gamma ray"]),
        ("price", decimal.Decimal("9.5"), ["Alpha"]),
    ],
)
def test_field_lookups(library: SimpleNamespace, lookup: str, value: Any, expected: list[str]) -> None:
    """Each field lookup matches exactly the expected rows."""
    assert titles(library.Book.objects.filter(**{lookup: value})) == expected


def test_like_wildcards_are_literal(library: SimpleNamespace) -> None:
    """contains="0%" matches a literal percent sign, not a wildcard; "_" likewise."""
    m = library
    assert [a.name for a in m.Author.objects.filter(name__contains="0%")] == ["cy_100%"]
    assert [a.name for a in m.Author.objects.filter(name__contains="y_")] == ["cy_100%"]
    assert list(m.Author.objects.filter(name__contains="n%")) == []
    assert list(m.Author.objects.filter(name__startswith="_")) == []


def test_lookups_across_foreign_keys(library: SimpleNamespace) -> None:
    """author__name__icontains joins the author table; chains of relations work."""
    m = library
    assert titles(m.Book.objects.filter(author__name__icontains="AN")) == ["Alpha", "Beta"]
    assert titles(m.Book.objects.filter(author__age__gte=40)) == ["Gamma ray"]
    assert titles(m.Book.objects.filter(editor__age__isnull=False)) == ["Beta", "delta"]
    assert titles(m.Book.objects.filter(author__joined=datetime.date(2020, 1, 5))) == ["Alpha", "Beta"]
    assert titles(m.Book.objects.filter(author__id=m.bob.pk)) == ["Gamma ray"]
    assert titles(m.Book.objects.filter(author__in=[m.bob, m.cy])) == ["Gamma ray", "delta"]
    assert [r.title for r in m.Book.objects.filter(publisher__name="Acme")] == ["Gamma ray"]


def test_reverse_lookup(library: SimpleNamespace) -> None:
    """Author.filter(book__title=...) and edited_books__isnull follow reverse relations."""
    m = library
    assert [a.name for a in m.Author.objects.filter(book__title__startswith="G")] == ["Bob"]
    assert [a.name for a in m.Author.objects.filter(book__pages__gt=60)] == ["Ann", "Bob"]
    assert [a.name for a in m.Author.objects.filter(edited_books__isnull=True)] == ["cy_100%"]
    assert [a.name for a in m.Author.objects.exclude(book__pages__lt=60)] == ["Ann", "Bob"]


def test_pk_alias(library: SimpleNamespace) -> None:
    """pk and pk__in address the primary key."""
    m = library
    assert titles(m.Book.objects.filter(pk__in=[m.b1.pk, m.b4.pk])) == ["Alpha", "delta"]
    assert m.Book.objects.get(pk=m.b2.pk).title == "Beta"


def test_q_objects(library: SimpleNamespace) -> None:
    """Q objects combine with &, | and ~ like the equivalent SQL."""
    m, Q = library, models.Q
    assert titles(m.Book.objects.filter(Q(pages__lt=60) | Q(title="Beta"))) == ["Beta", "delta"]
    assert titles(m.Book.objects.filter(~Q(author=m.ann) & Q(pages__gt=10))) == ["Gamma ray", "delta"]
    assert titles(m.Book.objects.filter(Q(author__name="Ann"), pages__gt=150)) == ["Beta"]
    assert titles(m.Book.objects.exclude(Q(pages__lt=60) | Q(pages__gt=300))) == ["Alpha", "Beta"]
    assert titles(m.Book.objects.filter(Q(pages__lt=300) ^ Q(author=m.ann))) == ["delta"]


def test_filter_on_f_expression(library: SimpleNamespace) -> None:
    """filter(pages__gt=F("author__age")) compares two columns."""
    m = library
    assert titles(m.Book.objects.filter(pages__lt=models.F("author__age") * 2)) == []
    assert titles(m.Book.objects.filter(pages__gt=models.F("author__age") * 3)) == ["Alpha", "Beta", "Gamma ray"]


def test_unknown_field_names_choices(library: SimpleNamespace) -> None:
    """A misspelt field raises FieldDoesNotExist listing the valid names."""
    with pytest.raises(FieldDoesNotExist, match="Cannot resolve keyword 'titel'.*Choices are: .*title"):
        list(library.Book.objects.filter(titel="x"))


def test_values_are_parameters_not_sql(library: SimpleNamespace) -> None:
    """A value that looks like SQL is matched literally (sent as a parameter)."""
    m = library
    evil = "x'); DROP TABLE orm_book; --"
    assert list(m.Book.objects.filter(title=evil)) == []
    m.Author.objects.create(name=evil)
    assert m.Author.objects.get(name=evil).name == evil
    assert m.Book.objects.count() == 4


# -- relations -------------------------------------------------------------------------


def test_forward_access_is_lazy_and_cached(library: SimpleNamespace) -> None:
    """book.author loads once; book.author_id is the raw key; assigning sets the key."""
    m = library
    book = m.Book.objects.get(title="Gamma ray")
    assert book.author_id == m.bob.pk
    with m.connection.capture_queries() as queries:
        assert book.author.name == "Bob"
        assert book.author.name == "Bob"
    assert len(queries) == 1
    assert book.editor is None
    book.author = m.ann
    assert book.author_id == m.ann.pk
    book.save()
    assert m.Book.objects.get(pk=book.pk).author.name == "Ann"
    book.author_id = m.cy.pk
    assert book.author.name == "cy_100%"
    with pytest.raises(ValueError, match='must be a "Author" instance'):
        book.author = m.pub


def test_unsaved_related_object_is_refused(m: SimpleNamespace) -> None:
    """Saving a book whose author was never saved raises instead of writing NULL."""
    with pytest.raises(ValueError, match="unsaved related object 'author'"):
        m.Book(title="x", author=m.Author(name="ghost")).save()


def test_reverse_manager(library: SimpleNamespace) -> None:
    """author.book_set / related_name: all, filter, count, create, add."""
    m = library
    assert titles(m.ann.book_set.all()) == ["Alpha", "Beta"]
    assert m.ann.book_set.filter(pages__gt=150).get().title == "Beta"
    assert m.ann.book_set.count() == 2
    assert titles(m.ann.edited_books.all()) == ["delta"]
    new = m.bob.book_set.create(title="Epsilon")
    assert new.author_id == m.bob.pk and m.bob.book_set.count() == 2
    m.bob.edited_books.add(m.b1)
    assert m.Book.objects.get(pk=m.b1.pk).editor_id == m.bob.pk
    m.bob.edited_books.remove(m.b2)
    assert m.Book.objects.get(pk=m.b2.pk).editor_id is None
    m.ann.edited_books.clear()
    assert not m.Book.objects.filter(editor=m.ann).exists()
    assert not hasattr(m.Author, "tag_set")  # related_name="+" hides the accessor


def test_one_to_one_reverse(m: SimpleNamespace) -> None:
    """place.restaurant returns the one row, or raises Restaurant.DoesNotExist."""
    p = m.Place.objects.create(name="Corner")
    q = m.Place.objects.create(name="Empty lot")
    r = m.Restaurant.objects.create(place=p, serves_pizza=True)
    assert r.pk == p.pk
    assert m.Place.objects.get(name="Corner").restaurant.serves_pizza is True
    with pytest.raises(m.Restaurant.DoesNotExist, match="has no restaurant"):
        q.restaurant
    assert not hasattr(q, "restaurant")
    assert [x.name for x in m.Place.objects.filter(restaurant__serves_pizza=True)] == ["Corner"]


def test_refresh_from_db(library: SimpleNamespace) -> None:
    """refresh_from_db() reloads values changed elsewhere (all or some fields)."""
    m = library
    a = m.Author.objects.get(name="Ann")
    m.Author.objects.filter(pk=a.pk).update(age=31, name="Anna")
    a.refresh_from_db(fields=["age"])
    assert (a.name, a.age) == ("Ann", 31)
    a.refresh_from_db()
    assert a.name == "Anna"


# -- bulk --------------------------------------------------------------------------------


def test_bulk_create_sets_pks_where_returned(m: SimpleNamespace) -> None:
    """bulk_create() inserts all rows; pks are set when the backend can return them."""
    objs = m.Author.objects.bulk_create([m.Author(name=f"a{i}", age=i) for i in range(25)], batch_size=10)
    assert m.Author.objects.count() == 25
    assert sorted(m.Author.objects.values_list("age", flat=True)) == list(range(25))
    if m.connection.features.can_return_columns_from_insert:
        assert all(o.pk is not None for o in objs)
        assert {o.pk: o.age for o in objs} == dict(m.Author.objects.values_list("pk", "age"))


def test_bulk_create_respects_parameter_limit(m: SimpleNamespace) -> None:
    """Many rows are split into batches that fit the backend's parameter limit."""
    n = 1200
    m.Book.objects.bulk_create([])  # no-op
    a = m.Author.objects.create(name="prolific")
    m.Book.objects.bulk_create([m.Book(title=f"t{i}", pages=i, author=a) for i in range(n)])
    assert m.Book.objects.count() == n
    assert m.Book.objects.filter(pages__gte=n - 10).count() == 10


def test_bulk_create_batches_by_parameter_limit(m: SimpleNamespace, monkeypatch: Any) -> None:
    """With a 20-parameter limit, 10 six-column rows go in 4 INSERTs of at most 3 rows."""
    monkeypatch.setattr(type(m.connection.features), "max_query_params", 20)
    a = m.Author.objects.create(name="batched")
    with m.connection.capture_queries() as queries:
        m.Book.objects.bulk_create([m.Book(title=f"t{i}", author=a) for i in range(10)])
    inserts = [q for q in queries if q.startswith("INSERT")]
    assert len(inserts) == 4
    assert max(q.count("%s") for q in inserts) <= 20
    assert sorted(m.Book.objects.values_list("title", flat=True)) == sorted(f"t{i}" for i in range(10))


def test_bulk_create_with_explicit_pks_and_auto_now_add(m: SimpleNamespace) -> None:
    """Objects with pks keep them; auto_now_add fields are filled in."""
    m.Tag.objects.bulk_create([m.Tag(id=100, label="x"), m.Tag(id=101, label="y")])
    assert sorted(m.Tag.objects.values_list("id", "label")) == [(100, "x"), (101, "y")]
    assert all(t.created is not None for t in m.Tag.objects.all())


def test_bulk_update(library: SimpleNamespace) -> None:
    """bulk_update() writes the named fields only, in batches."""
    m = library
    books = list(m.Book.objects.order_by("pk"))
    for i, b in enumerate(books):
        b.pages = 1000 + i
        b.title = "ignored"
    assert m.Book.objects.bulk_update(books, ["pages"], batch_size=3) == 4
    assert sorted(m.Book.objects.values_list("pages", flat=True)) == [1000, 1001, 1002, 1003]
    assert m.Book.objects.filter(title="ignored").count() == 0
    with pytest.raises(ValueError):
        m.Book.objects.bulk_update(books, [])


# -- deletes -----------------------------------------------------------------------------


def test_delete_cascades(library: SimpleNamespace) -> None:
    """Deleting an author deletes their books (CASCADE) and reports counts per model."""
    m = library
    count, per_model = m.Author.objects.filter(name="Bob").delete()
    assert per_model == {"orm.Author": 1, "orm.Book": 1}
    assert count == 2
    assert titles(m.Book.objects.all()) == ["Alpha", "Beta", "delta"]


def test_delete_set_null(library: SimpleNamespace) -> None:
    """Deleting an editor sets Book.editor to NULL (SET_NULL) without deleting books."""
    m = library
    m.bob.delete()
    beta = m.Book.objects.get(title="Beta")
    assert beta.editor_id is None
    assert m.bob.pk is None


def test_delete_protect(library: SimpleNamespace) -> None:
    """A PROTECT foreign key blocks the delete and nothing is removed."""
    m = library
    with pytest.raises(models.ProtectedError, match="protected foreign key 'Book.publisher'") as info:
        m.Publisher.objects.all().delete()
    assert [b.title for b in info.value.protected_objects] == ["Gamma ray"]
    assert m.Publisher.objects.count() == 1 and m.Book.objects.count() == 4


def test_restrict_blocks_cascade(library: SimpleNamespace) -> None:
    """A cascade that reaches a RESTRICTed row is refused and nothing is deleted."""
    m = library
    m.Review.objects.create(book=m.b3, reviewer=m.ann)
    # Deleting Bob cascades to Gamma ray, whose review (by Ann, who stays) RESTRICTs it.
    with pytest.raises(models.RestrictedError, match="Review.book"):
        m.bob.delete()
    assert m.Author.objects.filter(name="Bob").exists()
    assert m.Book.objects.filter(pk=m.b3.pk).exists()


def test_restrict_allows_delete_through_cascade(library: SimpleNamespace) -> None:
    """RESTRICT gives way when the referring row is deleted by the same cascade."""
    m = library
    m.Review.objects.create(book=m.b1, reviewer=m.ann)
    with pytest.raises(models.RestrictedError):
        m.b1.delete()
    count, per_model = m.ann.delete()
    assert per_model == {"orm.Author": 1, "orm.Book": 2, "orm.Review": 1}
    assert m.Review.objects.count() == 0


def test_set_default_and_set_callable(m: SimpleNamespace) -> None:
    """SET_DEFAULT and SET(value) rewrite the key before the row goes."""
    a = m.Author.objects.create(name="gone")
    t = m.Tag.objects.create(label="t", owner=a, keeper=a)
    a.delete()
    t.refresh_from_db()
    assert (t.owner_id, t.keeper_id) == (None, None)


def test_delete_queryset_with_many_rows(m: SimpleNamespace) -> None:
    """A queryset delete of many rows (with cascades) removes all of them."""
    authors = [m.Author.objects.create(name=f"x{i}") for i in range(5)]
    m.Book.objects.bulk_create([m.Book(title=f"b{i}", author=authors[i % 5]) for i in range(300)])
    count, per_model = m.Author.objects.filter(name__startswith="x").delete()
    assert per_model == {"orm.Author": 5, "orm.Book": 300}
    assert m.Book.objects.count() == 0


def test_delete_is_atomic(library: SimpleNamespace) -> None:
    """When the database refuses part of a delete, earlier updates and deletes roll back."""
    from shoal.exceptions import IntegrityError

    m = library
    m.Note.objects.create(author=m.ann, text="kept by DO_NOTHING")
    # Deleting Ann sets delta.editor to NULL and deletes her books, then the
    # database refuses to delete her row because a note still points at it.
    with pytest.raises(IntegrityError):
        m.ann.delete()
    assert m.Book.objects.get(title="delta").editor_id == m.ann.pk
    assert m.Book.objects.filter(author=m.ann).count() == 2


def test_instance_delete_without_pk(m: SimpleNamespace) -> None:
    """delete() on an unsaved instance explains that it has no primary key."""
    with pytest.raises(ValueError, match="can't be deleted because its id attribute is set to None"):
        m.Author(name="x").delete()


# -- value types -----------------------------------------------------------------------------


def test_value_types_round_trip(connection: Any) -> None:
    """UUID pks (and FKs to them), JSON, durations, aware datetimes, booleans and bytes survive a round trip."""
    import uuid

    reg = Apps()

    class Doc(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        data = models.JSONField(default=dict)
        took = models.DurationField(null=True)
        at = models.DateTimeField(null=True)
        flag = models.BooleanField(default=False)
        blob = models.BinaryField(null=True)

        class Meta:
            app_label = "types"
            apps = reg

    class Part(models.Model):
        doc = models.ForeignKey(Doc, models.CASCADE)

        class Meta:
            app_label = "types"
            apps = reg

    create_tables(connection, [Doc, Part])
    at = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    with bind_connection(connection):
        d = Doc.objects.create(data={"k": [1, 2]}, took=datetime.timedelta(minutes=3), at=at, flag=True, blob=b"\x00\x01")
        Part.objects.create(doc=d)
        got = Doc.objects.get(pk=d.pk)
        assert isinstance(got.pk, uuid.UUID) and got.pk == d.pk
        assert got.data == {"k": [1, 2]}
        assert got.took == datetime.timedelta(minutes=3)
        assert got.at == at
        assert got.flag is True
        assert bytes(got.blob) == b"\x00\x01"
        assert Doc.objects.filter(flag=True, at__gte=at).count() == 1
        part = Part.objects.get(doc=d)
        assert part.doc_id == d.pk and part.doc.pk == d.pk
        assert Part.objects.filter(doc__flag=True).count() == 1
        assert d.delete() == (2, {"types.Doc": 1, "types.Part": 1})


def test_self_referencing_cascade(connection: Any) -> None:
    """Deleting a tree root cascades down the tree, children first (MySQL checks row by row)."""
    reg = Apps()

    class Category(models.Model):
        name = models.CharField(max_length=10)
        parent = models.ForeignKey("self", models.CASCADE, null=True, related_name="children")

        class Meta:
            app_label = "tree"
            apps = reg

    create_tables(connection, [Category])
    with bind_connection(connection):
        root = Category.objects.create(name="root")
        a = Category.objects.create(name="a", parent=root)
        b = Category.objects.create(name="b", parent=a)
        Category.objects.create(name="c", parent=b)
        Category.objects.create(name="other")
        assert [c.name for c in root.children.all()] == ["a"]
        assert Category.objects.filter(parent__parent__name="a").get().name == "c"
        assert root.delete() == (4, {"tree.Category": 4})
        assert list(Category.objects.values_list("name", flat=True)) == ["other"]


def test_db_default_is_left_to_the_database_on_insert(connection: Any) -> None:
    """A field with a db_default and no default is not written on insert, so the row gets the
    database's default (a CharField used to send "" instead); an explicit value still wins."""
    reg = Apps()

    class Sign(models.Model):
        text = models.CharField(max_length=20, db_default="hello")
        shout = models.CharField(max_length=20, default="hey", db_default="ho")

        class Meta:
            app_label = "orm"
            apps = reg

    create_tables(connection, [Sign])
    with bind_connection(connection):
        made = Sign.objects.create()
        Sign.objects.create(text="given")
        assert Sign(text=None).text is None and Sign().text is None
        rows = sorted(Sign.objects.values_list("text", "shout"))
    assert made.pk is not None
    assert rows == [("given", "hey"), ("hello", "hey")]
