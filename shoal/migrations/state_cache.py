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
FORMAT = 2

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


def load_cached(base_dir: Path, sig: Any, rebuild: Callable[[], Any] | None = None) -> CachedState | None:
    """The cached state for ``sig`` (None when there is none, or another);
    ``rebuild()`` makes the state should the cached one fail to unpickle."""
    if not _enabled(sig):
        return None
    try:
        with open(base_dir / "__pycache__" / CACHE_FILE, "rb") as fh:
            stored_format, stored_sig, summary, blob = pickle.load(fh)
    except Exception:
        return None
    if stored_format != FORMAT or stored_sig != sig or not isinstance(summary, dict) or not isinstance(blob, bytes):
        return None
    return CachedState(summary, blob, rebuild=rebuild)


def load(base_dir: Path, sig: Any) -> Any:
    """The cached state itself for ``sig`` (None when not cached)."""
    cached = load_cached(base_dir, sig)
    if cached is None:
        return None
    try:
        return cached.state
    except Exception:
        return None


def store(base_dir: Path, sig: Any, state: Any, summary: Summary | None = None) -> None:
    """Cache ``state`` (and its summary) under ``sig``; failures are ignored."""
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
            pickle.dump((FORMAT, sig, summary, blob), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / CACHE_FILE)
    except Exception:
        try:
            tmp.unlink()
        except OSError:
            pass
