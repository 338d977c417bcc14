"""Read every app's migrations package from disk into a :class:`MigrationGraph`.

The graph is built from migration *headers* (dependencies, replaces,
run_before, initial, atomic).  Headers of files unchanged since the last run
come from a small cache (``graph_cache.py``) without importing the file; the
graph then holds a :class:`MigrationProxy` that imports the module the first
time its operations (or anything else) are needed.  Changed, new or very
recent files are imported at once, so a broken file is reported by the load
itself.  Deciding "nothing to migrate" on thousands of migrations therefore
imports almost nothing.  A project's loader (``Project.loader``) also keeps
the whole loaded graph in one snapshot file, used while every file is the
same (``graph_cache.py``).  A migration file that is imported is built from
the path the loader found, without searching the package for it again.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import time
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from shoal.conf import AppSpec
from shoal.exceptions import (
    BadMigrationError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)
from shoal.migrations import graph_cache
from shoal.migrations.graph import MigrationGraph, Node
from shoal.migrations.migration import Migration

__all__ = ["AppSpec", "MigrationLoader", "MigrationProxy"]

Key = tuple[str, str]

# module name -> (mtime_ns, size) of the file when this process imported it,
# so a module already in sys.modules is reused only while its file is unchanged.
_imported: dict[str, tuple[int, int]] = {}

_OTHER_SUFFIXES = tuple(
    s for s in importlib.machinery.all_suffixes() if s not in importlib.machinery.SOURCE_SUFFIXES
)


# -- importing one file -----------------------------------------------------------


def display_path(path: str) -> str:
    """``books/migrations/0002_x.py`` relative to the working directory when
    the file is below it, else the absolute path."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _same_file(a: str | None, b: str) -> bool:
    if not a:
        return False
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _import_failure(path: str, exc: BaseException) -> BadMigrationError:
    shown = display_path(path)
    if isinstance(exc, SyntaxError):
        where = f" at line {exc.lineno}" if exc.lineno else ""
        if exc.filename and not _same_file(exc.filename, path):
            line = f", line {exc.lineno}" if exc.lineno else ""
            where = f" ({exc.filename}{line})"
            return BadMigrationError(
                f"Migration file {shown} could not be imported: syntax error in a module it "
                f"imports{where}: {exc.msg}. Fix that file and run the command again."
            )
        return BadMigrationError(
            f"Migration file {shown} has a syntax error{where}: {exc.msg}. "
            "Fix the file and run the command again."
        )
    import traceback

    line = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if _same_file(frame.filename, path):
            line = f" (line {frame.lineno})"
            break
    return BadMigrationError(
        f"Migration file {shown} could not be imported{line}: {type(exc).__name__}: {exc}. "
        "Fix the file (or what it imports) and run the command again."
    )


def _drop_bytecode(path: str) -> None:
    """Remove a file's .pyc: after a same-second, same-size rewrite Python
    would otherwise run the old code."""
    try:
        os.unlink(importlib.util.cache_from_source(path))
    except (OSError, ValueError, NotImplementedError):
        pass


