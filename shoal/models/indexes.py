"""``models.Index``: a named index over fields (optionally partial)."""

from __future__ import annotations

from typing import Any, Sequence


class Index:
    """An index on ``fields`` (``"-field"`` for descending), named ``name``."""

    suffix = "idx"
    max_name_length = 30

    def __init__(self, *, fields: Sequence[str] = (), name: str | None = None, condition: Any = None,
                 opclasses: Sequence[str] = (), include: Sequence[str] | None = None,
                 db_tablespace: str | None = None) -> None:
        if not fields:
            raise ValueError("An index must be named and list at least one field (fields=[...]).")
        if opclasses and len(opclasses) != len(fields):
            raise ValueError("Index.opclasses must have one entry per field.")
        if condition is not None and not name:
            raise ValueError("An index with a condition must be named.")
        self.fields = list(fields)
        self.name = name or ""
        self.condition = condition
        self.opclasses = list(opclasses)
        self.include = list(include or [])
        self.db_tablespace = db_tablespace

    @property
    def fields_orders(self) -> list[tuple[str, str]]:
        return [(f[1:], "DESC") if f.startswith("-") else (f, "") for f in self.fields]

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": self.fields, "name": self.name}
        if self.condition is not None:
            kwargs["condition"] = self.condition
        if self.opclasses:
            kwargs["opclasses"] = self.opclasses
        if self.include:
            kwargs["include"] = self.include
        if self.db_tablespace:
            kwargs["db_tablespace"] = self.db_tablespace
        return "shoal.models.Index", (), kwargs

    def clone(self) -> "Index":
        _, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)

    def set_name_with_model_state(self, table: str, columns: list[str]) -> None:
        """Give an unnamed index a stable name from table, columns and suffix."""
        ordered = [f"-{c}" if order else c for c, (_, order) in zip(columns, self.fields_orders)]
        from shoal.db.ddl_references import names_digest

        digest = names_digest(table, *ordered, self.suffix, length=6)
        name = f"{table[:11]}_{columns[0][:7]}_{digest}_{self.suffix}"
        if name[0] == "_" or name[0].isdigit():
            name = f"D{name[1:]}"
        self.name = name[: self.max_name_length]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Index):
            return NotImplemented
        return self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<Index: fields={self.fields!r} name={self.name!r}>"


