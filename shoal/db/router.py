"""Database routers: which database gets which models' schema and rows.

A router is any object (or class, instantiated once) with some of
``db_for_read(model, **hints)``, ``db_for_write(model, **hints)`` and
``allow_migrate(db, app_label, model_name=None, **hints)``.  The first router
with an opinion (a non-None answer) decides.
"""

from __future__ import annotations

import importlib
from typing import Any

from shoal.exceptions import ConfigError


def _load(router: Any) -> Any:
    if isinstance(router, str):
        module, _, name = router.rpartition(".")
        try:
            router = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(f"Cannot import router '{router}': {exc}") from exc
    return router() if isinstance(router, type) else router


class ConnectionRouter:
    """Asks each configured router in turn."""

    def __init__(self, routers: list[Any] | None = None) -> None:
        self.routers = [_load(r) for r in (routers or [])]

    def _ask(self, method: str, *args: Any, **kwargs: Any) -> Any:
        for router in self.routers:
            func = getattr(router, method, None)
            if func is None:
                continue
            answer = func(*args, **kwargs)
            if answer is not None:
                return answer
        return None

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self._ask("db_for_read", model, **hints) or "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self._ask("db_for_write", model, **hints) or "default"

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        answer = self._ask("allow_migrate", db, app_label, **hints)
        return True if answer is None else bool(answer)
