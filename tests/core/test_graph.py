"""MigrationGraph: plans, shape, cycles, missing nodes, squash rewiring, state."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from shoal.exceptions import CircularDependencyError, NodeNotFoundError
from shoal.migrations.graph import MigrationGraph
from shoal.migrations.migration import Migration


def build(edges: dict[tuple[str, str], list[tuple[str, str]]]) -> MigrationGraph:
    """A graph from {key: [parents]}, each node holding a Migration."""
    graph = MigrationGraph()
    for key in edges:
        graph.add_node(key, Migration(key[1], key[0]))
    for key, parents in edges.items():
        for parent in parents:
            graph.add_dependency(graph.nodes[key], key, parent, skip_validation=True)
    graph.validate_consistency()
    return graph


A1, A2, A3, A4 = ("a", "0001"), ("a", "0002"), ("a", "0003"), ("a", "0004")
B1, B2 = ("b", "0001"), ("b", "0002")


def test_linear_plans():
    """A chain plans forwards oldest first and backwards newest first."""
    graph = build({A1: [], A2: [A1], A3: [A2]})
    assert graph.forwards_plan(A3) == [A1, A2, A3]
    assert graph.forwards_plan(A2) == [A1, A2]
    assert graph.backwards_plan(A1) == [A3, A2, A1]
    assert graph.backwards_plan(A3) == [A3]


def test_diamond_plans_are_deterministic_and_ordered():
    """A diamond lists each node once, after its parents, ties in key order."""
    graph = build({A1: [], A2: [A1], A3: [A1], A4: [A3, A2]})
    assert graph.forwards_plan(A4) == [A1, A2, A3, A4]
    back = graph.backwards_plan(A1)
    assert back == [A4, A2, A3, A1]


def test_cross_app_plan_puts_dependencies_first():
    """A migration depending on another app runs after that app's chain."""
    graph = build({A1: [], A2: [A1, B2], B1: [], B2: [B1]})
    assert graph.forwards_plan(A2) == [A1, B1, B2, A2]
    assert graph.backwards_plan(B1) == [A2, B2, B1]


def test_forwards_plan_many_equals_concatenated_plans():
    """The combined plan equals each target's plan concatenated without repeats."""
    graph = build({A1: [], A2: [A1, B2], A3: [A2], B1: [], B2: [B1], ("c", "0001"): [A1]})
    targets = [("c", "0001"), A3, B2]
    expected: list = []
    for target in targets:
        expected += [k for k in graph.forwards_plan(target) if k not in expected]
    assert graph.forwards_plan_many(targets) == expected


def test_unknown_target_is_named():
    """Planning for a migration not in the graph names it."""
    graph = build({A1: []})
    with pytest.raises(NodeNotFoundError, match=r"a\.0009 is not in the migration graph"):
        graph.forwards_plan(("a", "0009"))


def test_leaf_and_root_nodes_per_app():
    """Leaves/roots ignore edges to other apps and are sorted."""
    graph = build({A1: [], A2: [A1], A3: [A1], B1: [A2], B2: [B1]})
    assert graph.leaf_nodes() == [A2, A3, B2]
    assert graph.leaf_nodes("a") == [A2, A3]
    assert graph.root_nodes() == [A1, B1]
    assert graph.root_nodes("b") == [B1]


def test_cycle_message_lists_the_cycle():
    """A cycle is reported as 'x -> y -> x', each depending on the next."""
    books2, authors1 = ("books", "0002"), ("authors", "0001")
    graph = build({("books", "0001"): [], books2: [("books", "0001"), authors1], authors1: [books2]})
    with pytest.raises(CircularDependencyError) as info:
        graph.ensure_not_cyclic()
    assert "authors.0001 -> books.0002 -> authors.0001" in str(info.value)
    assert info.value.cycle == [authors1, books2]


def test_self_dependency_is_a_cycle():
    """A migration depending on itself is a one-node cycle."""
    graph = build({A1: [A1]})
    with pytest.raises(CircularDependencyError, match=r"a\.0001 -> a\.0001"):
        graph.ensure_not_cyclic()


def test_missing_parent_message():
    """A dependency on a nonexistent migration names both migrations."""
    graph = MigrationGraph()
    migration = Migration("0002_x", "books")
    graph.add_node(migration.key, migration)
    graph.add_dependency(migration, migration.key, ("authors", "0009_missing"), skip_validation=True)
    with pytest.raises(NodeNotFoundError) as info:
        graph.validate_consistency()
    assert str(info.value).startswith(
        "Migration books.0002_x dependencies reference nonexistent parent node "
        "('authors', '0009_missing')"
    )
    assert info.value.node == ("authors", "0009_missing")
    assert info.value.origin is migration


