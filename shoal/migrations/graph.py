"""The migration graph: which migration depends on which, and in what order
they run.  Pure: no I/O, no database.

Nodes are keyed by ``(app_label, migration_name)``; ``nodes[key]`` is the
migration object (the loader puts a lazy header there, see ``loader.py``),
``node_map[key]`` the :class:`Node` with its ``parents`` (what it depends on)
and ``children`` (what depends on it) as sets of keys.

Every walk is iterative, so histories of thousands of migrations never hit
Python's recursion limit, and linear in the nodes it reaches.  Orders are
deterministic: a plan is a depth-first walk that visits a node's parents in
sorted key order and lists each node after everything it depends on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from shoal.exceptions import CircularDependencyError, MigrationError, NodeNotFoundError

Key = tuple[str, str]


def _label(thing: Any) -> str:
    """``app.name`` for a key or a migration (for messages)."""
    if isinstance(thing, tuple) and len(thing) == 2:
        return f"{thing[0]}.{thing[1]}"
    return str(thing)


class Node:
    """One migration in the graph with its edges (sets of keys)."""

    __slots__ = ("children", "key", "parents")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.parents: set[Key] = set()
        self.children: set[Key] = set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {_label(self.key)}>"


class DummyNode(Node):
    """Stands in for a migration that something depends on but that does not
    exist, so the whole graph can be built before the error is reported."""

    __slots__ = ("error_message", "origin")

    def __init__(self, key: Key, origin: Any, error_message: str) -> None:
        super().__init__(key)
        self.origin = origin
        self.error_message = error_message

    def raise_error(self) -> None:
        """Raise the NodeNotFoundError this placeholder stands for."""
        raise NodeNotFoundError(self.error_message, self.key, origin=self.origin)


class MigrationGraph:
    """The dependency graph of every migration of a project.

    Build it with :meth:`add_node` and :meth:`add_dependency`, then ask it for
    plans (:meth:`forwards_plan`, :meth:`backwards_plan`), leaves and roots,
    or the project state at some point (:meth:`make_state`).
    """

    def __init__(self) -> None:
        self.node_map: dict[Key, Node] = {}
        self.nodes: dict[Key, Any] = {}
        # Sorted adjacency, built on first use and dropped on every change.
        self._adjacency: dict[bool, dict[Key, tuple[Key, ...]]] = {}

    # -- building ---------------------------------------------------------------

    def add_node(self, key: Key, migration: Any) -> None:
        """Add a migration; a placeholder already standing for ``key`` is
        replaced, keeping its edges."""
        existing = self.node_map.get(key)
        if existing is not None and not isinstance(existing, DummyNode):
            raise MigrationError(f"Migration {_label(key)} was added to the graph twice.")
        node = Node(key)
        if existing is not None:
            node.parents, node.children = existing.parents, existing.children
        self.node_map[key] = node
        self.nodes[key] = migration
        self._adjacency.clear()

    def add_dummy_node(self, key: Key, origin: Any, error_message: str) -> None:
        """Add a placeholder for a missing migration ``origin`` depends on."""
        self.node_map[key] = DummyNode(key, origin, error_message)
        self._adjacency.clear()

    def add_dependency(
        self, migration: Any, child: Key, parent: Key, skip_validation: bool = False
    ) -> None:
        """Record that ``child`` depends on ``parent``; ``migration`` is the one
        whose file declared it, named if either end does not exist."""
        if child not in self.node_map:
            self.add_dummy_node(
                child,
                migration,
                f"Migration {_label(migration)} dependencies reference nonexistent child "
                f"node {child!r}. Check the name in its run_before, or restore the "
                "missing migration file.",
            )
        if parent not in self.node_map:
            self.add_dummy_node(
                parent,
                migration,
                f"Migration {_label(migration)} dependencies reference nonexistent parent "
                f"node {parent!r}. Check the name in its dependencies, or restore the "
                "missing migration file.",
            )
        self.node_map[child].parents.add(parent)
        self.node_map[parent].children.add(child)
        self._adjacency.clear()
        if not skip_validation:
            self.validate_consistency()

    def validate_consistency(self) -> None:
        """Raise NodeNotFoundError for the first (sorted) missing migration."""
        dummies = [key for key, node in self.node_map.items() if isinstance(node, DummyNode)]
        if dummies:
            node = self.node_map[min(dummies)]
            assert isinstance(node, DummyNode)
            node.raise_error()

    # -- squashing ----------------------------------------------------------------

    def remove_replaced_nodes(self, replacement: Key, replaced: Iterable[Key]) -> None:
        """Use a squashed migration instead of the ones it replaces: drop them
        and move their outside edges onto ``replacement``."""
        rep = self._node_or_error(replacement, "replacement")
        gone = set(replaced)
        old_nodes = []
        for key in gone:
            self.nodes.pop(key, None)
            node = self.node_map.pop(key, None)
            if node is not None:
                old_nodes.append(node)
        for node in old_nodes:
            for child in node.children:
                if child in gone:
                    continue
                child_node = self.node_map[child]
                child_node.parents.discard(node.key)
                if child != replacement:
                    child_node.parents.add(replacement)
                    rep.children.add(child)
            for parent in node.parents:
                if parent in gone:
                    continue
                parent_node = self.node_map[parent]
                parent_node.children.discard(node.key)
                if parent != replacement:
                    parent_node.children.add(replacement)
                    rep.parents.add(parent)
        rep.parents -= gone
        rep.children -= gone
        self._adjacency.clear()

    def remove_replacement_node(self, replacement: Key, replaced: Iterable[Key]) -> None:
        """Keep the replaced migrations and drop the squashed one: whatever
        depended on it now depends on the last of the migrations it replaced."""
        rep = self._node_or_error(replacement, "replacement")
        self.nodes.pop(replacement, None)
        del self.node_map[replacement]
        present = [key for key in replaced if key in self.node_map]
        inner_parents: set[Key] = set()
        for key in present:
            inner_parents |= self.node_map[key].parents
        # Only the latest replaced nodes: those no other replaced node depends on.
        latest = [key for key in present if key not in inner_parents]
        for child in rep.children:
            child_node = self.node_map[child]
            child_node.parents.discard(replacement)
            for key in latest:
                child_node.parents.add(key)
                self.node_map[key].children.add(child)
        for parent in rep.parents:
            self.node_map[parent].children.discard(replacement)
        self._adjacency.clear()

    def _node_or_error(self, key: Key, role: str) -> Node:
        node = self.node_map.get(key)
        if node is None:
            raise NodeNotFoundError(
                f"Unable to find {role} node {key!r}: it was never added to the migration "
                "graph, or has been removed.",
                key,
            )
        return node

    # -- plans ------------------------------------------------------------------

    def forwards_plan(self, target: Key) -> list[Key]:
        """``target`` and everything it depends on, each after its dependencies."""
        self._require(target)
        return self._post_order((target,), up=True, seen=set())

    def forwards_plan_many(self, targets: Iterable[Key]) -> list[Key]:
        """The forwards plans of ``targets`` one after the other, each node once.

        Equal to concatenating :meth:`forwards_plan` of each target and dropping
        repeats, but linear in the size of the graph however many targets.
        """
        targets = list(targets)
        for target in targets:
            self._require(target)
        return self._post_order(targets, up=True, seen=set())

    def app_plans(self, apps: Iterable[str]) -> dict[str, list[Key]]:
        """For each app, its own migrations in the order of
        ``forwards_plan_many(leaf_nodes(app))`` (what ``showmigrations`` lists).

        Equal to filtering each of those plans to the app's keys, but each walk
        only enters nodes that have a migration of that app among their
        ancestors (a subtree without one cannot change the order of the app's
        nodes), so listing every app is not quadratic in the number of apps.
        """
        adjacency = self._sorted_adjacency(up=True)
        wanted = list(dict.fromkeys(apps))
        bits = {app: 1 << index for index, app in enumerate(wanted)}
        # mask[key]: the wanted apps among key and its ancestors.
        mask: dict[Key, int] = {}
        for key in self._post_order(sorted(self.node_map), up=True, seen=set()):
            value = bits.get(key[0], 0)
            for parent in adjacency[key]:
                value |= mask[parent]
            mask[key] = value
        leaves: dict[str, list[Key]] = {}
        for key in self.nodes:
            if key[0] in bits and not any(child[0] == key[0] for child in self.node_map[key].children):
                leaves.setdefault(key[0], []).append(key)
        out: dict[str, list[Key]] = {}
        for app in wanted:
            bit = bits[app]
            order: list[Key] = []
            append = order.append
            seen: set[Key] = set()
            for start in sorted(leaves.get(app, ())):
                if start in seen:
                    continue
                seen.add(start)
                stack: list[tuple[Key, Iterator[Key]]] = [(start, iter(adjacency[start]))]
                while stack:
                    node, pending = stack[-1]
                    for neighbour in pending:
                        if neighbour not in seen and mask[neighbour] & bit:
                            seen.add(neighbour)
                            stack.append((neighbour, iter(adjacency[neighbour])))
                            break
                    else:
                        stack.pop()
                        if node[0] == app:
                            append(node)
            out[app] = order
        return out

    def backwards_plan(self, target: Key) -> list[Key]:
        """``target`` and everything depending on it, most dependent first."""
        self._require(target)
        return self._post_order((target,), up=False, seen=set())

    def iterative_dfs(self, start: Key, forwards: bool = True) -> list[Key]:
        """Post-order walk from ``start`` over parents (forwards) or children."""
        return self._post_order((start,), up=forwards, seen=set())

    def _require(self, target: Key) -> None:
        if target not in self.nodes:
            raise NodeNotFoundError(
                f"Migration {_label(target)} is not in the migration graph. Check the app "
                f"label and migration name (`shoal showmigrations {target[0]}` lists them).",
                target,
            )

    def _sorted_adjacency(self, up: bool) -> dict[Key, tuple[Key, ...]]:
        adjacency = self._adjacency.get(up)
        if adjacency is None:
            if up:
                adjacency = {k: _sorted(n.parents) for k, n in self.node_map.items()}
            else:
                adjacency = {k: _sorted(n.children) for k, n in self.node_map.items()}
            self._adjacency[up] = adjacency
        return adjacency

    def _post_order(self, starts: Iterable[Key], up: bool, seen: set[Key]) -> list[Key]:
        """Depth-first post-order from each start (neighbours in sorted order),
        skipping nodes in ``seen``, which it extends."""
        adjacency = self._sorted_adjacency(up)
        order: list[Key] = []
        append = order.append
        for start in starts:
            if start in seen:
                continue
            seen.add(start)
            stack: list[tuple[Key, Iterator[Key]]] = [(start, iter(adjacency[start]))]
            while stack:
                node, pending = stack[-1]
                for neighbour in pending:
                    if neighbour not in seen:
                        seen.add(neighbour)
                        stack.append((neighbour, iter(adjacency[neighbour])))
                        break
                else:
                    stack.pop()
                    append(node)
        return order

    # -- shape ------------------------------------------------------------------

    def root_nodes(self, app: str | None = None) -> list[Key]:
        """Migrations with no dependency inside their own app (sorted)."""
        roots = []
        for key in self.nodes:
            if app is not None and key[0] != app:
                continue
            if not any(parent[0] == key[0] for parent in self.node_map[key].parents):
                roots.append(key)
        return sorted(roots)

    def leaf_nodes(self, app: str | None = None) -> list[Key]:
        """Migrations nothing in their own app depends on (sorted); an app with
        two leaves has a conflict to merge."""
        leaves = []
        for key in self.nodes:
            if app is not None and key[0] != app:
                continue
            if not any(child[0] == key[0] for child in self.node_map[key].children):
                leaves.append(key)
        return sorted(leaves)

    def ensure_not_cyclic(self) -> None:
        """Raise CircularDependencyError naming the migrations of a cycle, as
        ``a.1 -> b.2 -> a.1`` where each depends on the next."""
        adjacency = self._sorted_adjacency(up=True)
        done: set[Key] = set()
        for start in sorted(self.node_map):
            if start in done:
                continue
            path = [start]
            on_path = {start}
            stack = [iter(adjacency[start])]
            while stack:
                for parent in stack[-1]:
                    if parent in on_path:
                        self._raise_cycle(path[path.index(parent):])
                    if parent not in done:
                        path.append(parent)
                        on_path.add(parent)
                        stack.append(iter(adjacency[parent]))
                        break
                else:
                    stack.pop()
                    finished = path.pop()
                    on_path.discard(finished)
                    done.add(finished)

    @staticmethod
    def _raise_cycle(cycle: list[Key]) -> None:
        first = cycle.index(min(cycle))
        cycle = cycle[first:] + cycle[:first]
        text = " -> ".join(_label(key) for key in [*cycle, cycle[0]])
        error = CircularDependencyError(
            f"Circular dependency between migrations: {text} (each depends on the next). "
            "Move one of these dependencies (and the operation that needs it) into a new "
            "migration to break the cycle."
        )
        error.cycle = cycle  # type: ignore[attr-defined]
        raise error

    # -- state ------------------------------------------------------------------

    def make_state(
        self,
        nodes: Key | Iterable[Key] | None = None,
        at_end: bool = True,
        real_apps: Iterable[str] | None = None,
    ) -> Any:
        """The ProjectState after ``nodes`` (default: every leaf) and all they
        depend on; with ``at_end=False``, just before ``nodes`` themselves."""
        from shoal.migrations.state import ProjectState

        if nodes is None:
            targets = self.leaf_nodes()
        elif isinstance(nodes, tuple) and len(nodes) == 2 and isinstance(nodes[0], str):
            targets = [nodes]  # a single key
        else:
            targets = list(nodes)  # type: ignore[arg-type]
        plan = self.forwards_plan_many(targets)
        if not at_end:
            excluded = set(targets)
            plan = [key for key in plan if key not in excluded]
        state = ProjectState(real_apps=set(real_apps) if real_apps is not None else None)
        for key in plan:
            state = self.nodes[key].mutate_state(state, preserve=False)
        return state

    # -- container protocol -------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        edges = sum(len(node.parents) for node in self.node_map.values())
        return f"<MigrationGraph: {len(self.nodes)} nodes, {edges} edges>"


def _sorted(keys: set[Key]) -> tuple[Key, ...]:
    if len(keys) < 2:
        return tuple(keys)
    return tuple(sorted(keys))