def _load_module(module_name: str, path: str) -> ModuleType:
    """``importlib.import_module(module_name)`` for a ``.py`` migration file the
    loader found itself: the spec is made from the known path (as the path
    finder makes it) instead of searched for; loading, bytecode handling,
    ``sys.modules`` and the binding on the parent package are the usual ones."""
    parent_name, _, child = module_name.rpartition(".")
    parent = sys.modules.get(parent_name)
    spec = importlib.util.spec_from_file_location(module_name, path) if parent is not None else None
    if spec is None or spec.loader is None:
        return importlib.import_module(module_name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    module = sys.modules[module_name]
    setattr(parent, child, module)
    return module


def import_migration_module(
    module_name: str, path: str, stat: tuple[int, int], racy: bool, direct: bool = False
) -> ModuleType:
    """Import (or re-import, when its file changed) one migration module;
    ``direct``: ``path`` is the ``.py`` file the import system would pick
    (no package, extension or bytecode file of the same name beside it)."""
    existing = sys.modules.get(module_name)
    if existing is not None:
        if not racy and _imported.get(module_name) == stat:
            return existing
        del sys.modules[module_name]
    _imported.pop(module_name, None)
    previous = sys.dont_write_bytecode
    if racy:
        # Neither trust nor write bytecode whose timestamp cannot tell versions apart.
        _drop_bytecode(path)
        sys.dont_write_bytecode = True
    try:
        module = _load_module(module_name, path) if direct else importlib.import_module(module_name)
    except Exception as exc:  # SyntaxError included
        raise _import_failure(path, exc) from exc
    finally:
        sys.dont_write_bytecode = previous
    _imported[module_name] = stat
    return module


def _instantiate(module: ModuleType, name: str, app_label: str, path: str) -> Migration:
    cls = getattr(module, "Migration", None)
    if not isinstance(cls, type):
        raise BadMigrationError(
            f"Migration file {display_path(path)} has no Migration class. Define "
            "`class Migration(migrations.Migration):` in it, or move the file out of the "
            "migrations package if it is not a migration."
        )
    try:
        return cls(name, app_label)  # type: ignore[no-any-return]
    except Exception as exc:
        raise BadMigrationError(
            f"Migration file {display_path(path)}: creating its Migration failed: "
            f"{type(exc).__name__}: {exc}."
        ) from exc


def _header(migration: Any, path: str) -> graph_cache.Header:
    try:
        return graph_cache.header_of(migration)
    except graph_cache.HeaderError as exc:
        raise BadMigrationError(f"Migration file {display_path(path)}: {exc}.") from exc


# -- the lazy node ------------------------------------------------------------------


class MigrationProxy(Migration):
    """A migration known by its header; the file is imported on first need.

    Header attributes (``name``, ``app_label``, ``dependencies``,
    ``replaces``, ``run_before``, ``initial``, ``atomic``) are plain values.
    ``operations``, ``apply``, ``unapply``, ``mutate_state`` and any other
    attribute come from the real Migration, imported by :meth:`load`.
    """

    def __init__(
        self,
        name: str,
        app_label: str,
        header: graph_cache.Header,
        module_name: str,
        path: str,
        stat: tuple[int, int],
        real: Migration | None = None,
        direct: bool = False,
    ) -> None:
        self.name = name
        self.app_label = app_label
        self.dependencies = list(header.dependencies)
        self.replaces = list(header.replaces)
        self.run_before = list(header.run_before)
        self.initial = header.initial
        self.atomic = header.atomic
        self._header = header
        self._module_name = module_name
        self._path = path
        self._stat = stat
        self._real = real
        self._direct = direct

    @property
    def is_loaded(self) -> bool:
        """Whether the migration file has been imported."""
        return self._real is not None

    @property
    def path(self) -> str:
        """The file this migration comes from."""
        return self._path

    def load(self) -> Migration:
        """The real Migration instance, importing its file if needed."""
        if self._real is None:
            module = import_migration_module(self._module_name, self._path, self._stat, racy=False,
                                             direct=self._direct)
            real = _instantiate(module, self.name, self.app_label, self._path)
            if _header(real, self._path) != self._header:
                raise BadMigrationError(
                    f"Migration file {display_path(self._path)} changed while shoal was running: "
                    "its dependencies, replaces or run_before differ from those the migration "
                    "graph was built from. Run the command again."
                )
            self._real = real
        return self._real

    @property  # type: ignore[override]
    def operations(self) -> list[Any]:
        return self.load().operations

    @operations.setter
    def operations(self, value: list[Any]) -> None:
        self.load().operations = value

    def mutate_state(self, project_state: Any, preserve: bool = True) -> Any:
        return self.load().mutate_state(project_state, preserve=preserve)

    def apply(self, project_state: Any, schema_editor: Any, collect_sql: bool = False,
              on_operation: Any = None) -> Any:
        return self.load().apply(project_state, schema_editor, collect_sql, on_operation=on_operation)

    def unapply(self, project_state: Any, schema_editor: Any, collect_sql: bool = False,
                on_operation: Any = None) -> Any:
        return self.load().unapply(project_state, schema_editor, collect_sql, on_operation=on_operation)

    def __getattr__(self, attr: str) -> Any:
        # Only reached for attributes the proxy lacks (custom class attributes).
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.load(), attr)


