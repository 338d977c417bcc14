"""MigrationLoader: reading packages, dependency resolution, squashes, errors, header cache."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from shoal.conf import AppSpec, Settings, settings
from shoal.exceptions import (
    BadMigrationError,
    CircularDependencyError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)
from shoal.migrations import graph_cache
from shoal.migrations.loader import MigrationLoader, MigrationProxy
from shoal.migrations.migration import SwappableTuple

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "migrations"


def apps(prefix: str, *labels: str, unmigrated: tuple[str, ...] = ()) -> list[AppSpec]:
    """AppSpecs for fixture packages named <prefix>_<label>."""
    return [
        AppSpec(
            module=f"{prefix}_{label}",
            label=label,
            migrations_module=None if label in unmigrated else f"{prefix}_{label}.migrations",
        )
        for label in labels
    ]


@pytest.fixture
def scenario(monkeypatch):
    """Put one fixture scenario directory on sys.path."""

    def use(name: str) -> None:
        monkeypatch.syspath_prepend(str(FIXTURES / name))

    return use


def load(specs, applied=None, **kwargs) -> MigrationLoader:
    return MigrationLoader(specs, applied, use_cache=False, **kwargs)


# -- reading and resolving ----------------------------------------------------------------


def test_cross_app_first_latest_run_before_and_unmigrated(scenario):
    """__first__/__latest__/run_before resolve to real nodes; unmigrated apps are skipped."""
    scenario("cross_app")
    loader = load(apps("xa", "books", "authors", "tags", "legacy", "nomig", unmigrated=("legacy",)))
    assert loader.migrated_apps == {"books", "authors", "tags"}
    assert loader.unmigrated_apps == {"legacy", "nomig"}
    assert sorted(loader.disk_migrations) == [
        ("authors", "0001_initial"), ("authors", "0002_author_rating"),
        ("books", "0001_initial"), ("books", "0002_book_author"), ("tags", "0001_initial"),
    ]
    graph = loader.graph
    assert graph.node_map[("books", "0001_initial")].parents == {("authors", "0001_initial"), ("tags", "0001_initial")}
    assert graph.node_map[("books", "0002_book_author")].parents == {("books", "0001_initial"), ("authors", "0002_author_rating")}
    assert graph.forwards_plan(("books", "0002_book_author")) == [
        ("authors", "0001_initial"), ("authors", "0002_author_rating"), ("tags", "0001_initial"),
        ("books", "0001_initial"), ("books", "0002_book_author"),
    ]
    books1 = loader.get_migration("books", "0001_initial")
    assert books1.initial is True and books1.operations == [] and books1.app_label == "books"
    assert loader.detect_conflicts() == {}


def test_project_state_treats_unmigrated_apps_as_real(scenario):
    """project_state passes unmigrated apps on as real_apps."""
    scenario("cross_app")
    loader = load(apps("xa", "books", "authors", "tags", "legacy", "nomig", unmigrated=("legacy",)))
    state = loader.project_state()
    assert state.real_apps == {"legacy", "nomig"}
    assert state.models == {}


def test_conflicts_are_detected(scenario):
    """Two leaves in one app are reported as a conflict."""
    scenario("conflict")
    loader = load(apps("cf", "books"))
    assert loader.detect_conflicts() == {"books": ["0002_alpha", "0002_beta"]}
    assert loader.graph.leaf_nodes("books") == [("books", "0002_alpha"), ("books", "0002_beta")]


def test_missing_dependency_names_the_migration(scenario):
    """A dependency on a nonexistent migration names who needs it."""
    scenario("missing_dep")
    with pytest.raises(NodeNotFoundError) as info:
        load(apps("md", "books", "authors"))
    assert str(info.value).startswith(
        "Migration books.0002_x dependencies reference nonexistent parent node ('authors', '0009_missing')"
    )
    assert info.value.node == ("authors", "0009_missing")


def test_cycle_is_reported(scenario):
    """A cross-app dependency cycle fails the load with the cycle spelled out."""
    scenario("cycle")
    with pytest.raises(CircularDependencyError, match=r"authors\.0001_initial -> books\.0002_x -> authors\.0001_initial"):
        load(apps("cy", "books", "authors"))


# -- squashed migrations -------------------------------------------------------------------

BOOKS = [("books", n) for n in ("0001_initial", "0002_a", "0003_b")]
SQUASH = ("books", "0001_squashed_0003_b")


def test_squash_used_when_nothing_applied(scenario):
    """With none of the replaced migrations applied the squash replaces them."""
    scenario("squash")
    loader = load(apps("sq", "books", "reader"), applied=set())
    assert SQUASH in loader.graph and not any(k in loader.graph for k in BOOKS)
    assert loader.graph.node_map[("books", "0004_c")].parents == {SQUASH}
    assert loader.graph.node_map[("reader", "0001_initial")].parents == {SQUASH}
    assert SQUASH not in loader.applied_migrations


def test_squash_dropped_when_partly_applied(scenario):
    """With some replaced migrations applied the originals stay and the squash goes."""
    scenario("squash")
    applied = {BOOKS[0], SQUASH}
    loader = load(apps("sq", "books", "reader"), applied=applied)
    assert SQUASH not in loader.graph and all(k in loader.graph for k in BOOKS)
    assert loader.graph.node_map[("books", "0004_c")].parents == {("books", "0003_b")}
    assert loader.graph.node_map[("reader", "0001_initial")].parents == {("books", "0002_a")}
    assert loader.applied_migrations == {BOOKS[0]}
    assert applied == {BOOKS[0], SQUASH}  # the caller's set is not modified


def test_squash_counts_as_applied_when_all_replaced_are(scenario):
    """With every replaced migration applied the squash is used and counts as applied."""
    scenario("squash")
    loader = load(apps("sq", "books", "reader"), applied=set(BOOKS))
    assert SQUASH in loader.graph and not any(k in loader.graph for k in BOOKS)
    assert SQUASH in loader.applied_migrations
    assert loader.graph.forwards_plan(("books", "0004_c")) == [SQUASH, ("books", "0004_c")]
    loader.check_consistent_history(set(BOOKS) | {("books", "0004_c")})


def test_replace_migrations_false_keeps_everything(scenario):
    """replace_migrations=False keeps both the squash and the originals (for squashmigrations)."""
    scenario("squash")
    loader = load(apps("sq", "books", "reader"), replace_migrations=False)
    assert SQUASH in loader.graph and all(k in loader.graph for k in BOOKS)


def test_prefix_lookup(scenario):
    """Prefixes find one migration, and say so when none or several match."""
    scenario("squash")
    loader = load(apps("sq", "books", "reader"))
    assert loader.get_migration_by_prefix("books", "0004").name == "0004_c"
    assert loader.get_migration_by_prefix("books", "0001_initial").name == "0001_initial"
    with pytest.raises(BadMigrationError, match=r"^Cannot find a migration matching '0009' from app 'books'\."):
        loader.get_migration_by_prefix("books", "0009")
    with pytest.raises(BadMigrationError, match=r"^More than one migration matches '000' in app 'books'\. Please be more specific\."):
        loader.get_migration_by_prefix("books", "000")


def test_inconsistent_history_is_named(scenario):
    """An applied migration whose dependency is not applied is reported with both names."""
    scenario("cross_app")
    loader = load(apps("xa", "books", "authors", "tags", "legacy", "nomig", unmigrated=("legacy",)))
    applied = {("books", "0001_initial"), ("tags", "0001_initial")}
    with pytest.raises(InconsistentMigrationHistory, match=r"^Migration books\.0001_initial is applied before its dependency authors\.0001_initial on database 'default'"):
        loader.check_consistent_history(applied, database="default")
    loader.check_consistent_history(applied | {("authors", "0001_initial")})


# -- broken files -------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(scenario):
    """A syntax error in a migration file names the file and the line."""
    scenario("broken_syntax")
    with pytest.raises(BadMigrationError) as info:
        load(apps("bs", "books"))
    text = str(info.value)
    assert os.path.join("bs_books", "migrations", "0002_x.py") in text
    assert "has a syntax error at line 5" in text


def test_missing_migration_class_is_named(scenario):
    """A module without a Migration class is reported by path."""
    scenario("no_class")
    with pytest.raises(BadMigrationError, match=r"Migration file \S*nc_books/migrations/0002_x\.py has no Migration class"):
        load(apps("nc", "books"))


def test_import_error_names_file_line_and_cause(scenario):
    """An exception while importing a migration names the file, line and error."""
    scenario("import_error")
    with pytest.raises(BadMigrationError, match=r"ie_books/migrations/0001_initial\.py could not be imported \(line 2\): ModuleNotFoundError"):
        load(apps("ie", "books"))


# -- packages written on the fly -----------------------------------------------------------


def migration_source(deps=(), extra: str = "") -> str:
    lines = ["from shoal import migrations", "", "", "class Migration(migrations.Migration):"]
    lines += [f"    {line}" for line in extra.splitlines() if line]
    lines += [f"    dependencies = {list(deps)!r}", "    operations = []", ""]
    return "\n".join(lines)


class Project:
    """A throwaway project on sys.path with uniquely named app packages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = f"p{uuid.uuid4().hex[:10]}"

    def app(self, label: str, files: dict[str, str] | None = None, migrations: bool = True) -> AppSpec:
        pkg = self.root / f"{self.prefix}_{label}"
        pkg.mkdir(exist_ok=True)
        (pkg / "__init__.py").write_text("")
        if migrations:
            (pkg / "migrations").mkdir(exist_ok=True)
            (pkg / "migrations" / "__init__.py").write_text("")
        for name, source in (files or {}).items():
            self.write(label, name, source)
        return AppSpec(module=pkg.name, label=label, migrations_module=f"{pkg.name}.migrations")

    def path(self, label: str, name: str) -> Path:
        return self.root / f"{self.prefix}_{label}" / "migrations" / f"{name}.py"

    def write(self, label: str, name: str, source: str, age: float | None = 100.0) -> Path:
        path = self.path(label, name)
        path.write_text(source)
        if age is not None:  # old enough for its stat to be trusted
            then = time.time() - age
            os.utime(path, (then, then))
        return path

    def new_process(self) -> None:
        """Forget imported modules and in-memory caches, as a new process would."""
        for name in [m for m in sys.modules if m.startswith(self.prefix)]:
            del sys.modules[name]
        graph_cache.forget()


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    proj = Project(tmp_path)
    yield proj
    proj.new_process()


