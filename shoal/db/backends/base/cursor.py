"""The cursor every backend hands out: ``%s`` SQL in, shoal errors out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .connection import BaseDatabaseWrapper

__all__ = ["CursorWrapper", "Params"]

Params = Sequence[Any] | None


class CursorWrapper:
    """A driver cursor that takes ``%s`` SQL and raises only shoal errors.

    ``params=None`` sends the SQL untouched (a ``%`` is just a percent);
    any other value, even ``()``, means ``%s`` placeholders and ``%%`` escapes.
    """

    def __init__(self, db: BaseDatabaseWrapper, cursor: Any) -> None:
        self.db = db
        self.cursor = cursor

    def execute(self, sql: str, params: Params = None) -> CursorWrapper:
        """Run one statement; returns self so ``cursor.execute(...).fetchall()`` reads well."""
        db = self.db
        db._record(sql, params)
        driver_sql, driver_params = db._prepare_sql(sql, params)
        try:
            if driver_params is None:
                self.cursor.execute(driver_sql)
            else:
                self.cursor.execute(driver_sql, driver_params)
        except db._driver_error_classes() as exc:
            raise db._wrap_error(exc, sql, params) from exc
        return self

    def executemany(self, sql: str, param_list: Sequence[Sequence[Any]]) -> CursorWrapper:
        """Run one statement once per parameter row."""
        db = self.db
        rows = list(param_list)
        db._record(sql, rows[0] if rows else ())
        driver_sql, _ = db._prepare_sql(sql, ())
        adapted = [db._adapt_params(p) for p in rows]
        try:
            self.cursor.executemany(driver_sql, adapted)
        except db._driver_error_classes() as exc:
            raise db._wrap_error(exc, sql, rows[0] if rows else None) from exc
        return self

    def _fetch(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.cursor, method)(*args)
        except self.db._driver_error_classes() as exc:
            raise self.db._wrap_error(exc, None, None) from exc

    def fetchone(self) -> tuple[Any, ...] | None:
        """Next row as a tuple, or None when exhausted."""
        row = self._fetch("fetchone")
        return tuple(row) if row is not None else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` rows (the driver's arraysize by default)."""
        rows = self._fetch("fetchmany", size) if size is not None else self._fetch("fetchmany")
        return [tuple(r) for r in rows]

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows as a list of tuples."""
        return [tuple(r) for r in self._fetch("fetchall")]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while True:
            rows = self.fetchmany(100)
            if not rows:
                return
            yield from rows

    @property
    def description(self) -> Any:
        """DB-API description of the last result (column name first in each item)."""
        return self.cursor.description

    @property
    def rowcount(self) -> int:
        """Rows matched by the last UPDATE/DELETE (MySQL counts matched, not changed)."""
        return int(self.cursor.rowcount)

    @property
    def lastrowid(self) -> Any:
        """Rowid/AUTO_INCREMENT of the last INSERT (SQLite, MySQL); None on PostgreSQL."""
        return getattr(self.cursor, "lastrowid", None)

    def close(self) -> None:
        """Close the driver cursor (errors on an already dead connection are ignored)."""
        try:
            self.cursor.close()
        except Exception:  # noqa: BLE001 - closing a cursor of a dead connection is harmless
            pass

    def __enter__(self) -> CursorWrapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
