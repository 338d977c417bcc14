"""The shortcuts of the planning commands give the answers of the long way:
per-app plans, model summaries, the state and header caches and their
invalidation, and the CLI's garbage-collector handling."""

from __future__ import annotations

import datetime
import decimal
import gc
import json
import os
import pickle
import random
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from shoal import models
from shoal.apps import Apps
from shoal.migrations import graph_cache, state_cache
from shoal.migrations.graph import MigrationGraph
from shoal.migrations.migration import SwappableTuple
from shoal.migrations.state import (
    ModelState, ProjectState, _round_trip_types, class_summary, model_summary,
)
from tests.cli.projects import TempProject

APP = "plan"


class Registry(Apps):
    """A registry whose get_models() lists every registered model (no app configs needed)."""

    def get_models(self, include_auto_created: bool = False) -> list[type]:
        return [m for by_name in self.all_models.values() for m in by_name.values()
                if include_auto_created or not m._meta.auto_created]


def meta(reg: Apps, **options: Any) -> type:
    return type("Meta", (), {"app_label": APP, "apps": reg, **options})


# -- per-app plans --------------------------------------------------------------------------


def _random_graph(seed: int) -> MigrationGraph:
    rng = random.Random(seed)
    graph = MigrationGraph()
    apps = [f"a{i}" for i in range(5)]
    keys: list[tuple[str, str]] = []
    for step in range(60):
        app = rng.choice(apps)
        key = (app, f"{step:04d}")
        graph.add_node(key, object())
        own = [k for k in keys if k[0] == app]
        if own:  # a chain, with a merge now and then
            for parent in rng.sample(own[-3:], k=min(len(own[-3:]), rng.choice([1, 1, 1, 2]))):
                graph.add_dependency(None, key, parent, skip_validation=True)
        others = [k for k in keys if k[0] != app]
        for parent in rng.sample(others, k=min(len(others), rng.choice([0, 0, 1, 2]))):
            graph.add_dependency(None, key, parent, skip_validation=True)
        keys.append(key)
    graph.validate_consistency()
    return graph


@pytest.mark.parametrize("seed", range(12))
def test_app_plans_equal_the_filtered_forwards_plans(seed: int) -> None:
    """graph.app_plans lists each app's migrations in the order of its own forwards plan."""
    graph = _random_graph(seed)
    labels = ["a0", "a1", "a2", "a3", "a4", "missing"]
    plans = graph.app_plans(labels)
    for label in labels:
        expected = [k for k in graph.forwards_plan_many(graph.leaf_nodes(label)) if k[0] == label]
        assert plans[label] == expected
    assert plans["missing"] == []


# -- model summaries ----------------------------------------------------------------------------


class Kind(models.TextChoices):
    A = "a", "A"
    B = "b", "B"


def _options() -> list[dict[str, Any]]:
    return [
        {},
        {"null": True, "blank": True, "db_column": "col", "db_comment": "c", "help_text": "h"},
        {"unique": True, "db_index": True, "verbose_name": "V", "editable": False},
        {"default": None, "db_tablespace": "t", "serialize": False},
    ]


def _field_kinds() -> list[tuple[type, dict[str, Any]]]:
    return [
        (models.IntegerField, {"choices": [(1, "one")], "default": 1}),
        (models.BigIntegerField, {}), (models.SmallIntegerField, {}), (models.PositiveIntegerField, {}),
        (models.PositiveSmallIntegerField, {}), (models.PositiveBigIntegerField, {}),
        (models.FloatField, {"default": 1.5}),
        (models.DecimalField, {"max_digits": 6, "decimal_places": 2, "default": decimal.Decimal("1.10")}),
        (models.BooleanField, {"default": False}),
        (models.CharField, {"max_length": 30, "choices": Kind.choices, "db_collation": "C"}),
        (models.SlugField, {}), (models.SlugField, {"max_length": 80, "db_index": False}),
        (models.EmailField, {}), (models.URLField, {"max_length": 300}),
        (models.TextField, {"default": ""}),
        (models.DateField, {"auto_now": True}), (models.DateTimeField, {"auto_now_add": True}),
        (models.TimeField, {}), (models.DurationField, {"default": datetime.timedelta(1)}),
        (models.BinaryField, {"editable": True}), (models.UUIDField, {"default": uuid.uuid4}),
        (models.JSONField, {"default": dict}),
        (models.GenericIPAddressField, {"protocol": "IPv4"}),
    ]