def test_unchanged_files_come_from_cache_and_changed_files_are_imported(project):
    """A second load imports no unchanged file; a changed file alone is re-imported."""
    spec = project.app("books", {
        "0001_initial": migration_source(extra="initial = True"),
        "0002_second": migration_source([("books", "0001_initial")]),
    })
    first = MigrationLoader([spec])
    both = {("books", "0001_initial"), ("books", "0002_second")}
    assert first.imported == both and first.from_cache == set()
    assert (project.root / f"{project.prefix}_books/migrations/__pycache__/shoal_graph.json").is_file()

    project.new_process()
    second = MigrationLoader([spec])
    assert second.imported == set() and second.from_cache == both
    second_module = f"{project.prefix}_books.migrations.0002_second"
    assert second_module not in sys.modules
    node = second.graph.nodes[("books", "0002_second")]
    assert isinstance(node, MigrationProxy) and not node.is_loaded
    assert node.dependencies == [("books", "0001_initial")]
    assert second.graph.nodes[("books", "0001_initial")].initial is True
    assert second.graph.forwards_plan(("books", "0002_second")) == [("books", "0001_initial"), ("books", "0002_second")]
    real = second.get_migration("books", "0002_second")
    assert type(real).__module__ == second_module and second_module in sys.modules
    assert node.operations == [] and node.is_loaded

    project.write("books", "0002_second", migration_source([("books", "0001_initial")], extra="atomic = False"), age=50)
    project.new_process()
    third = MigrationLoader([spec])
    assert third.imported == {("books", "0002_second")}
    assert third.from_cache == {("books", "0001_initial")}
    assert third.graph.nodes[("books", "0002_second")].atomic is False


