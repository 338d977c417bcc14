"""A per-package cache of migration headers, so the graph can be built
without importing (executing) every migration file.

Importing a migration runs its ``operations`` list: thousands of field and
operation objects for a long history.  Deciding "nothing to migrate" only
needs each migration's *header* (dependencies, replaces, run_before, initial,
atomic), so the loader keeps those in
``<migrations package>/__pycache__/shoal_graph.json`` with the (mtime_ns,
size) of the file they came from.  On the next load a file whose stat still
matches is not imported; any other file is imported and its entry refreshed.

Freshness rules:

* A file modified within :data:`RACY_NS` of the moment it was examined is
  never trusted from a cache (the way git treats "racily clean" files):
  filesystem timestamps are coarse, and a rewrite of the same size within one
  tick would otherwise go unnoticed.
* A swappable dependency stores the setting it came from; when that setting
  has another value now, the entry is stale.
* The cache is best effort: unreadable, malformed or unwritable files are
  ignored, and a copy is kept in memory for repeated loads in one process.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any, NamedTuple

from shoal import __version__
from shoal.migrations.migration import SwappableTuple, current_swappable_value

Key = tuple[str, str]

# 2: one flat list per file (format 1 kept a dict per header, slower to decode).
FORMAT = 2
CACHE_DIR = "__pycache__"
CACHE_FILE = "shoal_graph.json"
RACY_NS = 2_000_000_000


class Header(NamedTuple):
    """What the graph needs from a migration, without its operations."""

    dependencies: tuple[Key, ...]
    replaces: tuple[Key, ...]
    run_before: tuple[Key, ...]
    initial: bool | None
    atomic: bool


class Entry(NamedTuple):
    """A cached header and the stat of the file it was read from."""

    mtime_ns: int
    size: int
    header: Header


class HeaderError(ValueError):
    """A migration's header attributes have the wrong shape (message says which)."""


def header_of(migration: Any) -> Header:
    """Read and check the header attributes of a loaded Migration."""
    initial = getattr(migration, "initial", None)
    return Header(
        dependencies=_keys(migration, "dependencies"),
        replaces=_keys(migration, "replaces"),
        run_before=_keys(migration, "run_before"),
        initial=None if initial is None else bool(initial),
        atomic=bool(getattr(migration, "atomic", True)),
    )


def _keys(migration: Any, attr: str) -> tuple[Key, ...]:
    value = getattr(migration, attr, None) or ()
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise HeaderError(f"'{attr}' must be a list of (app_label, migration_name) pairs, got {value!r}")
    keys: list[Key] = []
    for item in value:
        if isinstance(item, SwappableTuple):
            keys.append(item)
            continue
        if (
            not isinstance(item, (tuple, list))
            or len(item) != 2
            or not all(isinstance(part, str) for part in item)
        ):
            raise HeaderError(
                f"'{attr}' must be a list of (app_label, migration_name) pairs; {item!r} is not one"
            )
        keys.append((item[0], item[1]))
    return tuple(keys)


def header_is_current(header: Header) -> bool:
    """False when a swappable dependency's setting now has another value."""
    for dep in header.dependencies:
        if isinstance(dep, SwappableTuple) and dep.setting and dep.value:
            now = current_swappable_value(dep.setting)
            if now is not None and now.lower() != dep.value.lower():
                return False
    return True


def is_racy(mtime_ns: int, now_ns: int) -> bool:
    """Whether a file is too recently modified for its stat to prove it unchanged."""
    return now_ns - mtime_ns < RACY_NS


# -- JSON -----------------------------------------------------------------------


def _encode_key(key: Key) -> Any:
    if isinstance(key, SwappableTuple):
        return {"app": key[0], "name": key[1], "setting": key.setting, "value": key.value}
    return [key[0], key[1]]


def _decode_key(raw: Any) -> Key:
    if isinstance(raw, dict):
        return SwappableTuple((str(raw["app"]), str(raw["name"])), raw.get("setting"), raw.get("value"))
    app, name = raw
    if not isinstance(app, str) or not isinstance(name, str):
        raise ValueError(raw)
    return (app, name)


