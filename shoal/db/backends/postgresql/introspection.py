"""PostgreSQL schema reading from pg_catalog (tables visible on the search_path)."""

from __future__ import annotations

import re

from shoal.db.backends.base.introspection import (
    BaseDatabaseIntrospection,
    ColumnInfo,
    ConstraintInfo,
    normalize_type,
)

__all__ = ["DatabaseIntrospection", "normalize_pg_type"]

# format_type() spellings -> the spelling DDL uses.
_TYPE_REWRITES = [
    (re.compile(r"^character varying"), "varchar"),
    (re.compile(r"^character\b"), "char"),
    (re.compile(r"^(timestamp|time)(\(\d+\))? without time zone"), r"\1\2"),
    (re.compile(r"^bit varying"), "varbit"),
]

_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

# The table's oid, found through the search_path like an unqualified name in SQL.
_OID = "to_regclass(quote_ident(%s))"


def normalize_pg_type(text: str) -> str:
    """``character varying(100)`` -> ``varchar(100)``, ``numeric(10, 2)`` -> ``numeric(10,2)``."""
    text = normalize_type(text)
    for pattern, repl in _TYPE_REWRITES:
        text = pattern.sub(repl, text)
    return text


class DatabaseIntrospection(BaseDatabaseIntrospection):
    """Reads pg_class, pg_attribute, pg_constraint and pg_index."""

    def _relations(self, kinds: str) -> list[str]:
        rows = self._fetch(
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ({kinds}) AND NOT c.relispartition "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY c.relname"
        )
        return [r[0] for r in rows]

    def table_names(self) -> list[str]:
        """Ordinary and partitioned tables on the search_path, sorted."""
        return self._relations("'r', 'p'")

    def view_names(self) -> list[str]:
        """Views and materialized views on the search_path, sorted."""
        return self._relations("'v', 'm'")

    def has_table(self, table: str) -> bool:
        """True if an ordinary or partitioned table of that name is visible."""
        row = self.connection.fetchone(f"SELECT relkind FROM pg_catalog.pg_class WHERE oid = {_OID}", (table,))
        return bool(row and row[0] in ("r", "p"))

    def get_columns(self, table: str) -> list[ColumnInfo]:
        """Columns from pg_attribute; identity and serial columns are ``autoincrement``."""
        rows = self._fetch(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, "
            "pg_catalog.col_description(a.attrelid, a.attnum), "
            "CASE WHEN a.attcollation <> t.typcollation THEN co.collname END, "
            "COALESCE(a.attnum = ANY(ix.indkey::int2[]), false) "
            "FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
            "LEFT JOIN pg_catalog.pg_index ix ON ix.indrelid = a.attrelid AND ix.indisprimary "
            f"WHERE a.attrelid = {_OID} AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            (table,),
        )
        result = []
        for name, ctype, null, default, identity, generated, comment, collation, pk in rows:
            serial = default is not None and default.startswith("nextval(")
            result.append(
                ColumnInfo(
                    name=name,
                    type=normalize_pg_type(ctype),
                    null=bool(null),
                    default=None if generated else default,
                    primary_key=bool(pk),
                    autoincrement=identity in ("a", "d") or serial,
                    comment=comment,
                    collation=collation,
                )
            )
        return result

    def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Constraints from pg_constraint, then indexes not backing a constraint."""
        result: dict[str, ConstraintInfo] = {}
        for name, kind, cols, ref_table, ref_cols, deltype, definition in self._fetch(
            "SELECT con.conname, con.contype, "
            "ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) "
            "  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), "
            "fc.relname, "
            "ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) "
            "  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), "
            "con.confdeltype, pg_catalog.pg_get_constraintdef(con.oid) "
            "FROM pg_catalog.pg_constraint con "
            "LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid "
            f"WHERE con.conrelid = {_OID} ORDER BY con.conname",
            (table,),
        ):
            info = ConstraintInfo(columns=list(cols or []))
            if kind == "p":
                info.primary_key = info.unique = True
            elif kind == "u":
                info.unique = True
            elif kind == "f":
                info.foreign_key = (ref_table, (ref_cols or [None])[0])
                info.on_delete = _ON_DELETE.get(deltype)
            elif kind == "c":
                info.check = True
                info.definition = _check_body(definition)
            elif kind == "x":
                info.type = "exclusion"
                info.definition = definition
            else:
                continue
            result[name] = info
        self._add_indexes(table, result)
        return result

    def _add_indexes(self, table: str, result: dict[str, ConstraintInfo]) -> None:
        for name, unique, method, cols, options, condition, backs_constraint in self._fetch(
            "SELECT ic.relname, ix.indisunique, am.amname, "
            "ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord) "
            "  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num "
            "  WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord), "
            "ARRAY(SELECT o.opt FROM unnest(ix.indoption::int2[]) WITH ORDINALITY o(opt, ord) "
            "  WHERE o.ord <= ix.indnkeyatts ORDER BY o.ord), "
            "pg_catalog.pg_get_expr(ix.indpred, ix.indrelid), "
            "EXISTS(SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = ix.indexrelid "
            "  AND c.conrelid = ix.indrelid AND c.contype IN ('p', 'u', 'x')) "
            "FROM pg_catalog.pg_index ix "
            "JOIN pg_catalog.pg_class ic ON ic.oid = ix.indexrelid "
            "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
            f"WHERE ix.indrelid = {_OID} ORDER BY ic.relname",
            (table,),
        ):
            orders = ["DESC" if (opt or 0) & 1 else "ASC" for opt in (options or [])] if method == "btree" else []
            if backs_constraint and name in result:
                result[name].type = result[name].type or method
                result[name].orders = orders
                continue
            result[name] = ConstraintInfo(
                columns=list(cols or []),
                unique=bool(unique),
                index=True,
                type=method,
                orders=orders,
                condition=condition,
            )

    def get_table_comment(self, table: str) -> str | None:
        """``COMMENT ON TABLE`` text."""
        row = self.connection.fetchone(f"SELECT obj_description({_OID}, 'pg_class')", (table,))
        return row[0] if row else None

    def get_sequence_value(self, table: str) -> int | None:
        """Last value of the identity/serial sequence of the table's first such column."""
        for column in self.get_columns(table):
            if not column.autoincrement:
                continue
            row = self.connection.fetchone(
                "SELECT s.last_value FROM pg_catalog.pg_sequences s "
                "WHERE (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass "
                "= pg_get_serial_sequence(quote_ident(%s), %s)::regclass",
                (table, column.name),
            )
            return int(row[0]) if row and row[0] is not None else None
        return None


def _check_body(definition: str) -> str:
    """``CHECK ((age >= 0))`` -> ``(age >= 0)`` (a trailing ``NOT VALID`` is dropped)."""
    text = definition.strip()
    if text.upper().endswith(" NOT VALID"):
        text = text[: -len(" NOT VALID")].rstrip()
    if text.upper().startswith("CHECK"):
        text = text[5:].strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text
