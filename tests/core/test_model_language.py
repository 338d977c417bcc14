"""The model language without a database: fields, Meta, state, the autodetector's
operations and their order, AlterOrderWithRespectTo, serialization, system checks."""

from __future__ import annotations

import ast
import datetime
import uuid
from typing import Any, ClassVar

import pytest

from shoal import checks, migrations, models
from shoal.apps import Apps
from shoal.deconstruct import deconstructible
from shoal.migrations.autodetector import MigrationAutodetector
from shoal.migrations.graph import MigrationGraph
from shoal.migrations.migration import Migration
from shoal.migrations.questioner import MigrationQuestioner
from shoal.migrations.serializer import serialize
from shoal.migrations.state import ModelState, ProjectState
from shoal.migrations.writer import MigrationWriter

APP = "lang"


class Registry(Apps):
    """A registry whose get_models() lists every registered model (no app configs needed)."""

    def get_models(self, include_auto_created: bool = False) -> list[type]:
        return [m for by_name in self.all_models.values() for m in by_name.values()]


def meta(reg: Apps, **options: Any) -> type:
    return type("Meta", (), {"app_label": APP, "apps": reg, **options})


def auto() -> Any:
    return models.BigAutoField(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")


def ops(before: ProjectState, after: ProjectState, questioner: Any = None) -> list[Any]:
    changes = MigrationAutodetector(before, after, questioner).changes(MigrationGraph())
    return [op for migration in changes.get(APP, []) for op in migration.operations]


def described(operations: list[Any]) -> list[str]:
    return [op.describe() for op in operations]


def state(*model_states: ModelState) -> ProjectState:
    return ProjectState({m.key: m for m in model_states})


# -- fields -----------------------------------------------------------------------------------


class Status(models.TextChoices):
    DRAFT = "d", "Draft"
    LIVE = "l", "Live"


class Size(models.IntegerChoices):
    SMALL = 1
    LARGE = 2, "Big"


FIELDS = [
    models.CharField(max_length=20, db_column="c", db_comment="note", choices=Status.choices, default=Status.DRAFT),
    models.IntegerField(db_default=5, choices=Size.choices),
    models.JSONField(default=dict, null=True),
    models.BinaryField(editable=True),
    models.DurationField(default=datetime.timedelta(hours=1)),
    models.GenericIPAddressField(protocol="IPv4", unpack_ipv4=False, null=True),
    models.UUIDField(default=uuid.uuid4, unique=True),
    models.DecimalField(max_digits=5, decimal_places=2, db_index=True),
    models.DateTimeField(auto_now_add=True),
    models.SlugField(db_index=False),
    models.ManyToManyField("lang.tag", through="lang.Link", related_name="+"),
]


@pytest.mark.parametrize("field", FIELDS, ids=[type(f).__name__ for f in FIELDS])
def test_every_field_kind_rebuilds_from_its_deconstruction(field: Any) -> None:
    """clone() (from deconstruct()) gives an equal deconstruction: no spurious AlterField."""
    assert field.clone().deconstruct()[1:] == field.deconstruct()[1:]


def test_choices_classes_give_plain_choices_and_values() -> None:
    """TextChoices/IntegerChoices: labels split off, .choices a list, members equal their values."""
    assert Status.choices == [("d", "Draft"), ("l", "Live")]
    assert Size.choices == [(1, "Small"), (2, "Big")]
    field = models.CharField(max_length=1, choices=Status, default=Status.LIVE)
    assert field.deconstruct()[3]["choices"] == [("d", "Draft"), ("l", "Live")]
    assert serialize(Status.LIVE) == ('"l"', set())
    assert serialize(Size.LARGE) == ("2", set())


class UpperField(models.CharField):
    pass


def test_custom_field_keeps_the_column_type_of_its_builtin_base() -> None:
    """A subclass of CharField is a CharField to the backends, and is written by its own path."""
    field = UpperField(max_length=5)
    assert field.get_internal_type() == "CharField"
    assert field.deconstruct()[1] == f"{__name__}.UpperField"
    assert models.PositiveIntegerField().get_internal_type() == "PositiveIntegerField"


# -- Meta and state -------------------------------------------------------------------------------


def test_abstract_meta_is_inherited_and_proxy_and_mti_states() -> None:
    """class Meta(Base.Meta) inherits options; MTI gets a parent link; a proxy has no fields."""
    reg = Registry()

    class Base(models.Model):
        created = models.DateField(null=True)

        class Meta:
            abstract = True
            ordering = ("-created",)
            app_label = APP
            apps = reg

    class Place(Base):
        name = models.CharField(max_length=10)

        class Meta(Base.Meta):
            db_table_comment = "places"

    class Restaurant(Place):
        stars = models.IntegerField()
        Meta = meta(reg)

    class Spot(Place):
        class Meta:
            proxy = True
            app_label = APP
            apps = reg

    assert Base.Meta.abstract is False
    place = ModelState.from_model(Place)
    assert place.options["ordering"] == ("-created",) and place.options["db_table_comment"] == "places"
    assert list(place.fields) == ["id", "created", "name"]
    rest = ModelState.from_model(Restaurant)
    assert list(rest.fields) == ["place_ptr", "stars"] and rest.bases == ("lang.place",)
    assert rest.fields["place_ptr"].primary_key and rest.fields["place_ptr"].parent_link
    spot = ModelState.from_model(Spot)
    assert spot.fields == {} and spot.options["proxy"] is True


def test_order_with_respect_to_adds_order_column_to_class_and_state() -> None:
    """The class and the state get _order; the autodetector writes only the option."""
    reg = Registry()

    class Book(models.Model):
        class Meta:
            app_label = APP
            apps = reg

    class Chapter(models.Model):
        book = models.ForeignKey(Book, on_delete=models.CASCADE)

        class Meta:
            order_with_respect_to = "book"
            app_label = APP
            apps = reg

    assert [f.name for f in Chapter._meta.local_fields] == ["id", "book", "_order"]
    chapter = ModelState.from_model(Chapter)
    assert list(chapter.fields) == ["id", "book", "_order"]
    created = ops(ProjectState(), state(ModelState.from_model(Book), chapter))
    create = next(op for op in created if op.name == "Chapter")
    assert [name for name, _ in create.fields] == ["id", "book"]
    assert create.options == {"order_with_respect_to": "book"}


def test_alter_order_with_respect_to_state_and_description() -> None:
    """The operation sets/clears the option and adds/removes _order in the state."""
    before = state(ModelState(APP, "Chapter", [("id", auto()), ("book", models.ForeignKey("lang.book", on_delete=models.CASCADE))]))
    op = migrations.AlterOrderWithRespectTo("chapter", "book")
    after = before.clone()
    op.state_forwards(APP, after)
    assert list(after.get_model(APP, "chapter").fields) == ["id", "book", "_order"]
    cleared = after.clone()
    migrations.AlterOrderWithRespectTo("chapter", None).state_forwards(APP, cleared)
    assert list(cleared.get_model(APP, "chapter").fields) == ["id", "book"]
    assert "order_with_respect_to" not in cleared.get_model(APP, "chapter").options
    assert op.describe() == "Set order_with_respect_to on chapter to book"
    assert op.migration_name_fragment == "alter_chapter_order_with_respect_to"
    assert op.references_field("chapter", "book", APP) and not op.references_field("chapter", "id", APP)
    assert serialize(op)[0].startswith("migrations.AlterOrderWithRespectTo(")


# -- the autodetector: order and dependencies ----------------------------------------------------


def test_m2m_target_is_created_first_and_through_field_follows_its_model() -> None:
    """A M2M to a later model waits for it; a through= field is added after the through model."""
    tag = ModelState(APP, "Tag", [("id", auto())])
    book = ModelState(APP, "Book", [
        ("id", auto()),
        ("tags", models.ManyToManyField("lang.tag")),
        ("fans", models.ManyToManyField("lang.tag", through="lang.Fandom", related_name="+")),
    ])
    fandom = ModelState(APP, "Fandom", [
        ("id", auto()),
        ("book", models.ForeignKey("lang.book", on_delete=models.CASCADE)),
        ("tag", models.ForeignKey("lang.tag", on_delete=models.CASCADE)),
    ])
    assert described(ops(ProjectState(), state(tag, book, fandom))) == [
        "Create model Tag", "Create model Book", "Create model Fandom", "Add field fans to book",
    ]


def test_removals_bracket_field_changes_as_django_orders_them() -> None:
    """Indexes/constraints/unique_together go before the field they name; new ones after new fields."""
    old = ModelState(APP, "Item", [("id", auto()), ("a", models.IntegerField()), ("b", models.IntegerField())],
                     options={"unique_together": {("a", "b")},
                              "indexes": [models.Index(fields=["b"], name="item_b_idx")],
                              "constraints": [models.CheckConstraint(condition=models.Q(b__gt=0), name="item_b_pos")]})
    new = ModelState(APP, "Item", [("id", auto()), ("a", models.IntegerField()), ("c", models.IntegerField(null=True))],
                     options={"indexes": [models.Index(fields=["c"], name="item_c_idx")]})
    assert described(ops(state(old), state(new))) == [
        "Remove constraint item_b_pos from model item",
        "Remove index item_b_idx from item",
        "Alter unique_together for item (0 constraint(s))",
        "Remove field b from item",
        "Add field c to item",
        "Create index item_c_idx on field(s) c of model item",
    ]


def test_index_renamed_only_is_a_rename_index() -> None:
    """An index that only changes its name becomes RenameIndex, not remove + add."""
    fields = [("id", auto()), ("a", models.IntegerField())]
    old = ModelState(APP, "Item", fields, options={"indexes": [models.Index(fields=["a"], name="old_idx")]})
    new = ModelState(APP, "Item", fields, options={"indexes": [models.Index(fields=["a"], name="new_idx")]})
    (op,) = ops(state(old), state(new))
    assert isinstance(op, migrations.RenameIndex)
    assert (op.old_name, op.new_name) == ("old_idx", "new_idx")


def test_unique_together_follows_a_renamed_field() -> None:
    """Renaming a field named by unique_together gives only the RenameField."""
    class Yes(MigrationQuestioner):
        def ask_rename(self, *args: Any) -> bool:
            return True

    old = ModelState(APP, "Item", [("id", auto()), ("a", models.IntegerField()), ("b", models.IntegerField())],
                     options={"unique_together": {("a", "b")}})
    new = ModelState(APP, "Item", [("id", auto()), ("a", models.IntegerField()), ("c", models.IntegerField())],
                     options={"unique_together": {("a", "c")}})
    assert described(ops(state(old), state(new), Yes())) == ["Rename field b on item to c"]


def test_order_with_respect_to_set_after_its_foreign_key_is_added() -> None:
    """AlterOrderWithRespectTo comes after the AddField of the relation it names."""
    book = ModelState(APP, "Book", [("id", auto())])
    old = ModelState(APP, "Chapter", [("id", auto())])
    new = ModelState(APP, "Chapter", [("id", auto()), ("book", models.ForeignKey("lang.book", on_delete=models.CASCADE, null=True))],
                     options={"order_with_respect_to": "book"})
    assert described(ops(state(book, old), state(book, new))) == [
        "Add field book to chapter", "Set order_with_respect_to on chapter to book",
    ]
    assert ops(state(book, new), state(book, new)) == []


def test_options_waiting_for_a_deferred_field_follow_its_add_field() -> None:
    """When a cycle defers a FK out of CreateModel, indexes and unique_together on it follow the AddField."""
    a = ModelState(APP, "A", [("id", auto()), ("b", models.ForeignKey("lang.b", on_delete=models.CASCADE))])
    b = ModelState(APP, "B", [("id", auto()), ("a", models.ForeignKey("lang.a", on_delete=models.CASCADE))],
                   options={"indexes": [models.Index(fields=["a"], name="b_a_idx")], "unique_together": {("id", "a")},
                            "ordering": ["id"]})
    planned = ops(ProjectState(), state(a, b))
    assert described(planned) == [
        "Create model B", "Create model A", "Add field a to b",
        "Alter unique_together for b (1 constraint(s))", "Create index b_a_idx on field(s) a of model b",
    ]
    assert planned[0].options == {"ordering": ["id"]}


# -- serialization -------------------------------------------------------------------------------


@deconstructible
class Between:
    def __init__(self, low: int = 0, high: int = 10) -> None:
        self.low, self.high = low, high

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Between) and (other.low, other.high) == (self.low, self.high)