def _decode_keys(raw: list[Any]) -> tuple[Key, ...]:
    if not raw:
        return ()
    if type(raw) is not list:
        raise ValueError(raw)
    keys = []
    for item in raw:
        # The common case inline (two strings); anything else goes through _decode_key.
        if type(item) is list and len(item) == 2 and type(item[0]) is str and type(item[1]) is str:
            keys.append((item[0], item[1]))
        else:
            keys.append(_decode_key(item))
    return tuple(keys)


def encode_header(header: Header) -> list[Any]:
    """The JSON form of a header: ``[dependencies, replaces, run_before, initial, atomic]``."""
    return [
        [_encode_key(k) for k in header.dependencies],
        [_encode_key(k) for k in header.replaces],
        [_encode_key(k) for k in header.run_before],
        header.initial,
        header.atomic,
    ]


def decode_header(raw: list[Any]) -> Header:
    """A header from its JSON form (ValueError/KeyError/TypeError if malformed)."""
    dependencies, replaces, run_before, initial, atomic = raw
    if initial is not None and not isinstance(initial, bool):
        raise ValueError(initial)
    return Header(
        _decode_keys(dependencies),
        _decode_keys(replaces),
        _decode_keys(run_before),
        initial,
        bool(atomic),
    )


# -- files ----------------------------------------------------------------------

_memory: dict[str, dict[str, Entry]] = {}


def cache_path(directory: str) -> str:
    """Where the cache of the migrations package in ``directory`` lives."""
    return os.path.join(directory, CACHE_DIR, CACHE_FILE)


def read(directory: str) -> dict[str, Entry]:
    """The cached entries of a package directory, by file name ({} if none)."""
    entries = _memory.get(directory)
    if entries is not None:
        return entries
    import json  # here: a load served by the project snapshot never needs it

    try:
        with open(cache_path(directory), "rb") as fh:
            data = json.loads(fh.read())
        if data.get("format") != FORMAT:
            return {}
        entries = {}
        for filename, (mtime_ns, size, dependencies, replaces, run_before, initial, atomic) in data["files"].items():
            if type(mtime_ns) is not int or type(size) is not int:
                raise ValueError(filename)
            if not replaces and not run_before and initial is None and atomic is True:
                # Most migrations: only dependencies (decode_header, inlined).
                header = Header(_decode_keys(dependencies), (), (), None, True)
            else:
                header = decode_header([dependencies, replaces, run_before, initial, atomic])
            entries[filename] = Entry(mtime_ns, size, header)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    _memory[directory] = entries
    return entries


def write(directory: str, entries: dict[str, Entry]) -> None:
    """Store the entries of a package directory, on disk when possible."""
    import json

    _memory[directory] = entries
    payload = {
        "format": FORMAT,
        "files": {
            name: [entry.mtime_ns, entry.size, *encode_header(entry.header)]
            for name, entry in sorted(entries.items())
        },
    }
    path = cache_path(directory)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        # A read-only install is fine: we only lose the speed-up.
        try:
            os.unlink(tmp)
        except OSError:
            pass


def forget(directory: str | None = None) -> None:
    """Drop the in-memory copy (of one directory, or all); for tests."""
    if directory is None:
        _memory.clear()
    else:
        _memory.pop(directory, None)


# -- code stamp -----------------------------------------------------------------

_code_stamp: str | None = None


def code_stamp() -> str:
    """shoal's version and the (path, mtime, size) of its own modules: caches
    hold what shoal's code computed (field deconstructions, a built graph), so
    an edit of that code (an editable install) must not reuse them."""
    global _code_stamp
    if _code_stamp is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        parts = [__version__]
        pending = [root]
        while pending:
            directory = pending.pop()
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.endswith(".py"):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    parts.append(f"{entry.path}:{st.st_mtime_ns}:{st.st_size}")
                elif entry.name != "__pycache__" and entry.is_dir():
                    pending.append(entry.path)
        _code_stamp = "\n".join(parts)
    return _code_stamp


# -- the project snapshot ---------------------------------------------------------
#
# The per-package files above still make the loader decode every header and
# build the graph edge by edge.  A project's loader (``Project.loader``) also
# keeps the finished result, before squashed migrations are applied, in one
# file: the listing it was built from (every candidate file's name, mtime and
# size, by app and directory), each file's header and each node's parents.
# It is used only when this run's listing is exactly the stored one (and
# nothing is too recent), for the same apps, settings, Python and shoal code;
# it is written only for a graph that loaded cleanly (no squashed migration,
# no missing node, no cycle, only ``.py`` files, no swappable dependency).

