"""A cache of the project state at the end of the migration history.

``makemigrations`` (and ``--check`` in CI) compares the models with the state
the migrations build; replaying a long history means importing and running
every migration file.  The resulting state is pickled under the project's
``__pycache__`` with a signature of every migration file's (mtime, size), the
set of leaves, the swappable settings and shoal's version, and reused while
that signature holds.  Best effort: any failure just means no cache.

The file also holds a *summary* of each model (what the autodetector
compares, see :func:`shoal.migrations.state.model_summary`), pickled apart
from the state: when the current models have the same summaries, there is
nothing to detect and the state itself is never unpickled.

When the signature no longer holds because migrations were *added* (the
everyday case: someone wrote a new migration), :func:`resume` starts from the
cached state and replays only the new migrations, importing only their files.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any, Callable

from shoal.migrations.graph_cache import RACY_NS, code_stamp

CACHE_FILE = "shoal_state.pickle"
# Bumped whenever the layout of the file changes; part of what is checked on load.
FORMAT = 3

Summary = dict[tuple[str, str], tuple[Any, ...]]


def signature(loader: Any, swappable: dict[str, str]) -> tuple[Any, ...] | None:
    """Everything the final state depends on, as one comparable value: shoal's
    code, the swappable settings, the leaves, every migration file's (mtime,
    size) and the unmigrated apps (None: don't cache)."""
    too_recent = time.time_ns() - RACY_NS
    disk = loader.disk_migrations
    stats = []
    for key in sorted(disk):
        stat = getattr(disk[key], "_stat", None)
        if stat is None or stat[0] > too_recent:
            return None  # just written: its timestamp cannot be trusted yet
        stats.append((key, tuple(stat)))
    return (code_stamp(), tuple(sorted(swappable.items())), tuple(loader.graph.leaf_nodes()), tuple(stats),
            tuple(sorted(loader.unmigrated_apps)))


def summarize(state: Any) -> Summary:
    """The :func:`~shoal.migrations.state.model_summary` of every model of ``state``."""
    from shoal.migrations.state import model_summary

    return {key: model_summary(model) for key, model in state.models.items()}


def summarize_models(apps: Any, labels: set[str] | None = None) -> Summary:
    """The summary ``summarize(ProjectState.from_apps(apps, labels))`` would
    give, read off the model classes without building their states."""
    from shoal.migrations.state import class_summary

    out: Summary = {}
    for model in apps.get_models(include_auto_created=False):
        opts = model._meta
        if labels is not None and opts.app_label not in labels:
            continue
        out[opts.app_label, opts.object_name.lower()] = class_summary(model)
    return out


def unchanged(summary: Summary, current: Summary) -> bool:
    """Whether two summaries have the same models, each with an equal summary:
    the autodetector would find no change between the states they summarize."""
    if summary.keys() != current.keys():
        return False
    for key, value in current.items():
        if value != summary[key]:
            return False
    return True


class CachedState:
    """The end-of-history state as the cache holds it: the summary at once,
    the state itself unpickled on first use of :attr:`state`."""

    def __init__(self, summary: Summary, blob: bytes | None = None, state: Any = None,
                 rebuild: Callable[[], Any] | None = None) -> None:
        self.summary = summary
        self._blob = blob
        self._state = state
        self._rebuild = rebuild

    @property
    def state(self) -> Any:
        """The state (unpickled now; rebuilt by ``rebuild()`` if that fails)."""
        if self._state is None:
            try:
                self._state = pickle.loads(self._blob)  # type: ignore[arg-type]
            except Exception:
                if self._rebuild is None:
                    raise
                self._state = self._rebuild()
            self._blob = None
        return self._state


def _enabled(sig: Any) -> bool:
    return sig is not None and os.environ.get("SHOAL_STATE_CACHE", "1") != "0"


Stored = tuple[Any, Summary, bytes, frozenset[Any]]


def load_cached(base_dir: Path, sig: Any, rebuild: Callable[[], Any] | None = None) -> CachedState | None:
    """The cached state for ``sig`` (None when there is none, or another);
    ``rebuild()`` makes the state should the cached one fail to unpickle."""
    return cached_state(read(base_dir, sig), sig, rebuild)


def cached_state(stored: Stored | None, sig: Any, rebuild: Callable[[], Any] | None = None) -> CachedState | None:
    """The state in ``stored`` (what :func:`read` gave) when it was cached for ``sig``."""
    if stored is None or stored[0] != sig:
        return None
    return CachedState(stored[1], stored[2], rebuild=rebuild)


def read(base_dir: Path, sig: Any) -> Stored | None:
    """The cache file's (signature, summary, state blob, migrations in the state);
    None without one, or when ``sig`` says not to cache.  Read once per command:
    :func:`cached_state` and :func:`resume` both take its result."""
    if not _enabled(sig):
        return None
    try:
        with open(base_dir / "__pycache__" / CACHE_FILE, "rb") as fh:
            stored_format, stored_sig, summary, blob, nodes = pickle.load(fh)
    except Exception:
        return None
    if stored_format != FORMAT or not isinstance(summary, dict) or not isinstance(blob, bytes):
        return None
    return stored_sig, summary, blob, frozenset(nodes)


def resume(stored: Stored | None, sig: Any, graph: Any) -> Any:
    """The end state of ``graph``'s history, from a cached state of an earlier
    history that this one only extends; None when it does not.

    The cached state holds the migrations ``done``; it can be carried on when
    shoal's code, the swappable settings and the unmigrated apps are the same,
    every migration in ``done`` is still in the graph with the same file (mtime,
    size), and none depends on a migration outside ``done`` (so ``done`` then
    the rest in plan order is an order the graph allows).  Only the rest is
    replayed, importing only those files.
    """
    if stored is None or not isinstance(sig, tuple) or len(sig) != 5:
        return None
    stored_sig, _summary, blob, done = stored
    if not isinstance(stored_sig, tuple) or len(stored_sig) != 5 or not done:
        return None
    code, swappable, _leaves, stats, unmigrated = sig
    if stored_sig[0] != code or stored_sig[1] != swappable or stored_sig[4] != unmigrated:
        return None
    now, before = dict(stats), dict(stored_sig[3])
    for key in done:
        node = graph.node_map.get(key)
        if key not in graph.nodes or node is None or now.get(key) is None or now[key] != before.get(key):
            return None
        if not node.parents <= done:
            return None
    try:
        state = pickle.loads(blob)
    except Exception:
        return None
    for key in graph.forwards_plan_many(graph.leaf_nodes()):
        if key not in done:
            state = graph.nodes[key].mutate_state(state, preserve=False)
    return state


def load(base_dir: Path, sig: Any) -> Any:
    """The cached state itself for ``sig`` (None when not cached)."""
    cached = load_cached(base_dir, sig)
    if cached is None:
        return None
    try:
        return cached.state
    except Exception:
        return None


def store(base_dir: Path, sig: Any, state: Any, summary: Summary | None = None, nodes: Any = ()) -> None:
    """Cache ``state`` (and its summary) under ``sig``; ``nodes`` are the
    migrations the state is made of (what :func:`resume` may carry on from).
    Failures are ignored."""
    if not _enabled(sig):
        return
    directory = base_dir / "__pycache__"
    tmp = directory / f"{CACHE_FILE}.{os.getpid()}.tmp"
    try:
        if summary is None:
            summary = summarize(state)
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        directory.mkdir(exist_ok=True)
        with open(tmp, "wb") as fh:
            pickle.dump((FORMAT, sig, summary, blob, tuple(nodes)), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / CACHE_FILE)
    except Exception:
        try:
            tmp.unlink()
        except OSError:
            pass
