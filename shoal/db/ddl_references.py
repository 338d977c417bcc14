"""Names and deferred statements for DDL.

Two jobs, both vendor-neutral:

* **Names.**  Index, unique, check and foreign-key constraint names are
  derived deterministically from the table, the columns and a suffix
  (:func:`index_name`), so the same models give the same names on every run
  and in collect-only SQL, and a later operation can find a constraint again
  without asking the database.  The scheme follows Django's convention
  (``<table>_<cols>_<hash8><suffix>``, shortened to the backend's name length
  while keeping the hash) so that databases created by either tool line up.
  Every generated name goes through :func:`index_name`; adjust it there.

* **Deferred statements.**  A schema editor queues some SQL (foreign keys,
  indexes) to run after all tables exist.  A queued :class:`Statement` knows
  which tables and columns it mentions, so that a table or column renamed (or
  dropped) later in the same migration updates (or drops) the queued SQL
  instead of leaving it pointing at a name that no longer exists.  Generated
  names are computed when the statement is rendered, from the *current*
  table and column names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "names_digest",
    "index_name",
    "truncate_name",
    "Reference",
    "Table",
    "Columns",
    "IndexName",
    "ForeignKeyName",
    "FK_SUFFIX",
    "FK_SUFFIX_RECREATED",
    "Statement",
]

#: Longest generated name when the backend reports no limit.
DEFAULT_MAX_NAME_LENGTH = 200


def names_digest(*parts: str, length: int) -> str:
    """The first ``length`` hex digits of the MD5 of the concatenated ``parts``.

    Not security-sensitive: it only keeps generated names short and distinct.
    """
    import hashlib  # here: most commands name nothing, and the import costs ~2 ms

    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()[:length]


def index_name(table: str, columns: Sequence[str], suffix: str = "", max_length: int | None = None) -> str:
    """The deterministic name of an index or constraint on ``table(columns)``.

    ``<table>_<col1>_<col2>_<hash8><suffix>`` when it fits; otherwise the
    table and column parts are cut so that the whole fits ``max_length`` and
    the hash (which is over the full table and column names) survives.  A
    name never starts with ``_`` or a digit.
    """
    limit = max_length or DEFAULT_MAX_NAME_LENGTH
    tail = names_digest(table, *columns, length=8) + suffix
    joined = "_".join(columns)
    name = f"{table}_{joined}_{tail}"
    if len(name) <= limit:
        return name
    if len(tail) > limit // 3:
        tail = tail[: limit // 3]
    room = (limit - len(tail)) // 2 - 1
    name = f"{table[:room]}_{joined[:room]}_{tail}"
    if name[0] == "_" or name[0].isdigit():
        name = "D" + name[:-1]
    return name


def truncate_name(name: str, length: int | None, hash_len: int = 4) -> str:
    """``name`` cut to ``length`` characters, ending in a short hash of the full name."""
    if length is None or len(name) <= length:
        return name
    return name[: length - hash_len] + names_digest(name, length=hash_len)


class Reference:
    """A part of a statement that may mention tables and columns."""

    def references_table(self, table: str) -> bool:
        return False

    def references_column(self, table: str, column: str) -> bool:
        return False

    def rename_table_references(self, old: str, new: str) -> None:
        """Follow a table rename."""

    def rename_column_references(self, table: str, old: str, new: str) -> None:
        """Follow a column rename."""

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class Table(Reference):
    """A quoted table name."""

    def __init__(self, table: str, quote_name: Callable[[str], str]) -> None:
        self.table, self.quote_name = table, quote_name

    def references_table(self, table: str) -> bool:
        return self.table == table

    def rename_table_references(self, old: str, new: str) -> None:
        if self.table == old:
            self.table = new

    def __str__(self) -> str:
        return self.quote_name(self.table)


class Columns(Table):
    """A comma-separated list of quoted columns of one table, each with an
    optional suffix (``" DESC"``, ``" varchar_pattern_ops"``)."""

    def __init__(
        self, table: str, columns: Sequence[str], quote_name: Callable[[str], str], suffixes: Sequence[str] = ()
    ) -> None:
        super().__init__(table, quote_name)
        self.columns = list(columns)
        self.suffixes = list(suffixes)

    def references_column(self, table: str, column: str) -> bool:
        return self.table == table and column in self.columns

    def rename_column_references(self, table: str, old: str, new: str) -> None:
        if self.table == table:
            self.columns = [new if c == old else c for c in self.columns]

    def __str__(self) -> str:
        out = []
        for i, column in enumerate(self.columns):
            suffix = self.suffixes[i] if i < len(self.suffixes) else ""
            out.append(self.quote_name(column) + suffix)
        return ", ".join(out)


class IndexName(Columns):
    """A generated (quoted) name, computed from the current table and columns."""

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        suffix: str,
        make_name: Callable[[str, Sequence[str], str], str],
        quote_name: Callable[[str], str],
    ) -> None:
        super().__init__(table, columns, quote_name)
        self.suffix, self.make_name = suffix, make_name

    def __str__(self) -> str:
        return self.quote_name(self.make_name(self.table, self.columns, self.suffix))


#: Suffix of a foreign key's name: ``_fk_<to_table>_<to_column>``.
FK_SUFFIX = "_fk_{to_table}_{to_column}"
#: Suffix of a foreign key re-created after its target column changed type
#: (Django names those ``<table>_<column>_<hash>_fk``).
FK_SUFFIX_RECREATED = "_fk"


class ForeignKeyName(IndexName):
    """The generated name of a foreign key; its suffix (a ``str.format``
    template over ``to_table``/``to_column``) usually names the target."""

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        to_table: str,
        to_columns: Sequence[str],
        make_name: Callable[[str, Sequence[str], str], str],
        quote_name: Callable[[str], str],
        suffix_template: str = FK_SUFFIX,
    ) -> None:
        super().__init__(table, columns, "", make_name, quote_name)
        self.to = Columns(to_table, to_columns, quote_name)
        self.suffix_template = suffix_template

    def references_table(self, table: str) -> bool:
        return super().references_table(table) or self.to.references_table(table)

    def references_column(self, table: str, column: str) -> bool:
        return super().references_column(table, column) or self.to.references_column(table, column)

    def rename_table_references(self, old: str, new: str) -> None:
        super().rename_table_references(old, new)
        self.to.rename_table_references(old, new)

    def rename_column_references(self, table: str, old: str, new: str) -> None:
        super().rename_column_references(table, old, new)
        self.to.rename_column_references(table, old, new)

    def __str__(self) -> str:
        suffix = self.suffix_template.format(to_table=self.to.table, to_column=self.to.columns[0])
        return self.quote_name(self.make_name(self.table, self.columns, suffix))


class Statement(Reference):
    """SQL built from a ``str.format`` template whose parts may be references.

    Rendering happens at ``str()`` time, so renames applied in between show.
    """

    def __init__(self, template: str, **parts: Any) -> None:
        self.template, self.parts = template, parts

    def _refs(self) -> list[Reference]:
        return [p for p in self.parts.values() if isinstance(p, Reference)]

    def references_table(self, table: str) -> bool:
        return any(p.references_table(table) for p in self._refs())

    def references_column(self, table: str, column: str) -> bool:
        return any(p.references_column(table, column) for p in self._refs())

    def rename_table_references(self, old: str, new: str) -> None:
        for part in self._refs():
            part.rename_table_references(old, new)

    def rename_column_references(self, table: str, old: str, new: str) -> None:
        for part in self._refs():
            part.rename_column_references(table, old, new)

    def __str__(self) -> str:
        return self.template.format(**{k: str(v) for k, v in self.parts.items()})

    def __repr__(self) -> str:
        return f"<Statement {str(self)!r}>"