def _rich_registry() -> Apps:
    reg = Registry()

    class Target(models.Model):
        code = models.CharField(max_length=10, unique=True)
        Meta = meta(reg)

    attrs: dict[str, Any] = {"__module__": __name__}
    for i, (cls, extra) in enumerate(_field_kinds()):
        for j, options in enumerate(_options()):
            merged = {**options, **extra}
            if cls is models.BooleanField and merged.get("null"):
                merged["default"] = None
            attrs[f"f{i}_{j}"] = cls(**merged)
    attrs["Meta"] = meta(reg, indexes=[models.Index(fields=["f0_0", "-f1_0"])],
                         unique_together=[("f0_0", "f1_0")], ordering=["f0_0"], db_table_comment="all")
    type("Everything", (models.Model,), attrs)

    class Node(models.Model):
        parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, related_name="kids")
        target = models.ForeignKey(Target, on_delete=models.SET_NULL, null=True, db_constraint=False,
                                   to_field="code", related_query_name="q", limit_choices_to={"code": "x"})
        bare = models.ForeignKey("Target", on_delete=models.PROTECT, db_index=False)
        one = models.OneToOneField(Target, on_delete=models.CASCADE, related_name="+")
        tags = models.ManyToManyField(Target, related_name="tagged", db_table="node_tags", blank=True)
        links = models.ManyToManyField("Target", through="Link", through_fields=("node", "target"))
        friends = models.ManyToManyField("self", symmetrical=False)
        Meta = meta(reg, order_with_respect_to="parent", indexes=[models.Index(fields=["parent"], name="n_idx")],
                    constraints=[models.UniqueConstraint(fields=["one"], name="n_one")])

    class Link(models.Model):
        node = models.ForeignKey(Node, on_delete=models.CASCADE)
        target = models.ForeignKey(Target, on_delete=models.CASCADE)
        Meta = meta(reg)

    class Child(Target):
        extra = models.IntegerField(default=0)
        Meta = meta(reg)

    class Shadow(Target):
        Meta = meta(reg, proxy=True, ordering=["code"])

    class Small(models.Model):
        id = models.SmallAutoField(primary_key=True)
        Meta = meta(reg)

    class Plain(models.Model):
        key = models.AutoField(primary_key=True, db_column="k")
        Meta = meta(reg)

    class Loud(models.CharField):
        """A user's field class: summarized through a clone, as from_model does."""

    class Custom(models.Model):
        shout = Loud(max_length=5)
        Meta = meta(reg, managed=False, db_table="custom_t")

    return reg


def test_builtin_fields_deconstruct_like_their_clones() -> None:
    """Every field class class_summary reads directly deconstructs as its clone does, bound or not."""
    reg = _rich_registry()
    seen: set[type] = set()
    for model in reg.get_models(include_auto_created=True):
        for field in model._meta.local_fields + model._meta.local_many_to_many:
            if type(field) in _round_trip_types():
                seen.add(type(field))
                clone = field.clone()
                clone.set_attributes_from_name(field.name)
                assert clone.deconstruct()[1:] == field.deconstruct()[1:], (model, field.name)
    assert seen == set(_round_trip_types())


def test_class_summary_equals_the_summary_of_the_model_state() -> None:
    """class_summary(model) is model_summary(ModelState.from_model(model)) for every kind of model."""
    reg = _rich_registry()
    for model in reg.get_models():
        assert class_summary(model) == model_summary(ModelState.from_model(model)), model
    summary = state_cache.summarize_models(reg)
    assert summary == state_cache.summarize(ProjectState.from_apps(reg))
    assert ("plan", "everything") in summary and ("plan", "shadow") in summary


