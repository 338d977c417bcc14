"""Merge migrations for apps with more than one leaf (two developers' 0002s).  [pure]"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shoal.migrations.migration import Migration
from shoal.migrations.naming import MAX_NAME_LENGTH, migration_number, numbered

Key = tuple[str, str]


@dataclass
class MergePlan:
    """One app's conflict: its leaves, what each branch does since the split, the merge."""

    app_label: str
    branches: dict[str, list[Any]]  # leaf name -> migrations (proxies) after the common ancestor
    migration: Migration


def plan_merges(loader: Any, conflicts: dict[str, list[str]], name: str | None = None) -> list[MergePlan]:
    """A merge migration per conflicting app, depending on all of its leaves."""
    graph = loader.graph
    plans = []
    for app, leaves in sorted(conflicts.items()):
        leaf_keys = [(app, leaf) for leaf in sorted(leaves)]
        ancestry = {key: [k for k in graph.forwards_plan(key) if k[0] == app] for key in leaf_keys}
        common = set.intersection(*(set(v) for v in ancestry.values()))
        branches = {
            key[1]: [graph.nodes[k] for k in ancestry[key] if k not in common] for key in leaf_keys
        }
        number = max(migration_number(leaf) or 0 for leaf in leaves) + 1
        if name:
            suffix = name
        else:
            suffix = "merge_" + "_".join(sorted(leaves))
            if len(suffix) > MAX_NAME_LENGTH:
                import datetime

                suffix = "merge_" + datetime.datetime.now().strftime("%Y%m%d_%H%M")
        migration = Migration(numbered(number, suffix), app)
        migration.dependencies = leaf_keys
        plans.append(MergePlan(app, branches, migration))
    return plans