def pick() -> str:
    return "x"


def test_deconstructible_with_eq_makes_no_spurious_change() -> None:
    """Two states whose fields hold equal @deconstructible validators compare equal."""
    make = lambda: ModelState(APP, "Item", [("id", auto()), ("n", models.IntegerField(validators=[Between(1, 5)], default=pick))])
    assert ops(state(make()), state(make())) == []
    text, imports = serialize(models.IntegerField(validators=[Between(1, 5)], default=pick))
    assert text == f"models.IntegerField(default={__name__}.pick, validators=[{__name__}.Between(1, 5)])"
    assert imports == {"from shoal import models", f"import {__name__}"}


def test_writer_collects_sorted_imports_and_writes_clean_source_without_black() -> None:
    """Imports are merged and sorted; without black the file still parses and has no trailing spaces."""
    migration = Migration("0001_initial", APP)
    migration.operations = [migrations.CreateModel("Item", [
        ("id", auto()),
        ("when", models.DateField(default=datetime.date(2024, 1, 2))),
        ("key", models.UUIDField(default=uuid.uuid4)),
        ("n", models.IntegerField(validators=[Between(1, 5)])),
    ], options={"unique_together": {("when", "n"), ("key", "n")}})]
    text = MigrationWriter(migration, now=datetime.datetime(2024, 1, 1), use_black=False).as_string()
    ast.parse(text)
    head = text.splitlines()[2:6]
    assert head == ["import datetime", f"import {__name__}", "import uuid", "from shoal import migrations, models"]
    assert '"unique_together": {("key", "n"), ("when", "n")}' in text
    assert all(line == line.rstrip() for line in text.splitlines())