def test_unchanged_compares_every_model() -> None:
    """A summary matches only the same models with equal fields, options and managers."""
    reg = _rich_registry()
    state = ProjectState.from_apps(reg)
    summary = state_cache.summarize(state)
    assert state_cache.unchanged(summary, state_cache.summarize_models(reg))
    altered = state.clone()
    altered.update_model("plan", "target", lambda m: m.fields.update(code=models.CharField(max_length=11, unique=True)))
    assert not state_cache.unchanged(summary, state_cache.summarize(altered))
    renamed_option = state.clone()
    renamed_option.update_model("plan", "custom", lambda m: m.options.update(db_table="other"))
    assert not state_cache.unchanged(summary, state_cache.summarize(renamed_option))
    fewer = state.clone()
    fewer.remove_model("plan", "link")
    assert not state_cache.unchanged(summary, state_cache.summarize(fewer))


# -- the state cache ----------------------------------------------------------------------------


def _small_state() -> ProjectState:
    book = ModelState("books", "Book", [("id", models.BigAutoField(primary_key=True)),
                                         ("title", models.CharField(max_length=10))])
    return ProjectState({book.key: book})


def test_state_cache_round_trip_and_rejections(tmp_path: Path) -> None:
    """The cache gives back state and summary for its signature only; a bad file is no cache."""
    state = _small_state()
    state_cache.store(tmp_path, "sig-1", state)
    cached = state_cache.load_cached(tmp_path, "sig-1")
    assert cached is not None and cached.summary == state_cache.summarize(state)
    assert cached.state.models.keys() == state.models.keys()
    assert state_cache.load(tmp_path, "sig-1").models[("books", "book")].fields["title"].max_length == 10
    assert state_cache.load_cached(tmp_path, "sig-2") is None
    assert state_cache.load_cached(tmp_path, None) is None
    path = tmp_path / "__pycache__" / state_cache.CACHE_FILE
    path.write_bytes(pickle.dumps(("sig-1", state)))  # the layout of an older shoal
    assert state_cache.load_cached(tmp_path, "sig-1") is None
    path.write_bytes(b"not a pickle")
    assert state_cache.load_cached(tmp_path, "sig-1") is None


def test_state_that_fails_to_unpickle_is_rebuilt(tmp_path: Path) -> None:
    """A cached state that cannot be unpickled any more is rebuilt, not an error."""
    path = tmp_path / "__pycache__" / state_cache.CACHE_FILE
    path.parent.mkdir()
    path.write_bytes(pickle.dumps((state_cache.FORMAT, "sig", {}, b"garbage", ())))
    rebuilt = _small_state()
    cached = state_cache.load_cached(tmp_path, "sig", rebuild=lambda: rebuilt)
    assert cached is not None and cached.state is rebuilt
    assert state_cache.load(tmp_path, "sig") is None


class _Step:
    """A migration that adds one model to the state and notes that it ran."""

    ran: list[str] = []

    def __init__(self, name: str) -> None:
        self.name = name

    def mutate_state(self, state: ProjectState, preserve: bool = True) -> ProjectState:
        _Step.ran.append(self.name)
        model = ModelState("books", f"M{self.name}", [("id", models.BigAutoField(primary_key=True))])
        state.add_model(model)
        return state


def _history(names: list[str], extra_parents: dict[str, list[str]] | None = None) -> MigrationGraph:
    graph = MigrationGraph()
    for index, name in enumerate(names):
        graph.add_node(("books", name), _Step(name))
        if index:
            graph.add_dependency(None, ("books", name), ("books", names[index - 1]), skip_validation=True)
    for child, parents in (extra_parents or {}).items():
        for parent in parents:
            graph.add_dependency(None, ("books", child), ("books", parent), skip_validation=True)
    return graph


def _sig(names: list[str], code: str = "code-1", changed: str | None = None) -> tuple[Any, ...]:
    stats = tuple((("books", n), (2 if n == changed else 1, 10)) for n in names)
    return (code, (), (("books", names[-1]),), stats, ())


def _resume(base_dir: Path, sig: Any, graph: MigrationGraph) -> Any:
    return state_cache.resume(state_cache.read(base_dir, sig), sig, graph)


