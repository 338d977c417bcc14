"""Planned operations -> per-app migrations with dependencies and names.  [pure]

Each round gives every app one migration holding every operation whose needs
are met (by earlier migrations, or earlier operations in the same chunk).  An
operation that waits for another app's operation starts a later migration,
which is how circular foreign keys between apps end up split.
"""

from __future__ import annotations

import datetime
from typing import Any

from shoal.exceptions import MigrationError
from shoal.migrations.autodetector.base import Planned
from shoal.migrations.migration import Migration, swappable_dependency
from shoal.migrations.naming import migration_number, numbered, suggest_name
from shoal.migrations.optimizer import optimize


def _chunk(planned: list[Planned]) -> tuple[dict[str, list[list[Planned]]], dict[tuple[str, int], set[Any]]]:
    pending: dict[str, list[Planned]] = {}
    for item in planned:
        pending.setdefault(item.app_label, []).append(item)
    placed: dict[int, tuple[str, int]] = {}
    chunks: dict[str, list[list[Planned]]] = {}
    deps: dict[tuple[str, int], set[Any]] = {}
    while any(pending.values()):
        progress = False
        for app in sorted(pending):
            index = len(chunks.get(app, []))
            chunk: list[Planned] = []
            chunk_deps: set[Any] = set()
            moved = True
            while moved:
                moved = False
                for item in list(pending[app]):
                    met, found = _needs_met(item, app, placed, {id(p) for p in chunk})
                    if met:
                        chunk.append(item)
                        chunk_deps |= found
                        pending[app].remove(item)
                        placed[id(item)] = (app, index)
                        moved = True
            if chunk:
                chunks.setdefault(app, []).append(chunk)
                deps[app, index] = chunk_deps
                progress = True
        pending = {a: items for a, items in pending.items() if items}
        if not progress:
            stuck = "; ".join(f"{a}: {', '.join(p.operation.describe() for p in items)}" for a, items in pending.items())
            raise MigrationError(f"Cannot order these changes into migrations (circular dependency): {stuck}")
    return chunks, deps


def _needs_met(item: Planned, app: str, placed: dict[int, tuple[str, int]], in_chunk: set[int]) -> tuple[bool, set[Any]]:
    found: set[Any] = set()
    for need in item.needs:
        if isinstance(need, Planned):
            if id(need) in in_chunk:
                continue
            where = placed.get(id(need))
            if where is None:
                return False, set()
            if where[0] != app:
                found.add(("placed", where))
        elif need[0] == "app":
            if need[1] != app:
                found.add(need)
        else:
            found.add(need)
    return True, found


def build_migrations(planned: list[Planned], graph: Any, trim_to_apps: set[str] | None = None,
                     migration_name: str | None = None, now: datetime.datetime | None = None) -> dict[str, list[Migration]]:
    """Chunk, number, name and wire the planned operations into migrations."""
    chunks, deps = _chunk(planned)
    names: dict[tuple[str, int], str] = {}
    result: dict[str, list[Migration]] = {}
    for app in sorted(chunks):
        leaves = graph.leaf_nodes(app) if graph is not None else []
        leaf = leaves[0] if leaves else None
        number = (migration_number(leaf[1]) or 0) + 1 if leaf else 1
        initial = leaf is None
        migrations: list[Migration] = []
        for index, chunk in enumerate(chunks[app]):
            # Each new migration is optimized (and then named after what is left).
            ops = optimize([p.operation for p in chunk], app)
            if migration_name:
                name = numbered(number + index, migration_name)
            elif initial and number + index == 1:
                name = "0001_initial"
            else:
                name = numbered(number + index, suggest_name(ops, initial=initial, now=now))
            names[app, index] = name
            migration = Migration(name, app)
            migration.operations = ops
            migration.initial = initial or None
            migrations.append(migration)
        result[app] = migrations
    for app, migrations in result.items():
        leaves = graph.leaf_nodes(app) if graph is not None else []
        for index, migration in enumerate(migrations):
            own: list[Any] = []
            if index:
                own.append((app, names[app, index - 1]))
            elif leaves:
                own.append(leaves[0])
            other: set[Any] = set()
            for need in deps[app, index]:
                if need[0] == "placed":
                    other_app, other_index = need[1]
                    other.add((other_app, names[other_app, other_index]))
                elif need[0] == "app":
                    target_leaves = graph.leaf_nodes(need[1]) if graph is not None else []
                    other.add(target_leaves[0] if target_leaves else (need[1], "__first__"))
            swappable = sorted({need[1] for need in deps[app, index] if need[0] == "swappable"})
            deps_list: list[Any] = own + sorted(other)
            deps_list += [swappable_dependency(value) for value in swappable]
            migration.dependencies = deps_list
    if trim_to_apps:
        result = _trim(result, trim_to_apps)
    return result


def _trim(result: dict[str, list[Migration]], apps: set[str]) -> dict[str, list[Migration]]:
    """Keep the requested apps' migrations and the new ones they depend on."""
    keep = set(apps)
    changed = True
    while changed:
        changed = False
        for app in list(keep):
            for migration in result.get(app, []):
                for dep in migration.dependencies:
                    if dep[0] in result and dep[0] not in keep and any(m.name == dep[1] for m in result[dep[0]]):
                        keep.add(dep[0])
                        changed = True
    return {app: migs for app, migs in result.items() if app in keep}