# -- the loader -----------------------------------------------------------------------


class MigrationLoader:
    """The migrations on disk of a set of apps, and their graph.

    ``applied`` is the set of keys recorded as applied (None: no database).
    After loading: ``disk_migrations`` (key -> migration, lazy proxies),
    ``graph``, ``applied_migrations`` (``applied`` adjusted for squashed
    migrations: a replacement whose replaced migrations are all applied
    counts as applied), ``migrated_apps``, ``unmigrated_apps``,
    ``replacements`` (key -> squashed migration).  ``snapshot``: the file
    where the loaded graph of these apps is kept between runs (None: none).
    """

    def __init__(
        self,
        apps: Iterable[AppSpec],
        applied: set[Key] | None = None,
        *,
        load: bool = True,
        ignore_no_migrations: bool = False,
        replace_migrations: bool = True,
        use_cache: bool | None = None,
        snapshot: str | os.PathLike[str] | None = None,
    ) -> None:
        self.apps = list(apps)
        # Where a project keeps the loaded graph of all its apps (graph_cache.py).
        self.snapshot = os.fspath(snapshot) if snapshot is not None else None
        self._snapshot_listing: Any = None
        #: On a snapshot miss: its headers by (directory, filename), for unchanged files.
        self._snapshot_headers: dict[Any, Any] = {}
        self._scans: dict[str, Any] = {}  # directory -> scan_directory() result, taken once
        self.app_specs = {spec.label: spec for spec in self.apps}
        self.applied_migrations: set[Key] = set(applied or ())
        self.ignore_no_migrations = ignore_no_migrations
        #: Whether ignore_no_migrations changed this load (an error became an
        #: omission); when not, the graph is the one a strict load builds too.
        self.needed_ignore = False
        self.replace_migrations = replace_migrations
        if use_cache is None:
            use_cache = os.environ.get("SHOAL_GRAPH_CACHE", "1") != "0"
        self.use_cache = use_cache
        self.disk_migrations: dict[Key, MigrationProxy] = {}
        self.migrated_apps: set[str] = set()
        self.unmigrated_apps: set[str] = set()
        self.replacements: dict[Key, MigrationProxy] = {}
        self.graph = MigrationGraph()
        # What the last load did, for tests and benchmarks.
        self.imported: set[Key] = set()
        self.from_cache: set[Key] = set()
        self._ends: dict[str, tuple[list[Key], list[Key]]] | None = None
        if load:
            self.build_graph()

    # -- disk ---------------------------------------------------------------------

    def load_disk(self) -> None:
        """Find and read every app's migration files."""
        self.disk_migrations = {}
        self.migrated_apps = set()
        self.unmigrated_apps = set()
        self.needed_ignore = False
        self.imported = set()
        self.from_cache = set()
        importlib.invalidate_caches()  # see files written since the last import
        now_ns = time.time_ns()
        for spec in self.apps:
            package = self._import_package(spec) if spec.migrations_module else None
            if package is None:
                self.unmigrated_apps.add(spec.label)
                continue
            self.migrated_apps.add(spec.label)
            for directory in list(package.__path__):
                self._load_directory(spec.label, package.__name__, directory, now_ns)
        # What a missed snapshot lent this load is for this load only.
        self._scans.clear()
        self._snapshot_headers = {}

    def _import_package(self, spec: AppSpec) -> ModuleType | None:
        """The app's migrations package, or None when the app has none."""
        name = spec.migrations_module
        assert name is not None
        explicit = name != f"{spec.module}.migrations"
        existing = sys.modules.get(name)
        if existing is not None and getattr(existing, "__file__", None) is None:
            del sys.modules[name]  # was a namespace (empty dir); maybe a package now
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if not (name == missing or name.startswith(missing + ".")):
                raise self._package_failure(spec, exc) from exc
            if not explicit:
                return None
            if self.ignore_no_migrations:
                self.needed_ignore = True
                return None
            raise BadMigrationError(
                f"The migrations module '{name}' of app '{spec.label}' (set in "
                "[tool.shoal.migration_modules]) does not exist. Create the package (a "
                "directory with an __init__.py), or fix the setting."
            ) from exc
        except Exception as exc:
            raise self._package_failure(spec, exc) from exc
        # An empty directory imports as a namespace package: no migrations.
        if getattr(module, "__file__", None) is None or not hasattr(module, "__path__"):
            return None
        return module

    @staticmethod
    def _package_failure(spec: AppSpec, exc: Exception) -> BadMigrationError:
        return BadMigrationError(
            f"Cannot import the migrations package '{spec.migrations_module}' of app "
            f"'{spec.label}': {type(exc).__name__}: {exc}."
        )

    def _load_directory(self, app_label: str, package: str, directory: str, now_ns: int) -> None:
        if directory in self._scans:
            scanned = self._scans.pop(directory)
        else:
            scanned = graph_cache.scan_directory(directory, _OTHER_SUFFIXES)
        if scanned is None:
            return
        files, shadowed = scanned
        from_snapshot = self._snapshot_headers
        cached: dict[str, graph_cache.Entry] | None = None  # the package's own cache, read if needed
        fresh: dict[str, graph_cache.Entry] = {}
        racy_before = now_ns - graph_cache.RACY_NS
        disk_migrations = self.disk_migrations
        for filename, name, cacheable, path, stat in files:
            key = (app_label, name)
            racy = stat[0] > racy_before  # graph_cache.is_racy, inlined: this runs per file
            module_name = f"{package}.{name}"
            hit = None
            if cacheable and not racy:
                stored = from_snapshot.get((directory, filename))
                if stored is not None and stored[0] == stat[0] and stored[1] == stat[1]:
                    hit = graph_cache.Entry(stat[0], stat[1], tuple.__new__(graph_cache.Header, stored[2]))
                else:
                    if cached is None:
                        cached = graph_cache.read(directory) if self.use_cache else {}
                    hit = cached.get(filename)
            if (
                hit is not None
                and hit[0] == stat[0]
                and hit[1] == stat[1]
                and (not hit.header.dependencies or graph_cache.header_is_current(hit.header))
            ):
                disk_migrations[key] = MigrationProxy(name, app_label, hit.header, module_name, path, stat,
                                                      direct=name not in shadowed)
                fresh[filename] = hit
                self.from_cache.add(key)
                continue
            direct = cacheable and name not in shadowed
            module = import_migration_module(module_name, path, stat, racy, direct=direct)
            real = _instantiate(module, name, app_label, path)
            header = _header(real, path)
            disk_migrations[key] = MigrationProxy(name, app_label, header, module_name, path, stat, real,
                                                  direct=direct)
            if cacheable and not racy:
                fresh[filename] = graph_cache.Entry(stat[0], stat[1], header)
            self.imported.add(key)
        # (All from the snapshot: the package's own cache was not read, and is left as it is.)
        if self.use_cache and cached is not None and fresh != cached:
            graph_cache.write(directory, fresh)

    # -- graph --------------------------------------------------------------------

    def build_graph(self) -> None:
        """Load the files and build ``graph``, applying squashed migrations."""
        if self.snapshot and self.use_cache and graph_cache.restore_snapshot(self, self.snapshot):
            return  # the graph of these very files, loaded and checked by an earlier run
        self.load_disk()
        graph = self.graph = MigrationGraph()
        self.replacements = {}
        # add_node and add_dependency, inlined for the common case (a fresh graph,
        # an existing parent): thousands of calls on every command.
        node_map, nodes = graph.node_map, graph.nodes
        for key, migration in self.disk_migrations.items():
            node_map[key] = Node(key)
            nodes[key] = migration
            if migration.replaces:
                self.replacements[key] = migration
        for key, migration in self.disk_migrations.items():
            for parent in migration.dependencies:
                if parent[0] == key[0] and parent[1] != "__first__":
                    parent_key = (parent[0], parent[1])
                    parent_node = node_map.get(parent_key)
                    if parent_node is None or type(parent_node) is not Node:
                        graph.add_dependency(migration, key, parent_key, skip_validation=True)
                    else:
                        node_map[key].parents.add(parent_key)
                        parent_node.children.add(key)
        self._ends = None
        for key, migration in self.disk_migrations.items():
            for parent in migration.dependencies:
                if parent[0] == key[0]:
                    continue
                resolved = self._resolve(parent, key)
                if resolved is not None:
                    graph.add_dependency(migration, key, resolved, skip_validation=True)
            for child in migration.run_before:
                resolved = self._resolve(child, key)
                if resolved is not None:
                    graph.add_dependency(migration, resolved, key, skip_validation=True)
        if self.replace_migrations:
            self._use_replacements()
        try:
            graph.validate_consistency()
        except NodeNotFoundError as exc:
            raise self._explain_missing(exc) from exc
        graph.ensure_not_cyclic()
        if self.snapshot and self.use_cache:
            graph_cache.save_snapshot(self, self.snapshot)

    def _app_ends(self, app: str) -> tuple[list[Key], list[Key]]:
        """(roots, leaves) of an app from its internal dependencies."""
        if self._ends is None:
            ends: dict[str, tuple[list[Key], list[Key]]] = {}
            for key in self.graph.nodes:
                node = self.graph.node_map[key]
                roots, leaves = ends.setdefault(key[0], ([], []))
                if not any(p[0] == key[0] for p in node.parents):
                    roots.append(key)
                if not any(c[0] == key[0] for c in node.children):
                    leaves.append(key)
            for roots, leaves in ends.values():
                roots.sort()
                leaves.sort()
            self._ends = ends
        return self._ends.get(app, ([], []))

    def _resolve(self, dep: Key, origin: Key) -> Key | None:
        """A dependency as a graph key: ``__first__``/``__latest__`` (and
        swappable dependencies) become the app's first/last migration; None
        when there is nothing to depend on."""
        app, name = dep[0], dep[1]
        if name not in ("__first__", "__latest__") or (app, name) in self.graph.nodes:
            return (app, name)
        if app == origin[0] or app in self.unmigrated_apps:
            return None
        if app not in self.migrated_apps:
            raise NodeNotFoundError(
                f"Migration {origin[0]}.{origin[1]} depends on app '{app}' ({name}), which is "
                "not an installed app. Add it to [tool.shoal] apps, or remove the dependency.",
                (app, name),
                origin,
            )
        roots, leaves = self._app_ends(app)
        ends = roots if name == "__first__" else leaves
        if ends:
            return ends[0]
        if self.ignore_no_migrations:
            self.needed_ignore = True
            return None
        raise NodeNotFoundError(
            f"Migration {origin[0]}.{origin[1]} depends on app '{app}' ({name}), which has no "
            f"migrations. Create them with `shoal makemigrations {app}`, or remove the dependency.",
            (app, name),
            origin,
        )

    def _use_replacements(self) -> None:
        """Squashed migrations: use the replacement when none or all of the
        migrations it replaces are applied, else keep the originals."""
        for key, migration in self.replacements.items():
            statuses = [target in self.applied_migrations for target in migration.replaces]
            if all(statuses):
                self.applied_migrations.add(key)
            else:
                self.applied_migrations.discard(key)
            if all(statuses) or not any(statuses):
                self.graph.remove_replaced_nodes(key, migration.replaces)
            else:
                self.graph.remove_replacement_node(key, migration.replaces)

    def _explain_missing(self, exc: NodeNotFoundError) -> NodeNotFoundError:
        """Say so when the missing node is a replaced migration that could not
        be replaced because its squash is only partly applied."""
        candidates = sorted(
            key for key, m in self.replacements.items() if exc.node in m.replaces
        )
        if candidates and not any(c in self.graph.nodes for c in candidates):
            origin = exc.origin
            tried = ", ".join(f"{a}.{n}" for a, n in candidates)
            return NodeNotFoundError(
                f"Migration {origin} depends on nonexistent node {exc.node!r}. shoal tried to "
                f"use {tried} instead, which replaces it, but could not because only some of "
                "the migrations it replaces are applied. Restore the replaced migration files "
                "until every database has applied all of them.",
                exc.node,
                origin,
            )
        return exc

    # -- queries ------------------------------------------------------------------

    def check_consistent_history(self, applied: Iterable[Key], database: str | None = None) -> None:
        """Raise InconsistentMigrationHistory if an applied migration has a
        dependency that is not applied."""
        applied = set(applied)
        on = f" on database '{database}'" if database else ""
        for key in sorted(applied):
            if key not in self.graph.nodes:
                continue
            for parent in sorted(self.graph.node_map[key].parents):
                if parent in applied:
                    continue
                squash = self.replacements.get(parent)
                if squash is not None and all(r in applied for r in squash.replaces):
                    continue
                raise InconsistentMigrationHistory(
                    f"Migration {key[0]}.{key[1]} is applied before its dependency "
                    f"{parent[0]}.{parent[1]}{on}. The recorded history does not match the "
                    "migration files: restore the files that were applied, or fix the "
                    "dependency, before migrating."
                )

    def detect_conflicts(self) -> dict[str, list[str]]:
        """Apps with more than one leaf migration -> their leaf names."""
        leaves: dict[str, list[str]] = {}
        for app, name in self.graph.leaf_nodes():
            leaves.setdefault(app, []).append(name)
        return {app: names for app, names in leaves.items() if len(names) > 1}

    def get_migration(self, app_label: str, name: str) -> Migration:
        """The (imported) migration ``app_label.name`` of the graph."""
        node = self.graph.nodes.get((app_label, name))
        if node is None:
            raise BadMigrationError(
                f"Cannot find migration {app_label}.{name} in the migration graph "
                f"(`shoal showmigrations {app_label}` lists them)."
            )
        return node.load() if isinstance(node, MigrationProxy) else node

    def get_migration_by_prefix(self, app_label: str, prefix: str) -> Migration:
        """The migration of ``app_label`` whose name is or starts with ``prefix``."""
        names = sorted(n for a, n in self.disk_migrations if a == app_label)
        if prefix in names:
            matches = [prefix]
        else:
            matches = [n for n in names if n.startswith(prefix)]
        if not matches:
            raise BadMigrationError(
                f"Cannot find a migration matching '{prefix}' from app '{app_label}'. "
                f"(`shoal showmigrations {app_label}` lists them.)"
            )
        if len(matches) > 1:
            raise BadMigrationError(
                f"More than one migration matches '{prefix}' in app '{app_label}'. "
                f"Please be more specific. Candidates: {', '.join(matches)}."
            )
        return self.disk_migrations[(app_label, matches[0])].load()

    def project_state(self, nodes: Any = None, at_end: bool = True) -> Any:
        """The ProjectState at ``nodes`` (default: the end of every app);
        this imports the migrations it needs."""
        return self.graph.make_state(nodes=nodes, at_end=at_end, real_apps=self.unmigrated_apps)