def test_resume_replays_only_the_migrations_added_since_the_cache(tmp_path: Path) -> None:
    """A history that only adds migrations is carried on from the cached state; anything
    else (a changed file, shoal's code, a cached migration now depending on a new one) is not."""
    first = ["0001", "0002"]
    graph = _history(first)
    state = graph.make_state()
    state_cache.store(tmp_path, _sig(first), state, nodes=graph.nodes)

    longer = ["0001", "0002", "0003", "0004"]
    _Step.ran = []
    resumed = _resume(tmp_path, _sig(longer), _history(longer))
    assert _Step.ran == ["0003", "0004"]
    assert state_cache.summarize(resumed) == state_cache.summarize(_history(longer).make_state())
    _Step.ran = []

    assert _resume(tmp_path, _sig(longer, changed="0002"), _history(longer)) is None
    assert _resume(tmp_path, _sig(longer, code="code-2"), _history(longer)) is None
    assert _resume(tmp_path, _sig(["0001"]), _history(["0001"])) is None  # 0002 is gone
    # A new migration that a cached one now depends on (run_before, or a __latest__ that moved).
    assert _resume(tmp_path, _sig(longer), _history(longer, {"0002": ["0004"]})) is None
    assert _resume(tmp_path, "not-a-tuple", _history(longer)) is None
    assert _Step.ran == []


def test_signature_covers_shoal_code_files_and_settings(monkeypatch) -> None:
    """The state signature changes with shoal's own code, a migration file's stat and settings."""
    class Proxy:
        def __init__(self, stat: tuple[int, int]) -> None:
            self._stat = stat

    class Loader:
        def __init__(self, stat: tuple[int, int]) -> None:
            self.disk_migrations = {("a", "0001"): Proxy(stat)}
            self.unmigrated_apps: set[str] = set()
            self.graph = MigrationGraph()

    old = time.time_ns() - 10 * 10**9
    base = state_cache.signature(Loader((old, 10)), {})
    assert base == state_cache.signature(Loader((old, 10)), {})
    assert base != state_cache.signature(Loader((old, 11)), {})
    assert base != state_cache.signature(Loader((old + 1, 10)), {})
    assert base != state_cache.signature(Loader((old, 10)), {"AUTH_USER_MODEL": "a.User"})
    assert state_cache.signature(Loader((time.time_ns(), 10)), {}) is None  # too recent to trust
    monkeypatch.setattr(graph_cache, "_code_stamp", "another shoal")
    assert base != state_cache.signature(Loader((old, 10)), {})


# -- the header cache ---------------------------------------------------------------------------


def test_header_cache_round_trip_and_old_format(tmp_path: Path) -> None:
    """Headers survive the cache (swappable keys, flags); a cache of another format is ignored."""
    swappable = SwappableTuple(("accounts", "__first__"), "AUTH_USER_MODEL", "accounts.User")
    entries = {
        "0001_a.py": graph_cache.Entry(1, 2, graph_cache.Header((("b", "0001"),), (), (), True, True)),
        "0002_b.py": graph_cache.Entry(3, 4, graph_cache.Header(
            (swappable, ("a", "0001_a")), (("a", "0001_x"),), (("c", "0002"),), None, False)),
    }
    graph_cache.write(str(tmp_path), entries)
    graph_cache.forget()
    back = graph_cache.read(str(tmp_path))
    assert back == entries
    dep = back["0002_b.py"].header.dependencies[0]
    assert isinstance(dep, SwappableTuple) and dep.setting == "AUTH_USER_MODEL" and dep.value == "accounts.User"
    path = Path(graph_cache.cache_path(str(tmp_path)))
    data = json.loads(path.read_text())
    data["format"] = 1
    path.write_text(json.dumps(data))
    graph_cache.forget()
    assert graph_cache.read(str(tmp_path)) == {}
    path.write_text('{"format": 2, "files": {"0001_a.py": [1, 2, [["b", 3]], [], [], null, true]}}')
    graph_cache.forget()
    assert graph_cache.read(str(tmp_path)) == {}  # malformed: no cache rather than a wrong header
    graph_cache.forget()


# -- the command, end to end ----------------------------------------------------------------------