def test_syntax_error_in_changed_file_is_reported_despite_cache(project):
    """Breaking a cached file is noticed: the changed file is imported and fails."""
    spec = project.app("books", {"0001_initial": migration_source(), "0002_x": migration_source([("books", "0001_initial")])})
    MigrationLoader([spec])
    project.write("books", "0002_x", "class Migration(:\n", age=30)
    project.new_process()
    with pytest.raises(BadMigrationError, match=r"0002_x\.py has a syntax error at line 1"):
        MigrationLoader([spec])


def test_same_size_rewrite_with_same_mtime_is_seen(project, monkeypatch):
    """A fresh file rewritten with identical size and mtime is re-read, not served stale."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    spec = project.app("books")
    path = project.write("books", "0001_initial", migration_source(extra="initial = True"), age=None)
    importlib.invalidate_caches()
    importlib.import_module(f"{project.prefix}_books.migrations.0001_initial")
    assert Path(importlib.util.cache_from_source(str(path))).is_file()  # a .pyc Python would trust
    first = MigrationLoader([spec])
    assert first.graph.nodes[("books", "0001_initial")].initial is True
    before = path.stat()
    path.write_text(migration_source(extra="initial = None"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    second = MigrationLoader([spec])
    assert second.graph.nodes[("books", "0001_initial")].initial is None


def test_new_file_written_in_process_is_found(project):
    """A migration written after a load (as makemigrations does) is found by the next load."""
    spec = project.app("books", {"0001_initial": migration_source()})
    assert set(MigrationLoader([spec]).disk_migrations) == {("books", "0001_initial")}
    project.write("books", "0002_new", migration_source([("books", "0001_initial")]), age=None)
    loader = MigrationLoader([spec])
    assert loader.graph.leaf_nodes() == [("books", "0002_new")]


def test_file_changed_after_graph_build_is_refused(project):
    """A lazily imported file whose header no longer matches the graph raises."""
    spec = project.app("books", {"0001_initial": migration_source(), "0002_x": migration_source([("books", "0001_initial")])})
    MigrationLoader([spec])
    project.new_process()
    loader = MigrationLoader([spec])
    assert loader.imported == set()
    project.write("books", "0002_x", migration_source(), age=20)
    with pytest.raises(BadMigrationError, match="changed while shoal was running"):
        loader.get_migration("books", "0002_x")


def test_swappable_dependency_round_trips_through_cache(project, monkeypatch):
    """A swappable dependency survives the cache with its setting, and goes stale when the setting changes."""
    monkeypatch.setattr(settings, "_wrapped", Settings(swappable={"AUTH_USER_MODEL": "accounts.User"}))
    accounts = project.app("accounts", {"0001_initial": migration_source()})
    members = project.app("members", {"0001_initial": migration_source()})
    books = project.app("books", {"0001_initial": (
        "from shoal import migrations\nfrom shoal.conf import settings\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]\n"
        "    operations = []\n"
    )})
    specs = [accounts, members, books]
    MigrationLoader(specs)
    project.new_process()
    cached = MigrationLoader(specs)
    assert ("books", "0001_initial") in cached.from_cache
    (dep,) = cached.graph.nodes[("books", "0001_initial")].dependencies
    assert isinstance(dep, SwappableTuple) and dep.setting == "AUTH_USER_MODEL" and dep.value == "accounts.User"
    assert cached.graph.node_map[("books", "0001_initial")].parents == {("accounts", "0001_initial")}

    monkeypatch.setattr(settings, "_wrapped", Settings(swappable={"AUTH_USER_MODEL": "members.Member"}))
    project.new_process()
    swapped = MigrationLoader(specs)
    assert ("books", "0001_initial") in swapped.imported
    assert swapped.graph.node_map[("books", "0001_initial")].parents == {("members", "0001_initial")}


def test_unwritable_cache_is_ignored(project):
    """When __pycache__ cannot be created the loader still works, only slower."""
    spec = project.app("books", {"0001_initial": migration_source()})
    (project.root / f"{project.prefix}_books/migrations/__pycache__").write_text("not a directory")
    MigrationLoader([spec])
    project.new_process()
    again = MigrationLoader([spec])
    assert again.imported == {("books", "0001_initial")}


def test_empty_app_and_explicit_missing_module(project):
    """__first__ on an app with no migrations fails unless ignored; a missing explicit module fails."""
    empty = project.app("empty")
    books = project.app("books", {"0001_initial": migration_source([("empty", "__first__")])})
    with pytest.raises(NodeNotFoundError, match=r"depends on app 'empty' \(__first__\), which has no migrations"):
        MigrationLoader([empty, books])
    loader = MigrationLoader([empty, books], ignore_no_migrations=True)
    assert loader.graph.node_map[("books", "0001_initial")].parents == set()
    assert "empty" in loader.migrated_apps

    moved = AppSpec(module=books.module, label="books", migrations_module=f"{books.module}.db_migrations")
    with pytest.raises(BadMigrationError, match=r"db_migrations' of app 'books' .* does not exist"):
        MigrationLoader([moved])
    assert MigrationLoader([moved], ignore_no_migrations=True).unmigrated_apps == {"books"}


def test_namespace_or_missing_migrations_package_means_unmigrated(project):
    """An app without a migrations package, or with a directory lacking __init__.py, is unmigrated."""
    bare = project.app("bare", migrations=False)
    spaced = project.app("spaced", migrations=False)
    (project.root / spaced.module / "migrations").mkdir()
    loader = MigrationLoader([bare, spaced])
    assert loader.unmigrated_apps == {"bare", "spaced"} and loader.migrated_apps == set()
    (project.root / spaced.module / "migrations" / "__init__.py").write_text("")
    project.write("spaced", "0001_initial", migration_source(), age=None)
    assert MigrationLoader([bare, spaced]).migrated_apps == {"spaced"}


def test_dependency_on_unknown_app_is_named(project):
    """__first__ of an app that is not installed names the app and the migration."""
    books = project.app("books", {"0001_initial": migration_source([("ghost", "__first__")])})
    with pytest.raises(NodeNotFoundError, match=r"Migration books\.0001_initial depends on app 'ghost'.*not an installed app"):
        MigrationLoader([books])


def test_partly_applied_squash_with_deleted_originals_is_explained(project):
    """A dependency on a deleted replaced migration explains why the squash could not stand in."""
    books = project.app("books", {
        "0001_initial": migration_source(),
        "0001_squashed_0002_a": migration_source(extra='replaces = [("books", "0001_initial"), ("books", "0002_a")]'),
    })
    reader = project.app("reader", {"0001_initial": migration_source([("books", "0002_a")])})
    assert MigrationLoader([books, reader], set()).graph.node_map[("reader", "0001_initial")].parents == {
        ("books", "0001_squashed_0002_a")
    }
    with pytest.raises(NodeNotFoundError, match=r"Migration reader\.0001_initial depends on nonexistent node \('books', '0002_a'\)\. shoal tried to use books\.0001_squashed_0002_a"):
        MigrationLoader([books, reader], {("books", "0001_initial")})