# -- system checks ------------------------------------------------------------------------------


class Deprecated(models.IntegerField):
    system_check_deprecated_details: ClassVar[dict[str, str]] = {"msg": "Old.", "hint": "Use new.", "id": "fields.W901"}


class Removed(models.IntegerField):
    system_check_removed_details: ClassVar[dict[str, str]] = {"hint": "Use new."}


def test_checks_report_deprecated_removed_and_relation_problems() -> None:
    """Deprecation is a warning, removal an error (default msg/id), missing targets and clashes errors."""
    reg = Registry()

    class Person(models.Model):
        old = Deprecated()
        gone = Removed()
        friend_set = models.IntegerField(null=True)
        Meta = meta(reg)

    class Friend(models.Model):
        person = models.ForeignKey(Person, on_delete=models.SET_NULL)
        other = models.ForeignKey("lang.Nobody", on_delete=models.CASCADE)
        tags = models.ManyToManyField(Person, through="lang.Missing", related_name="+")
        Meta = meta(reg)

    found = {(m.id, str(getattr(m.obj, "name", m.obj))): m for m in checks.run_checks(reg)}
    assert found["fields.W901", "old"].level == checks.WARNING and found["fields.W901", "old"].hint == "Use new."
    removed = found["fields.EXXX", "gone"]
    assert removed.level == checks.ERROR
    assert removed.msg == "Removed has been removed except for support in historical migrations."
    assert ("fields.E300", "other") in found and ("fields.E331", "tags") in found
    assert ("fields.E320", "person") in found
    assert found["fields.E302", "person"].msg == (
        "Reverse accessor 'Person.friend_set' for 'lang.Friend.person' clashes with field name 'lang.Person.friend_set'."
    )
    assert str(found["fields.W901", "old"]) == "lang.Person.old: (fields.W901) Old.\n\tHINT: Use new."