def _age(paths: list[Path], seconds: float = 60.0) -> None:
    then = time.time() - seconds
    for path in paths:
        os.utime(path, (then, then))


def _shelf_project(tmp_path: Path) -> tuple[TempProject, Path]:
    """A one-app project with one model and its initial migration."""
    project = TempProject(tmp_path / "proj", ["shelf"], "sqlite:///db.sqlite3")
    project.write("shelf/models.py", """
        from shoal import models

        class Book(models.Model):
            title = models.CharField(max_length=100)
    """)
    assert project.shoal("makemigrations", "--noinput").code == 0
    return project, project.path / "shelf" / "migrations"


def test_makemigrations_check_follows_models_and_migration_files(tmp_path: Path) -> None:
    """--check reuses the cached history only while migration files are unchanged, and sees model changes."""
    project, migrations_dir = _shelf_project(tmp_path)
    _age(list(migrations_dir.glob("*.py")))
    first = project.shoal("makemigrations", "--check", "--noinput")
    assert first.code == 0 and "No changes detected" in first.out
    assert (project.path / "__pycache__" / state_cache.CACHE_FILE).is_file()
    again = project.shoal("makemigrations", "--check", "--noinput")
    assert again.code == 0 and "No changes detected" in again.out

    models_py = project.path / "shelf" / "models.py"

    def edit_models(old: str, new: str, stamp: float) -> None:
        models_py.write_text(models_py.read_text().replace(old, new))
        os.utime(models_py, (stamp, stamp))  # same size: another second, or Python keeps the old bytecode

    edit_models("max_length=100", "max_length=200", time.time() + 10)
    changed = project.shoal("makemigrations", "--check", "--noinput")
    assert changed.code == 1 and "Alter field title on book" in changed.out

    # The migration file changes instead (same size, another mtime): the cache must not be used.
    edit_models("max_length=200", "max_length=100", time.time() + 20)
    initial = next(migrations_dir.glob("0001_*.py"))
    initial.write_text(initial.read_text().replace("max_length=100", "max_length=150"))
    _age([initial], 30.0)
    stale = project.shoal("makemigrations", "--check", "--noinput")
    assert stale.code == 1 and "Alter field title on book" in stale.out


def test_makemigrations_check_after_a_new_migration_file(tmp_path: Path) -> None:
    """A migration written since the last run is replayed on top of the cached state: --check
    then sees exactly what the full history gives, and the cache follows the new history."""
    project, migrations_dir = _shelf_project(tmp_path)
    _age(list(migrations_dir.glob("*.py")), 120.0)
    assert project.shoal("makemigrations", "--check", "--noinput").code == 0
    cache = project.path / "__pycache__" / state_cache.CACHE_FILE
    before = pickle.loads(cache.read_bytes())[4]
    assert before == (("shelf", "0001_initial"),)

    models_py = project.path / "shelf" / "models.py"
    models_py.write_text(models_py.read_text() + "    pages = models.IntegerField(default=0)\n")
    os.utime(models_py, (time.time() + 10, time.time() + 10))
    made = project.shoal("makemigrations", "--noinput", "-n", "pages")
    assert made.code == 0, made.err
    _age([migrations_dir / "0002_pages.py"], 60.0)
    same = project.shoal("makemigrations", "--check", "--noinput")
    assert same.code == 0 and "No changes detected" in same.out
    assert set(pickle.loads(cache.read_bytes())[4]) == {("shelf", "0001_initial"), ("shelf", "0002_pages")}

    # The new migration says less than the models: the carried-on state must show the difference.
    (migrations_dir / "0003_more.py").write_text(
        "from shoal import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shelf', '0002_pages')]\n"
        "    operations = [migrations.RemoveField('book', 'pages')]\n")
    _age([migrations_dir / "0003_more.py"], 30.0)
    differs = project.shoal("makemigrations", "--check", "--noinput")
    assert differs.code == 1 and "Add field pages to book" in differs.out


