"""A cache of the project state at the end of the migration history.

``makemigrations`` (and ``--check`` in CI) compares the models with the state
the migrations build; replaying a long history means importing and running
every migration file.  The resulting state is pickled under the project's
``__pycache__`` with a signature of every migration file's (mtime, size), the
set of leaves, the swappable settings and shoal's version, and reused while
that signature holds.  Best effort: any failure just means no cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from pathlib import Path
from typing import Any

from shoal import __version__
from shoal.migrations.graph_cache import RACY_NS

CACHE_FILE = "shoal_state.pickle"


def signature(loader: Any, swappable: dict[str, str]) -> str | None:
    """A digest of everything the final state depends on (None: don't cache)."""
    now = time.time_ns()
    parts: list[str] = [__version__, repr(sorted(swappable.items())), repr(loader.graph.leaf_nodes())]
    for key in sorted(loader.disk_migrations):
        proxy = loader.disk_migrations[key]
        stat = getattr(proxy, "_stat", None)
        if stat is None or now - stat[0] < RACY_NS:
            return None  # just written: its timestamp cannot be trusted yet
        parts.append(f"{key[0]}.{key[1]}:{stat[0]}:{stat[1]}")
    parts.append(repr(sorted(loader.unmigrated_apps)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(base_dir: Path, sig: str | None) -> Any:
    if sig is None or os.environ.get("SHOAL_STATE_CACHE", "1") == "0":
        return None
    try:
        with open(base_dir / "__pycache__" / CACHE_FILE, "rb") as fh:
            stored_sig, state = pickle.load(fh)
    except Exception:
        return None
    return state if stored_sig == sig else None


def store(base_dir: Path, sig: str | None, state: Any) -> None:
    if sig is None or os.environ.get("SHOAL_STATE_CACHE", "1") == "0":
        return
    directory = base_dir / "__pycache__"
    tmp = directory / f"{CACHE_FILE}.{os.getpid()}.tmp"
    try:
        directory.mkdir(exist_ok=True)
        with open(tmp, "wb") as fh:
            pickle.dump((sig, state), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / CACHE_FILE)
    except Exception:
        try:
            tmp.unlink()
        except OSError:
            pass
