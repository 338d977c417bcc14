"""Migration base class: copies, identity, apply/unapply order, SQL comments, swappable deps."""

from __future__ import annotations

import copy
import pickle

import pytest

from shoal.conf import SettingReference, Settings, settings
from shoal.exceptions import IrreversibleError
from shoal.migrations.migration import (
    NOT_SQL_MARKER,
    Migration,
    SwappableTuple,
    swappable_dependency,
)


class FakeState:
    """A state that records the operations applied to it."""

    def __init__(self, done: tuple[str, ...] = ()) -> None:
        self.done = done

    def clone(self) -> FakeState:
        return FakeState(self.done)


class FakeOp:
    """An operation that logs every call it receives."""

    def __init__(self, name: str, log: list, *, reversible: bool = True, sql: bool = True) -> None:
        self.name, self.log, self.reversible, self.reduces_to_sql = name, log, reversible, sql
        self.atomic = None

    def describe(self) -> str:
        return f"Do {self.name}"

    def state_forwards(self, app_label: str, state: FakeState) -> None:
        state.done = state.done + (self.name,)

    def database_forwards(self, app_label, editor, from_state, to_state) -> None:
        self.log.append(("fwd", self.name, from_state.done, to_state.done))
        editor.collected_sql.append(f"SQL {self.name};")

    def database_backwards(self, app_label, editor, from_state, to_state) -> None:
        self.log.append(("back", self.name, from_state.done, to_state.done))
        editor.collected_sql.append(f"UNDO {self.name};")


class Editor:
    """A collecting schema editor stand-in."""

    def __init__(self) -> None:
        self.collected_sql: list[str] = []


def make(ops: list, **attrs) -> Migration:
    cls = type("Migration", (Migration,), {"operations": ops, **attrs})
    return cls("0002_x", "books")


def test_instances_copy_class_lists():
    """Mutating one instance's lists touches neither the class nor a sibling."""
    cls = type("Migration", (Migration,), {"operations": ["op"], "dependencies": [("a", "1")]})
    first, second = cls("0001", "books"), cls("0001", "books")
    first.operations.append("other")
    first.dependencies.clear()
    assert cls.operations == ["op"] and second.operations == ["op"]
    assert second.dependencies == [("a", "1")]


def test_identity_repr_and_key():
    """Migrations compare and hash by (app_label, name)."""
    one, same, other = Migration("0001_initial", "books"), Migration("0001_initial", "books"), Migration("0001_initial", "authors")
    assert one == same and hash(one) == hash(same) and one != other
    assert repr(one) == "<Migration books.0001_initial>"
    assert one.key == ("books", "0001_initial")
    assert str(one) == "books.0001_initial"


def test_mutate_state_preserves_by_default():
    """mutate_state leaves the given state alone unless preserve=False."""
    log: list = []
    migration = make([FakeOp("a", log), FakeOp("b", log)])
    start = FakeState()
    assert migration.mutate_state(start).done == ("a", "b")
    assert start.done == ()
    assert migration.mutate_state(start, preserve=False) is start and start.done == ("a", "b")


def test_apply_runs_in_order_with_callback_and_sql_comments():
    """apply runs each op with before/after states, reports progress, comments the SQL."""
    log: list = []
    seen: list = []
    migration = make([FakeOp("a", log), FakeOp("py", log, sql=False), FakeOp("c", log)])
    editor = Editor()
    state = migration.apply(FakeState(), editor, collect_sql=True, on_operation=lambda i, op: seen.append((i, op.name)))
    assert state.done == ("a", "py", "c")
    assert seen == [(0, "a"), (1, "py"), (2, "c")]
    assert log == [("fwd", "a", (), ("a",)), ("fwd", "c", ("a", "py"), ("a", "py", "c"))]
    assert editor.collected_sql == [
        "-- Do a", "SQL a;", NOT_SQL_MARKER, "-- Do py", "-- Do c", "SQL c;",
    ]


def test_unapply_runs_backwards_with_matching_states():
    """unapply undoes ops last first, each from its after-state to its before-state."""
    log: list = []
    migration = make([FakeOp("a", log), FakeOp("b", log)])
    start = FakeState(("x",))
    result = migration.unapply(start, Editor())
    assert result is start
    assert log == [("back", "b", ("x", "a", "b"), ("x", "a")), ("back", "a", ("x", "a"), ("x",))]


def test_unapply_checks_reversibility_before_running_anything():
    """An irreversible op anywhere stops unapply before any op runs, naming both."""
    log: list = []
    migration = make([FakeOp("a", log), FakeOp("b", log, reversible=False)])
    with pytest.raises(IrreversibleError, match=r"'Do b' in migration books\.0002_x is not reversible"):
        migration.unapply(FakeState(), Editor())
    assert log == []


def test_swappable_dependency_from_value_and_setting_reference():
    """swappable_dependency depends on the model's app's first migration and keeps the setting."""
    plain = swappable_dependency("accounts.User")
    assert plain == ("accounts", "__first__") and isinstance(plain, SwappableTuple)
    assert plain.value == "accounts.User"
    ref = swappable_dependency(SettingReference("accounts.User", "AUTH_USER_MODEL"))
    assert ref.setting == "AUTH_USER_MODEL" and ref == ("accounts", "__first__")
    assert copy.deepcopy(ref).setting == "AUTH_USER_MODEL"
    assert pickle.loads(pickle.dumps(ref)).value == "accounts.User"


def test_swappable_dependency_resolves_setting_names(monkeypatch):
    """A setting name (or a value naming a configured setting) resolves through [tool.shoal.swappable]."""
    monkeypatch.setattr(settings, "_wrapped", Settings(swappable={"AUTH_USER_MODEL": "members.Member"}))
    by_name = swappable_dependency("AUTH_USER_MODEL")
    assert by_name == ("members", "__first__") and by_name.setting == "AUTH_USER_MODEL"
    assert swappable_dependency("members.Member").setting == "AUTH_USER_MODEL"


def test_atomic_ops_of_non_atomic_migration_get_their_own_transaction():
    """In a non-transactional run, ops that want atomicity go through schema_editor.atomic_operation()."""
    import contextlib

    log: list = []
    editor = Editor()
    editor.atomic_migration = False

    @contextlib.contextmanager
    def atomic_operation():
        log.append("begin")
        yield
        log.append("commit")

    editor.atomic_operation = atomic_operation
    wants, refuses = FakeOp("a", log), FakeOp("b", log)
    refuses.atomic = False
    make([wants, refuses]).apply(FakeState(), editor)
    assert [entry if isinstance(entry, str) else entry[1] for entry in log] == ["begin", "a", "commit", "b"]