def test_showmigrations_lists_apps_in_plan_order(tmp_path: Path) -> None:
    """showmigrations prints every app and its migrations, with (no migrations) for an empty app."""
    project = TempProject(tmp_path / "proj", ["shelf", "empty"], "sqlite:///db.sqlite3")
    project.write("shelf/models.py", """
        from shoal import models

        class Book(models.Model):
            title = models.CharField(max_length=100)
    """)
    assert project.shoal("makemigrations", "--noinput").code == 0
    project.write("shelf/models.py", """
        from shoal import models

        class Book(models.Model):
            title = models.CharField(max_length=100)
            year = models.IntegerField(null=True)
    """)
    assert project.shoal("makemigrations", "--noinput").code == 0
    assert project.shoal("migrate", "shelf", "0001", "--noinput").code == 0
    shown = project.shoal("showmigrations")
    assert shown.code == 0
    lines = shown.out.splitlines()
    assert lines[0] == "empty" and lines[1] == " (no migrations)" and lines[2] == "shelf"
    assert lines[3].startswith(" [X] 0001_") and lines[4].startswith(" [ ] 0002_")


# -- the garbage collector ------------------------------------------------------------------------


def test_main_restores_the_garbage_collector(tmp_path: Path, monkeypatch) -> None:
    """main() pauses the collector while a command runs and leaves it as it found it."""
    from shoal.cli import main

    monkeypatch.chdir(tmp_path)
    assert gc.isenabled()
    assert main(["showmigrations", "--config", str(tmp_path / "missing.toml")]) != 0
    assert gc.isenabled()
    gc.disable()
    try:
        main(["showmigrations", "--config", str(tmp_path / "missing.toml")])
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- relations_to ---------------------------------------------------------------------------------


def _reference_relations(state: ProjectState, app: str, name: str) -> list[tuple[str, str]]:
    from shoal.models.fields.related import resolve_relation

    key = (app, name.lower())
    return [(m.name, fname) for m in state.models.values() for fname, f in m.fields.items()
            if f.is_relation and resolve_relation(f.remote_field.model, m.app_label, m.name_lower) == key]


def test_relations_to_follows_every_change_of_the_state() -> None:
    """relations_to answers as a full scan would after models are added, changed, renamed and removed."""
    from shoal import migrations

    def fk(to: str, **kw: Any) -> Any:
        return models.ForeignKey(to, on_delete=models.CASCADE, **kw)

    state = ProjectState()
    for op in [
        migrations.CreateModel("Author", [("id", models.BigAutoField(primary_key=True)),
                                          ("code", models.CharField(max_length=5, unique=True))]),
        migrations.CreateModel("Book", [("id", models.BigAutoField(primary_key=True)),
                                        ("author", fk("lib.author", to_field="code")), ("title", models.TextField())]),
        migrations.CreateModel("Note", [("id", models.BigAutoField(primary_key=True)), ("book", fk("lib.book"))]),
    ]:
        op.state_forwards("lib", state)

    def agree() -> None:
        for model in ("author", "book", "note", "writer"):
            got = [(m.name, f.name) for m, f in state.relations_to("lib", model)]
            assert got == _reference_relations(state, "lib", model), model

    agree()
    migrations.AddField("note", "author", fk("lib.author")).state_forwards("lib", state)
    agree()
    migrations.AlterField("book", "title", fk("lib.note")).state_forwards("lib", state)
    agree()
    migrations.RenameField("author", "code", "ref").state_forwards("lib", state)
    assert state.models["lib", "book"].fields["author"].remote_field.field_name == "ref"
    agree()
    migrations.RenameModel("Author", "Writer").state_forwards("lib", state)
    agree()
    migrations.RemoveField("note", "author").state_forwards("lib", state)
    migrations.DeleteModel("Note").state_forwards("lib", state)
    agree()
    clone = state.clone()
    migrations.RenameField("writer", "ref", "key").state_forwards("lib", clone)
    assert clone.models["lib", "book"].fields["author"].remote_field.field_name == "key"
    assert state.models["lib", "book"].fields["author"].remote_field.field_name == "ref"
    assert pickle.loads(pickle.dumps(state)).models.keys() == state.models.keys()


# -- the project snapshot of the graph ----------------------------------------------------------