def test_add_dependency_validates_unless_told_not_to():
    """add_dependency raises at once for a missing child when validating."""
    graph = build({A1: []})
    with pytest.raises(NodeNotFoundError, match="nonexistent child node"):
        graph.add_dependency(graph.nodes[A1], ("b", "0007"), A1)


def test_long_chain_has_no_recursion_limit():
    """3,000-node chains plan, check for cycles and build state without recursion."""
    graph = MigrationGraph()
    keys = [("a", f"{i:04d}") for i in range(3000)]
    for key in keys:
        graph.add_node(key, Migration(key[1], key[0]))
    for prev, key in zip(keys, keys[1:]):
        graph.add_dependency(None, key, prev, skip_validation=True)
    started = time.perf_counter()
    graph.ensure_not_cyclic()
    assert graph.forwards_plan(keys[-1]) == keys
    assert graph.backwards_plan(keys[0]) == keys[::-1]
    assert graph.iterative_dfs(keys[-1]) == keys
    assert len(graph.make_state().models) == 0
    assert time.perf_counter() - started < 2.0


def test_plans_of_every_leaf_scale_linearly():
    """Plans for every node of a 2,000-node graph stay fast (no quadratic blow-up per plan)."""
    graph = MigrationGraph()
    for app in range(20):
        for i in range(100):
            key = (f"app{app:02d}", f"{i:04d}")
            graph.add_node(key, None)
            if i:
                graph.add_dependency(None, key, (key[0], f"{i - 1:04d}"), skip_validation=True)
            if app and i % 10 == 5:
                graph.add_dependency(None, key, (f"app{app - 1:02d}", f"{i:04d}"), skip_validation=True)
    started = time.perf_counter()
    combined = graph.forwards_plan_many(graph.leaf_nodes())
    for leaf in graph.leaf_nodes():
        graph.forwards_plan(leaf)
    graph.ensure_not_cyclic()
    assert len(combined) == 2000
    assert time.perf_counter() - started < 1.0


def test_remove_replaced_nodes_rewires_to_the_replacement():
    """Using a squash moves outside edges of the replaced nodes onto it."""
    squash = ("a", "0001_squashed_0002")
    graph = build({A1: [], A2: [A1], squash: [], A3: [A2], B1: [A1]})
    graph.remove_replaced_nodes(squash, [A1, A2])
    assert A1 not in graph and A2 not in graph
    assert graph.node_map[A3].parents == {squash}
    assert graph.node_map[B1].parents == {squash}
    assert graph.node_map[squash].children == {A3, B1}
    assert graph.forwards_plan(A3) == [squash, A3]


def test_remove_replacement_node_rewires_to_last_replaced():
    """Dropping a squash points its dependents at the last migration it replaced."""
    squash = ("a", "0001_squashed_0002")
    graph = build({A1: [], A2: [A1], squash: [], A3: [squash], B1: [squash]})
    graph.remove_replacement_node(squash, [A1, A2])
    assert squash not in graph and squash not in graph.node_map
    assert graph.node_map[A3].parents == {A2}
    assert graph.node_map[B1].parents == {A2}
    assert graph.forwards_plan(B1) == [A1, A2, B1]


class _Record:
    """An operation that writes its name into the state's models."""

    def __init__(self, name: str) -> None:
        self.name = name

    def state_forwards(self, app_label: str, state) -> None:
        state.models[(app_label, self.name)] = len(state.models)


def test_make_state_applies_migrations_in_plan_order():
    """make_state runs mutate_state along the plan; at_end=False stops before the target."""
    graph = MigrationGraph()
    for key, op in [(A1, "first"), (A2, "second"), (B1, "other")]:
        migration = type("M", (Migration,), {"operations": [_Record(op)]})(key[1], key[0])
        graph.add_node(key, migration)
    graph.add_dependency(None, A2, A1)
    graph.add_dependency(None, A2, B1)
    state = graph.make_state(A2)
    assert state.models == {("a", "first"): 0, ("b", "other"): 1, ("a", "second"): 2}
    before = graph.make_state(A2, at_end=False, real_apps={"legacy"})
    assert set(before.models) == {("a", "first"), ("b", "other")}
    assert before.real_apps == {"legacy"}


def test_graph_and_loader_import_no_driver():
    """The graph and loader modules load no database driver."""
    code = (
        "import sys, shoal.migrations.graph, shoal.migrations.loader, shoal.migrations.graph_cache; "
        "print(sorted(m for m in ('psycopg', 'pymysql', 'MySQLdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
