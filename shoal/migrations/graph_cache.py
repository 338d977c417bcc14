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

import json
import os
from dataclasses import dataclass
from typing import Any

from shoal.migrations.migration import SwappableTuple, current_swappable_value

Key = tuple[str, str]

FORMAT = 1
CACHE_DIR = "__pycache__"
CACHE_FILE = "shoal_graph.json"
RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Header:
    """What the graph needs from a migration, without its operations."""

    dependencies: tuple[Key, ...]
    replaces: tuple[Key, ...]
    run_before: tuple[Key, ...]
    initial: bool | None
    atomic: bool


@dataclass(frozen=True, slots=True)
class Entry:
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
    return tuple([_decode_key(item) for item in raw])


def encode_header(header: Header) -> dict[str, Any]:
    """The JSON form of a header."""
    return {
        "dependencies": [_encode_key(k) for k in header.dependencies],
        "replaces": [_encode_key(k) for k in header.replaces],
        "run_before": [_encode_key(k) for k in header.run_before],
        "initial": header.initial,
        "atomic": header.atomic,
    }


def decode_header(raw: dict[str, Any]) -> Header:
    """A header from its JSON form (ValueError/KeyError/TypeError if malformed)."""
    initial = raw["initial"]
    if initial is not None and not isinstance(initial, bool):
        raise ValueError(initial)
    return Header(
        dependencies=_decode_keys(raw["dependencies"]),
        replaces=_decode_keys(raw["replaces"]),
        run_before=_decode_keys(raw["run_before"]),
        initial=initial,
        atomic=bool(raw["atomic"]),
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
    try:
        with open(cache_path(directory), "rb") as fh:
            data = json.load(fh)
        if data.get("format") != FORMAT:
            return {}
        entries = {}
        for filename, (mtime_ns, size, raw) in data["files"].items():
            entries[filename] = Entry(int(mtime_ns), int(size), decode_header(raw))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    _memory[directory] = entries
    return entries


def write(directory: str, entries: dict[str, Entry]) -> None:
    """Store the entries of a package directory, on disk when possible."""
    _memory[directory] = entries
    payload = {
        "format": FORMAT,
        "files": {
            name: [entry.mtime_ns, entry.size, encode_header(entry.header)]
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