@pytest.fixture
def disk(tmp_path, monkeypatch):
    from tests.core.test_loader import Project as DiskProject

    monkeypatch.syspath_prepend(str(tmp_path))
    proj = DiskProject(tmp_path)
    yield proj
    proj.new_process()


def _snapshot_loader(specs: list[Any], path: Path, **kwargs: Any) -> Any:
    from shoal.migrations.loader import MigrationLoader

    return MigrationLoader(specs, snapshot=path, **kwargs)


def _shape(loader: Any) -> Any:
    graph = loader.graph
    return ({k: (sorted(n.parents), sorted(n.children)) for k, n in graph.node_map.items()},
            {k: (m.dependencies, m.replaces, m.run_before, m.initial, m.atomic, m.path)
             for k, m in loader.disk_migrations.items()},
            list(graph.nodes), loader.migrated_apps, loader.unmigrated_apps)


def test_graph_snapshot_is_used_only_for_the_same_files(disk, tmp_path: Path) -> None:
    """The snapshot gives the graph an ordinary load gives, and only while no file changed."""
    from tests.core.test_loader import migration_source

    snap = tmp_path / "cache" / graph_cache.SNAPSHOT_FILE
    books = disk.app("books", {"0001_initial": migration_source(extra="initial = True"),
                               "0002_more": migration_source([("books", "0001_initial")])})
    shelf = disk.app("shelf", {"0001_initial": migration_source([("books", "__latest__")], extra="atomic = False")})
    empty = disk.app("empty", migrations=False)
    specs = [books, shelf, empty]
    first = _snapshot_loader(specs, snap)
    assert snap.is_file() and first.imported == {("books", "0001_initial"), ("books", "0002_more"), ("shelf", "0001_initial")}
    disk.new_process()
    again = _snapshot_loader(specs, snap)
    assert again.imported == set() and again.from_cache == set(again.disk_migrations)
    assert _shape(again) == _shape(first)
    assert again.graph.node_map[("shelf", "0001_initial")].parents == {("books", "0002_more")}
    assert again.get_migration("books", "0002_more").dependencies == [("books", "0001_initial")]

    # Changed, added and removed files each make the next load an ordinary one.
    disk.write("books", "0002_more", migration_source([("books", "0001_initial")], extra="atomic = False"), age=50)
    disk.new_process()
    changed = _snapshot_loader(specs, snap)
    assert changed.imported == {("books", "0002_more")} and changed.disk_migrations[("books", "0002_more")].atomic is False
    disk.write("books", "0003_new", migration_source([("books", "0002_more")]), age=40)
    disk.new_process()
    added = _snapshot_loader(specs, snap)
    assert ("books", "0003_new") in added.imported
    assert added.graph.node_map[("shelf", "0001_initial")].parents == {("books", "0003_new")}
    disk.path("books", "0003_new").unlink()
    disk.new_process()
    removed = _snapshot_loader(specs, snap)
    assert ("books", "0003_new") not in removed.graph.nodes
    assert removed.graph.node_map[("shelf", "0001_initial")].parents == {("books", "0002_more")}
    disk.new_process()
    assert _snapshot_loader(specs, snap).imported == set()
    # Another set of apps is another snapshot; one made without ignore_no_migrations serves with it too.
    disk.new_process()
    assert not graph_cache.restore_snapshot(_snapshot_loader([books], snap, load=False), str(snap))
    assert graph_cache.restore_snapshot(_snapshot_loader(specs, snap, load=False, ignore_no_migrations=True), str(snap))
    assert graph_cache.restore_snapshot(_snapshot_loader(specs, snap, load=False), str(snap))
    # Made with the flag but not changed by it (makemigrations' load): it serves strict loads
    # (migrate, showmigrations) as well, so the commands do not rewrite it for each other.
    _snapshot_loader([books, shelf], snap, ignore_no_migrations=True)
    assert graph_cache.restore_snapshot(_snapshot_loader([books, shelf], snap, load=False), str(snap))
    # Changed by the flag (a dependency on an app without migrations was dropped): not for strict loads.
    hollow = disk.app("hollow", {})  # a migrations package with no migration in it yet
    needy = disk.app("needy", {"0001_initial": migration_source([("hollow", "__first__")])})
    made = _snapshot_loader([books, hollow, needy], snap, ignore_no_migrations=True)
    assert made.needed_ignore
    assert not graph_cache.restore_snapshot(_snapshot_loader([books, hollow, needy], snap, load=False), str(snap))
    assert graph_cache.restore_snapshot(
        _snapshot_loader([books, hollow, needy], snap, load=False, ignore_no_migrations=True), str(snap))