def test_checks_find_meta_mistakes_and_duplicate_index_names() -> None:
    """unique_together/indexes naming missing fields, bad ordering, duplicate index names."""
    reg = Registry()

    class One(models.Model):
        a = models.IntegerField()
        Meta = meta(reg, unique_together=[("a", "b")], ordering=["-zzz"],
                    indexes=[models.Index(fields=["a"], name="dup_idx")])

    class Two(models.Model):
        a = models.IntegerField()
        Meta = meta(reg, indexes=[models.Index(fields=["a"], name="dup_idx")])

    ids = sorted(m.id for m in checks.run_checks(reg))
    assert ids == ["models.E012", "models.E015", "models.E030"]
    assert checks.run_checks(Registry()) == []
    assert checks.format_messages([]) == "System check identified no issues (0 silenced)."


def test_deferrable_unique_constraint_is_written_and_validated() -> None:
    """models.Deferrable is written by name; a deferred constraint cannot also have a condition."""
    constraint = models.UniqueConstraint(fields=["a"], name="a_uniq", deferrable=models.Deferrable.DEFERRED)
    assert serialize(constraint)[0] == (
        'models.UniqueConstraint(deferrable=models.Deferrable["DEFERRED"], fields=("a",), name="a_uniq")'
    )
    with pytest.raises(ValueError, match="cannot be deferred"):
        models.UniqueConstraint(fields=["a"], name="x", condition=models.Q(a=1),
                                deferrable=models.Deferrable.IMMEDIATE)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("sqlite:///db.sqlite3", "longtable_" + "x" * 60),
        ("postgresql://u@h/d", ("longtable_" + "x" * 60)[:59] + "5188"),  # md5(name)[:4], as Django
        ("mariadb://u@h/d", ("longtable_" + "x" * 60)[:60] + "5188"),
    ],
)
def test_long_default_table_name_is_cut_for_the_default_database(monkeypatch, url, expected):
    """Default table names longer than the default backend keeps end in a hash, as Django's do;
    an explicit db_table is never touched."""
    from shoal.conf import Settings, settings

    monkeypatch.setattr(settings, "_wrapped", Settings(databases={"default": url}))
    state = ModelState("longtable", "X" * 60, [("id", models.AutoField(primary_key=True))])
    assert state.db_table == expected
    assert len(state.db_table) <= {"sqlite": 70, "postgresql": 63, "mariadb": 64}[url.split(":")[0]]
    explicit = ModelState("longtable", "X" * 60, [("id", models.AutoField(primary_key=True))],
                          options={"db_table": "longtable_" + "y" * 70})
    assert explicit.db_table == "longtable_" + "y" * 70

    class Meta:
        app_label = "longtable"
        apps = Apps()

    model = type("X" * 60, (models.Model,), {"__module__": __name__, "Meta": Meta})
    assert model._meta.db_table == expected
