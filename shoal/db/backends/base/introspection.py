"""Reading the real schema back: tables, columns, constraints, indexes.

Used by tests (to assert what DDL really did), by ``migrate --fake-initial``
(to see whether an initial migration's tables and columns already exist) and
by schema editors that must rebuild a table.  Every backend returns the same
plain values, :class:`ColumnInfo` and :class:`ConstraintInfo` (mutable records
on :class:`~types.SimpleNamespace`, not dataclasses: every command imports this
module to read the recorder table, and :mod:`dataclasses` costs milliseconds).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .connection import BaseDatabaseWrapper

__all__ = ["BaseDatabaseIntrospection", "ColumnInfo", "ConstraintInfo", "normalize_type"]


class ColumnInfo(SimpleNamespace):
    """One column as the database reports it.

    ``type`` is lower-case with no spaces inside parentheses, in the spelling
    DDL uses (``varchar(100)``, ``numeric(10,2)``, ``timestamp with time
    zone``); ``default`` is the raw default expression text, None if none.
    """

    name: str
    type: str
    null: bool
    default: str | None
    primary_key: bool
    autoincrement: bool
    comment: str | None
    collation: str | None

    def __init__(self, name: str, type: str, null: bool, default: str | None = None, primary_key: bool = False,
                 autoincrement: bool = False, comment: str | None = None, collation: str | None = None) -> None:
        super().__init__(name=name, type=type, null=null, default=default, primary_key=primary_key,
                         autoincrement=autoincrement, comment=comment, collation=collation)

    @property
    def identity(self) -> bool:
        """Alias of ``autoincrement`` (identity / AUTO_INCREMENT / AUTOINCREMENT)."""
        return self.autoincrement


class ConstraintInfo(SimpleNamespace):
    """A primary key, unique constraint, foreign key, check or index.

    A unique index is ``unique=True, index=True``; a unique constraint that the
    database implements with an index (MySQL) is reported the same way.
    ``foreign_key`` is ``(referenced_table, referenced_column)``.  ``orders``
    lists "ASC"/"DESC" per column for indexes; ``condition`` is a partial
    index's WHERE text; ``definition`` a check's expression text.
    """

    columns: list[str]
    primary_key: bool
    unique: bool
    foreign_key: tuple[str, str] | None
    check: bool
    index: bool
    type: str | None
    orders: list[str]
    condition: str | None
    definition: str | None
    on_delete: str | None

    def __init__(self, columns: list[str], primary_key: bool = False, unique: bool = False,
                 foreign_key: tuple[str, str] | None = None, check: bool = False, index: bool = False,
                 type: str | None = None, orders: list[str] | None = None, condition: str | None = None,
                 definition: str | None = None, on_delete: str | None = None) -> None:
        super().__init__(columns=columns, primary_key=primary_key, unique=unique, foreign_key=foreign_key,
                         check=check, index=index, type=type, orders=orders if orders is not None else [],
                         condition=condition, definition=definition, on_delete=on_delete)


_PAREN_SPACES = re.compile(r"\(\s*([^)]*?)\s*\)")
_WS = re.compile(r"\s+")


def normalize_type(text: str) -> str:
    """Lower-case, collapse whitespace, and drop spaces inside parentheses."""
    text = _WS.sub(" ", text.strip().lower())
    return _PAREN_SPACES.sub(lambda m: "(" + re.sub(r"\s*,\s*", ",", m.group(1)) + ")", text)


_IDENT = re.compile(r'"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|\[([^\]]+)\]|\b([A-Za-z_][A-Za-z0-9_$]*)\b')
_STRING = re.compile(r"'(?:[^']|'')*'")


def columns_in_expression(expr: str, columns: list[str]) -> list[str]:
    """The table's columns an SQL expression mentions, in the table's column order."""
    found: set[str] = set()
    lowered = {c.lower(): c for c in columns}
    for m in _IDENT.finditer(_STRING.sub("''", expr)):
        quoted = m.group(1) or m.group(2) or m.group(3)
        if quoted is not None:
            name = quoted.replace('""', '"').replace("``", "`")
            if name in columns:
                found.add(name)
            elif name.lower() in lowered:
                found.add(lowered[name.lower()])
        elif m.group(4).lower() in lowered:
            found.add(lowered[m.group(4).lower()])
    return [c for c in columns if c in found]


class BaseDatabaseIntrospection:
    """Schema reading; backends implement the abstract methods."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection

    def table_names(self) -> list[str]:
        """Tables (not views) in the current database/schema, sorted."""
        raise NotImplementedError

    def view_names(self) -> list[str]:
        """Views in the current database/schema, sorted."""
        raise NotImplementedError

    def has_table(self, table: str) -> bool:
        """True if the table exists (views excluded)."""
        return table in self.table_names()

    def get_columns(self, table: str) -> list[ColumnInfo]:
        """The table's columns in definition order."""
        raise NotImplementedError

    def column_names(self, table: str) -> list[str]:
        """The table's column names in definition order."""
        return [c.name for c in self.get_columns(table)]

    def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Every constraint and index on the table, by name."""
        raise NotImplementedError

    def get_primary_key_columns(self, table: str) -> list[str]:
        """Columns of the primary key, in key order ([] if none)."""
        for info in self.get_constraints(table).values():
            if info.primary_key:
                return list(info.columns)
        return []

    def get_relations(self, table: str) -> dict[str, tuple[str, str]]:
        """Single-column foreign keys: column -> (referenced table, referenced column)."""
        return {
            info.columns[0]: info.foreign_key
            for info in self.get_constraints(table).values()
            if info.foreign_key and len(info.columns) == 1
        }

    def get_table_comment(self, table: str) -> str | None:
        """The table's comment, None if it has none or the backend has no comments."""
        return None

    def get_sequence_value(self, table: str) -> int | None:
        """The last value the table's auto-increment counter handed out, if known."""
        return None

    def _fetch(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.connection.fetchall(sql, params)