def test_graph_snapshot_is_not_kept_for_recent_broken_or_squashed_histories(disk, tmp_path: Path) -> None:
    """No snapshot for a file written just now, a missing dependency or squashed migrations; junk is ignored."""
    from shoal.exceptions import NodeNotFoundError
    from tests.core.test_loader import migration_source

    snap = tmp_path / "cache" / graph_cache.SNAPSHOT_FILE
    books = disk.app("books", {"0001_initial": migration_source()})
    disk.write("books", "0002_now", migration_source([("books", "0001_initial")]), age=None)
    _snapshot_loader([books], snap)
    assert not snap.exists()
    disk.write("books", "0002_now", migration_source([("books", "0009_missing")]), age=60)
    disk.new_process()
    with pytest.raises(NodeNotFoundError):
        _snapshot_loader([books], snap)
    assert not snap.exists()
    disk.write("books", "0002_now", migration_source([("books", "0001_initial")]), age=60)
    disk.write("books", "0001_squashed", migration_source(extra="replaces = [('books', '0001_initial')]"), age=60)
    disk.new_process()
    _snapshot_loader([books], snap)
    assert not snap.exists()
    disk.path("books", "0001_squashed").unlink()
    disk.new_process()
    _snapshot_loader([books], snap)
    assert snap.is_file()
    snap.write_bytes(b"junk")
    disk.new_process()
    loader = _snapshot_loader([books], snap)
    assert set(loader.graph.nodes) == {("books", "0001_initial"), ("books", "0002_now")}
    disk.new_process()
    assert graph_cache.restore_snapshot(_snapshot_loader([books], snap, load=False), str(snap))  # rewritten


def test_missed_snapshot_lends_its_headers_to_the_ordinary_load(disk, tmp_path: Path, monkeypatch) -> None:
    """After a migration is added, the load imports only the new file and takes every other
    file's header from the snapshot, without reading the other packages' own caches; a file
    that changed is imported again, whatever the snapshot says."""
    from tests.core.test_loader import migration_source

    snap = tmp_path / "cache" / graph_cache.SNAPSHOT_FILE
    books = disk.app("books", {"0001_initial": migration_source(extra="initial = True"),
                               "0002_more": migration_source([("books", "0001_initial")])})
    shelf = disk.app("shelf", {"0001_initial": migration_source([("books", "__latest__")])})
    specs = [books, shelf]
    _snapshot_loader(specs, snap)
    disk.write("books", "0003_new", migration_source([("books", "0002_more")]), age=40)
    disk.new_process()

    real_read = graph_cache.read

    def no_package_cache(directory: str) -> dict[str, Any]:
        if "books" in directory:
            return real_read(directory)  # the package with the new file may look in its own cache
        raise AssertionError(f"read the package cache of {directory}")

    with monkeypatch.context() as patch:
        patch.setattr(graph_cache, "read", no_package_cache)
        added = _snapshot_loader(specs, snap)
    assert added.imported == {("books", "0003_new")}
    assert added.graph.node_map[("shelf", "0001_initial")].parents == {("books", "0003_new")}
    assert added.get_migration("books", "0002_more").dependencies == [("books", "0001_initial")]
    # The snapshot now holds the three files; one of them changes (same size, another mtime).
    disk.write("books", "0002_more", migration_source([("books", "0001_initial")], extra="atomic = False"), age=20)
    disk.write("books", "0004_newer", migration_source([("books", "0003_new")]), age=20)
    disk.new_process()
    changed = _snapshot_loader(specs, snap)
    assert changed.imported == {("books", "0002_more"), ("books", "0004_newer")}
    assert changed.disk_migrations[("books", "0002_more")].atomic is False
