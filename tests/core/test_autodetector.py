"""The autodetector: state differences -> operations and migrations (no database)."""

from __future__ import annotations

import pytest

from shoal import models
from shoal.exceptions import QuestionError
from shoal.migrations import operations as ops
from shoal.migrations.autodetector import MigrationAutodetector
from shoal.migrations.graph import MigrationGraph
from shoal.migrations.migration import Migration
from shoal.migrations.questioner import MigrationQuestioner
from shoal.migrations.state import ModelState, ProjectState


def pk():
    return models.BigAutoField(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")


def author(*extra):
    return ModelState("authors", "Author", [("id", pk()), ("name", models.CharField(max_length=100)), *extra])


def book(*extra, to="authors.author"):
    return ModelState("books", "Book", [
        ("id", pk()), ("title", models.CharField(max_length=100)),
        ("author", models.ForeignKey(to, on_delete=models.CASCADE)), *extra,
    ])


def state(*model_states):
    return ProjectState({m.key: m for m in model_states})


def graph_with(*keys):
    graph = MigrationGraph()
    for app, name in keys:
        graph.add_node((app, name), Migration(name, app))
    return graph


def detect(before, after, graph=None, questioner=None):
    return MigrationAutodetector(before, after, questioner).changes(graph or MigrationGraph())


class Yes(MigrationQuestioner):
    def ask_rename(self, *args):
        return True

    def ask_rename_model(self, *args):
        return True

    def ask_not_null_addition(self, field_name, model_name):
        return 42


def test_initial_migrations_depend_across_apps():
    """A ForeignKey into another app makes the initial migration depend on that app's."""
    changes = detect(ProjectState(), state(author(), book()))
    assert [m.name for m in changes["authors"]] == ["0001_initial"]
    assert [m.name for m in changes["books"]] == ["0001_initial"]
    assert changes["books"][0].dependencies == [("authors", "0001_initial")]
    assert changes["books"][0].initial is True
    create = changes["books"][0].operations[0]
    assert isinstance(create, ops.CreateModel) and [n for n, _ in create.fields] == ["id", "title", "author"]


def test_added_field_is_named_after_model_and_field():
    """Adding Author.rating gives 0002_author_rating depending on the app's leaf."""
    graph = graph_with(("authors", "0001_initial"))
    changes = detect(state(author()), state(author(("rating", models.IntegerField(default=0)))), graph)
    migration = changes["authors"][0]
    assert migration.name == "0002_author_rating"
    assert migration.dependencies == [("authors", "0001_initial")]
    (op,) = migration.operations
    assert isinstance(op, ops.AddField) and op.name == "rating" and op.field.default == 0


def test_removed_and_altered_fields():
    """Removing one field and altering another gives RemoveField and AlterField."""
    before = state(author(("bio", models.TextField()), ("age", models.IntegerField())))
    after = state(author(("age", models.BigIntegerField(null=True))))
    (migration,) = detect(before, after, graph_with(("authors", "0001_initial")))["authors"]
    kinds = [type(o).__name__ for o in migration.operations]
    assert kinds == ["RemoveField", "AlterField"]
    assert migration.name == "0002_remove_author_bio_alter_author_age"


def test_no_changes_gives_nothing():
    """Identical states produce no migrations."""
    assert detect(state(author(), book()), state(author(), book())) == {}


def test_rename_only_when_the_questioner_agrees():
    """A field that disappears and an identical one that appears is a rename only on 'yes'."""
    before = state(author(("nick", models.CharField(max_length=20, null=True))))
    after = state(author(("alias", models.CharField(max_length=20, null=True))))
    (no,) = detect(before, after, graph_with(("authors", "0001_initial")))["authors"]
    assert [type(o).__name__ for o in no.operations] == ["RemoveField", "AddField"]
    (yes,) = detect(before, after, graph_with(("authors", "0001_initial")), Yes())["authors"]
    assert [type(o).__name__ for o in yes.operations] == ["RenameField"]
    assert yes.name == "0002_rename_nick_author_alias"


def test_non_null_field_without_default_needs_an_answer():
    """--noinput cannot invent a value for existing rows; an answer becomes a one-off default."""
    before = state(author())
    after = state(author(("age", models.IntegerField())))
    with pytest.raises(QuestionError, match="non-nullable field 'age' to author"):
        detect(before, after, graph_with(("authors", "0001_initial")))
    (migration,) = detect(before, after, graph_with(("authors", "0001_initial")), Yes())["authors"]
    (op,) = migration.operations
    assert op.preserve_default is False and op.field.default == 42


def test_circular_foreign_keys_between_apps_are_split():
    """Two new models in two apps pointing at each other need three migrations that can run."""
    a = ModelState("alpha", "A", [("id", pk()), ("b", models.ForeignKey("beta.b", on_delete=models.CASCADE))])
    b = ModelState("beta", "B", [("id", pk()), ("a", models.ForeignKey("alpha.a", on_delete=models.CASCADE))])
    changes = detect(ProjectState(), state(a, b))
    all_migrations = [m for ms in changes.values() for m in ms]
    assert len(all_migrations) == 3
    # Replaying them in dependency order must work: every FK target exists when referenced.
    order = _topological(all_migrations)
    replay = ProjectState()
    for migration in order:
        for operation in migration.operations:
            operation.state_forwards(migration.app_label, replay)
            for model in replay.models.values():
                for field in model.fields.values():
                    if field.is_relation:
                        replay.related_target(model, field)
    assert set(replay.models) == {("alpha", "a"), ("beta", "b")}


def _topological(migrations):
    by_key = {(m.app_label, m.name): m for m in migrations}
    out, seen = [], set()

    def visit(m):
        if (m.app_label, m.name) in seen:
            return
        seen.add((m.app_label, m.name))
        for dep in m.dependencies:
            if tuple(dep) in by_key:
                visit(by_key[tuple(dep)])
        out.append(m)

    for m in migrations:
        visit(m)
    return out


def test_deleted_model_after_fields_pointing_at_it_are_removed():
    """Deleting a model that another app points at waits for that field's removal."""
    before = state(author(), book())
    after = state(ModelState("books", "Book", [("id", pk()), ("title", models.CharField(max_length=100))]))
    graph = graph_with(("authors", "0001_initial"), ("books", "0001_initial"))
    changes = detect(before, after, graph)
    books_migration = changes["books"][0]
    authors_migration = changes["authors"][0]
    assert [type(o).__name__ for o in books_migration.operations] == ["RemoveField"]
    assert [type(o).__name__ for o in authors_migration.operations] == ["DeleteModel"]
    assert (books_migration.app_label, books_migration.name) in authors_migration.dependencies


def test_long_names_are_cut_with_and_more():
    """Many operations give a name cut with _and_more, as Django does."""
    extra = [(f"field_number_{i}", models.IntegerField(null=True)) for i in range(6)]
    (migration,) = detect(state(author()), state(author(*extra)), graph_with(("authors", "0001_initial")))["authors"]
    assert migration.name.endswith("_and_more")
    assert len(migration.name) <= 5 + 52 + len("_and_more")


def test_meta_option_changes():
    """ordering and db_table changes become AlterModelOptions and AlterModelTable."""
    before = state(author())
    changed = author()
    changed.options.update({"ordering": ["name"], "db_table": "writers"})
    (migration,) = detect(before, state(changed), graph_with(("authors", "0001_initial")))["authors"]
    assert sorted(type(o).__name__ for o in migration.operations) == ["AlterModelOptions", "AlterModelTable"]