SNAPSHOT_FORMAT = 1
SNAPSHOT_FILE = "shoal_graph.marshal"


def snapshot_key(specs: Any) -> tuple[Any, ...]:
    """What besides the files (and ``ignore_no_migrations``) a loaded graph depends on."""
    swappable = None
    try:
        from shoal.conf import settings

        if settings.configured:
            swappable = tuple(sorted((str(k), str(v)) for k, v in settings.get().swappable.items()))
    except Exception:  # no settings: the swappable lookups return nothing either
        swappable = None
    return (SNAPSHOT_FORMAT, tuple(sys.version_info[:3]), marshal.version, code_stamp(),
            tuple((s.module, s.label, s.migrations_module) for s in specs), swappable)


def read_snapshot(path: str, key: tuple[Any, ...], listing: tuple[Any, ...],
                  ignore_no_migrations: bool, misses: dict[Any, Any] | None = None) -> tuple[Any, Any] | None:
    """``(headers, parents)`` stored for exactly ``key`` and ``listing``, else
    None.  A graph that loaded without ``ignore_no_migrations`` is the graph
    with it too (that flag only turns errors into omissions); not conversely.

    On a miss with the same ``key`` (files were added, changed or removed),
    ``misses`` is filled with the stored headers by ``(directory, filename)``:
    ``(mtime_ns, size, header)``, so that the ordinary load takes the unchanged
    files' headers from here instead of from every package's own cache."""
    try:
        with open(path, "rb") as fh:
            stored_key, stored_ignore, stored_listing, headers, parents = marshal.loads(fh.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if stored_key != key:
        return None
    if stored_listing != listing or (stored_ignore and not ignore_no_migrations):
        if misses is not None:
            _headers_by_file(stored_listing, headers, misses)
        return None
    return headers, parents


def _headers_by_file(listing: Any, headers: Any, out: dict[Any, Any]) -> None:
    """The stored headers by ``(directory, filename)``, in the order they were stored."""
    try:
        position = 0
        for entry in listing:
            for directory, rows in (entry[2] if len(entry) == 3 else ()):
                for filename, mtime_ns, size in rows or ():
                    out[(directory, filename)] = (mtime_ns, size, headers[position])
                    position += 1
    except (TypeError, ValueError, IndexError):
        out.clear()  # not the layout this code writes: use nothing of it


def write_snapshot(path: str, key: tuple[Any, ...], ignore_no_migrations: bool, listing: tuple[Any, ...],
                   headers: tuple[Any, ...], parents: tuple[Any, ...]) -> None:
    """Store a snapshot (best effort, as the per-package files)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        data = marshal.dumps((key, bool(ignore_no_migrations), listing, headers, parents))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def scan_directory(directory: str, other_suffixes: tuple[str, ...]) -> tuple[list[Any], set[str]] | None:
    """The candidate migration files of a package directory, in name order, as
    ``(filename, name, is_source, path, (mtime_ns, size))``, and the names that
    something besides a ``.py`` file could also stand for (a directory,
    bytecode, an extension module); None when the directory cannot be read."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return None
    shadowed = {e.name.partition(".")[0] for e in entries if not e.name.endswith(".py")}
    files: list[Any] = []
    seen: set[str] = set()
    for entry in entries:
        filename = entry.name
        if filename[0] in "_~.":
            continue
        if filename.endswith(".py"):
            name, source = filename[:-3], True
        else:
            suffix = next((s for s in other_suffixes if filename.endswith(s)), None)
            if suffix is None:
                continue
            name, source = filename[: -len(suffix)], False
        if not name or "." in name or name in seen:
            continue
        try:
            if not entry.is_file():
                continue
            st = entry.stat()
        except OSError:
            continue
        seen.add(name)
        files.append((filename, name, source, entry.path, (st.st_mtime_ns, st.st_size)))
    return files, shadowed


def restore_snapshot(loader: Any, path: str) -> bool:
    """Fill ``loader`` (its disk migrations, apps and graph) from the snapshot
    at ``path`` when this run's files are exactly the ones it was made from.

    Otherwise (or on any trouble: the ordinary load then reports it, in its
    order) return False, leaving what a later :func:`save_snapshot` needs."""
    import importlib
    import time

    from shoal.migrations.graph import MigrationGraph, Node
    from shoal.migrations.loader import _OTHER_SUFFIXES, MigrationProxy

    loader._snapshot_listing = None
    importlib.invalidate_caches()  # as load_disk: see files written since the last import
    too_recent = time.time_ns() - RACY_NS
    migrated: set[str] = set()
    unmigrated: set[str] = set()
    listing: list[Any] = []
    files_in_order: list[Any] = []
    try:
        for spec in loader.apps:
            package = loader._import_package(spec) if spec.migrations_module else None
            if package is None:
                unmigrated.add(spec.label)
                listing.append((spec.label, None))
                continue
            migrated.add(spec.label)
            names: set[str] = set()
            directories: list[Any] = []
            for directory in list(package.__path__):
                scanned = scan_directory(directory, _OTHER_SUFFIXES)
                loader._scans[directory] = scanned  # the ordinary load, on a miss, reads no directory twice
                if scanned is None:
                    directories.append((directory, None))
                    continue
                files, shadowed = scanned
                row = []
                for filename, name, source, file_path, stat in files:
                    if not source or stat[0] > too_recent or name in names:
                        return False  # never cached: bytecode-only, too recent, or twice in the app
                    names.add(name)
                    row.append((filename, stat[0], stat[1]))
                    files_in_order.append((spec.label, package.__name__, name, file_path, stat, name not in shadowed))
                directories.append((directory, tuple(row)))
            listing.append((spec.label, package.__name__, tuple(directories)))
    except Exception:
        return False
    key = snapshot_key(loader.apps)
    frozen = tuple(listing)
    misses: dict[Any, Any] = {}
    stored = read_snapshot(path, key, frozen, loader.ignore_no_migrations, misses)
    if stored is None:
        loader._snapshot_listing = (key, frozen, files_in_order)
        loader._snapshot_headers = misses
        return False
    headers, parents = stored
    try:
        if len(headers) != len(files_in_order) or len(parents) != len(files_in_order):
            return False
        disk: dict[Key, Any] = {}
        graph = MigrationGraph()
        node_map, nodes = graph.node_map, graph.nodes
        for (label, package_name, name, file_path, stat, direct), header in zip(files_in_order, headers):
            migration_key = (label, name)
            disk[migration_key] = proxy = MigrationProxy(name, label, tuple.__new__(Header, header),
                                                         f"{package_name}.{name}", file_path, stat, direct=direct)
            node_map[migration_key] = Node(migration_key)
            nodes[migration_key] = proxy
        for migration_key, node_parents in zip(disk, parents):
            node = node_map[migration_key]
            for parent in node_parents:
                node.parents.add(parent)
                node_map[parent].children.add(migration_key)
    except (KeyError, TypeError, ValueError):
        return False
    loader.disk_migrations = disk
    loader.migrated_apps = migrated
    loader.unmigrated_apps = unmigrated
    loader.imported = set()
    loader.from_cache = set(disk)
    loader.graph = graph
    loader.replacements = {}
    loader._ends = None
    loader._scans.clear()
    return True


def save_snapshot(loader: Any, path: str) -> None:
    """After an ordinary load that built and checked the graph: store it, if it
    came from the very files :func:`restore_snapshot` listed and qualifies."""
    from shoal.migrations.graph import Node

    pending, loader._snapshot_listing = loader._snapshot_listing, None
    if pending is None or loader.replacements:
        return
    key, listing, files_in_order = pending
    disk = loader.disk_migrations
    node_map = loader.graph.node_map
    if len(disk) != len(files_in_order) or len(node_map) != len(disk):
        return
    headers = []
    parents = []
    for label, _package, name, file_path, stat, _direct in files_in_order:
        proxy = disk.get((label, name))
        node = node_map.get((label, name))
        if proxy is None or type(node) is not Node or proxy.path != file_path or tuple(proxy._stat) != tuple(stat):
            return
        header = proxy._header
        if any(type(k) is not tuple for keys in header[:3] for k in keys):
            return  # a swappable dependency: its target follows the settings
        headers.append((tuple(header.dependencies), tuple(header.replaces), tuple(header.run_before),
                        header.initial, header.atomic))
        parents.append(tuple(sorted(node.parents)))
    # Stored as strict unless the flag changed this load, so that makemigrations
    # (which loads with it) and migrate/showmigrations (without) share one snapshot.
    write_snapshot(path, key, loader.needed_ignore, listing, tuple(headers), tuple(parents))
