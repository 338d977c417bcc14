"""SQLite schema reading: PRAGMA functions plus a small parser of the stored CREATE TABLE.

SQLite does not keep constraint names or CHECK expressions anywhere but in
the original ``CREATE TABLE`` text, so that text is tokenised here (quotes,
comments and nested parentheses respected).  Unnamed constraints get stable
synthetic names: ``__primary__`` for the primary key, ``fk_<table>_<cols>``
for foreign keys, ``<table>_<col>_check`` / ``<table>_check`` for checks; an
unnamed UNIQUE keeps SQLite's ``sqlite_autoindex_<table>_<n>`` name.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, NamedTuple

from shoal.db.backends.base.introspection import (
    BaseDatabaseIntrospection,
    ColumnInfo,
    ConstraintInfo,
    columns_in_expression,
    normalize_type,
)
from shoal.exceptions import DatabaseError

__all__ = ["DatabaseIntrospection", "tokenize", "parse_create_table"]


class Token(NamedTuple):
    """A lexical unit of SQLite DDL; ``text`` of a group is its inner text."""

    kind: str  # "name" (quoted identifier), "word", "str", "group", "op", "num"
    text: str
    start: int
    end: int


_CLOSERS = {'"': '"', "`": "`", "[": "]"}


def _skip_quoted(sql: str, i: int, close: str) -> int:
    """Index just past the quoted run starting at ``sql[i]`` (doubled quote = escape)."""
    j = i + 1
    n = len(sql)
    while j < n:
        if sql[j] == close:
            if close != "]" and j + 1 < n and sql[j + 1] == close:
                j += 2
                continue
            return j + 1
        j += 1
    raise DatabaseError(f"Unterminated quote in SQL: {sql[i : i + 80]!r}")


def _skip_comment(sql: str, i: int) -> int:
    if sql.startswith("--", i):
        j = sql.find("\n", i)
        return len(sql) if j < 0 else j + 1
    j = sql.find("*/", i + 2)
    return len(sql) if j < 0 else j + 2


def _match_paren(sql: str, i: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``sql[i]``."""
    depth, j, n = 0, i, len(sql)
    while j < n:
        ch = sql[j]
        if ch in _CLOSERS or ch == "'":
            j = _skip_quoted(sql, j, _CLOSERS.get(ch, "'"))
            continue
        if sql.startswith("--", j) or sql.startswith("/*", j):
            j = _skip_comment(sql, j)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise DatabaseError(f"Unbalanced parentheses in SQL: {sql[i : i + 80]!r}")


def tokenize(sql: str) -> list[Token]:
    """Top-level tokens of ``sql``; a parenthesised part is one ``group`` token."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i) or sql.startswith("/*", i):
            i = _skip_comment(sql, i)
        elif ch in _CLOSERS:
            j = _skip_quoted(sql, i, _CLOSERS[ch])
            inner = sql[i + 1 : j - 1]
            if ch != "[":
                inner = inner.replace(ch + ch, ch)
            tokens.append(Token("name", inner, i, j))
            i = j
        elif ch == "'":
            j = _skip_quoted(sql, i, "'")
            tokens.append(Token("str", sql[i:j], i, j))
            i = j
        elif ch == "(":
            j = _match_paren(sql, i)
            tokens.append(Token("group", sql[i + 1 : j], i, j + 1))
            i = j + 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (sql[j].isalnum() or sql[j] in "_$"):
                j += 1
            tokens.append(Token("word", sql[i:j], i, j))
            i = j
        elif ch.isdigit():
            j = i
            while j < n and (sql[j].isalnum() or sql[j] == "."):
                j += 1
            tokens.append(Token("num", sql[i:j], i, j))
            i = j
        else:
            tokens.append(Token("op", ch, i, i + 1))
            i += 1
    return tokens


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.kind == "op" and tok.text == ",":
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def _ident(tok: Token) -> str:
    return tok.text[1:-1].replace("''", "'") if tok.kind == "str" else tok.text


def _is_word(tok: Token | None, *words: str) -> bool:
    return tok is not None and tok.kind == "word" and tok.text.upper() in words


def _column_list(group_text: str) -> tuple[str, ...]:
    return tuple(_ident(part[0]) for part in _split_commas(tokenize(group_text)))


class TableDDL(SimpleNamespace):
    """What the CREATE TABLE text says beyond what PRAGMAs report."""

    pk_name: str | None
    unique_names: dict[tuple[str, ...], str]
    fk_names: dict[tuple[str, ...], str]
    checks: list[tuple[str | None, str, str | None]]  # name, expr, column
    autoincrement: set[str]
    collations: dict[str, str]

    def __init__(self) -> None:
        super().__init__(pk_name=None, unique_names={}, fk_names={}, checks=[], autoincrement=set(), collations={})


def parse_create_table(sql: str) -> TableDDL:
    """Extract constraint names, CHECK expressions, AUTOINCREMENT and COLLATE from DDL."""
    ddl = TableDDL()
    body = next((t for t in tokenize(sql) if t.kind == "group"), None)
    if body is None:
        return ddl
    for part in _split_commas(tokenize(body.text)):
        first = part[0]
        if _is_word(first, "CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
            _table_constraint(part, ddl)
        else:
            _column_constraints(_ident(first), part[1:], ddl)
    return ddl


def _table_constraint(part: list[Token], ddl: TableDDL) -> None:
    name = None
    i = 0
    if _is_word(part[0], "CONSTRAINT") and len(part) > 1:
        name, i = _ident(part[1]), 2
    rest = part[i:]
    group = next((t for t in rest if t.kind == "group"), None)
    if not rest or group is None:
        return
    kw = rest[0].text.upper() if rest[0].kind == "word" else ""
    if kw == "CHECK":
        ddl.checks.append((name, group.text.strip(), None))
    elif name is None:
        return
    elif kw == "PRIMARY":
        ddl.pk_name = name
    elif kw == "UNIQUE":
        ddl.unique_names[_column_list(group.text)] = name
    elif kw == "FOREIGN":
        ddl.fk_names[_column_list(group.text)] = name


def _column_constraints(column: str, toks: list[Token], ddl: TableDDL) -> None:
    pending: str | None = None
    for i, tok in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if tok.kind != "word":
            continue
        word = tok.text.upper()
        if word == "CONSTRAINT" and nxt is not None:
            pending = _ident(nxt)
        elif word == "CHECK" and nxt is not None and nxt.kind == "group":
            ddl.checks.append((pending, nxt.text.strip(), column))
            pending = None
        elif word == "REFERENCES":
            if pending:
                ddl.fk_names[(column,)] = pending
            pending = None
        elif word == "UNIQUE":
            if pending:
                ddl.unique_names[(column,)] = pending
            pending = None
        elif word == "PRIMARY":
            if pending:
                ddl.pk_name = pending
            pending = None
        elif word == "AUTOINCREMENT":
            ddl.autoincrement.add(column)
        elif word == "COLLATE" and nxt is not None:
            ddl.collations[column] = _ident(nxt)


class DatabaseIntrospection(BaseDatabaseIntrospection):
    """SQLite introspection through ``pragma_*`` table functions and the stored DDL."""

    def _master_sql(self, name: str, kind: str = "table") -> str | None:
        row = self.connection.fetchone("SELECT sql FROM sqlite_master WHERE type = %s AND name = %s", (kind, name))
        return row[0] if row else None

    def table_names(self) -> list[str]:
        """User tables, without sqlite_* internals, sorted."""
        rows = self._fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        return [r[0] for r in rows]

    def view_names(self) -> list[str]:
        """Views, sorted."""
        return [r[0] for r in self._fetch("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")]

    def has_table(self, table: str) -> bool:
        """True if the table exists."""
        return self._master_sql(table) is not None

    def get_columns(self, table: str) -> list[ColumnInfo]:
        """Columns from ``pragma_table_xinfo``; ``autoincrement`` means the AUTOINCREMENT keyword."""
        rows = self._fetch(
            'SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(%s)', (table,)
        )
        ddl = parse_create_table(self._master_sql(table) or "")
        pk_count = sum(1 for r in rows if r[5])
        result = []
        for _cid, name, decl, notnull, default, pk, hidden in rows:
            if hidden == 1:  # hidden column of a virtual table
                continue
            ctype = normalize_type(decl or "")
            rowid_alias = bool(pk) and pk_count == 1 and ctype == "integer"
            result.append(
                ColumnInfo(
                    name=name,
                    type=ctype,
                    null=not notnull and not rowid_alias,
                    default=default,
                    primary_key=bool(pk),
                    autoincrement=name in ddl.autoincrement,
                    collation=ddl.collations.get(name),
                )
            )
        return result

    def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Primary key, UNIQUE constraints, indexes, foreign keys and CHECKs."""
        sql = self._master_sql(table)
        if sql is None:
            return {}
        ddl = parse_create_table(sql)
        columns = self._fetch("SELECT name, pk FROM pragma_table_xinfo(%s)", (table,))
        col_names = [c[0] for c in columns]
        result: dict[str, ConstraintInfo] = {}
        pk_cols = [name for name, pk in sorted((c for c in columns if c[1]), key=lambda c: c[1])]
        if pk_cols:
            result[ddl.pk_name or "__primary__"] = ConstraintInfo(columns=list(pk_cols), primary_key=True, unique=True)
        self._add_indexes(table, ddl, result)
        self._add_foreign_keys(table, ddl, result)
        self._add_checks(table, ddl, col_names, result)
        return result

    def _add_indexes(self, table: str, ddl: TableDDL, result: dict[str, ConstraintInfo]) -> None:
        for _seq, name, unique, origin, partial in self._fetch(
            'SELECT seq, name, "unique", origin, partial FROM pragma_index_list(%s)', (table,)
        ):
            if origin == "pk":
                continue
            info = self._fetch(
                'SELECT seqno, cid, name, "desc" FROM pragma_index_xinfo(%s) WHERE "key" = 1 ORDER BY seqno',
                (name,),
            )
            cols: list[Any] = [r[2] for r in info]
            orders = ["DESC" if r[3] else "ASC" for r in info]
            if origin == "u":
                real = ddl.unique_names.get(tuple(cols), name)
                result[real] = ConstraintInfo(columns=cols, unique=True, orders=orders, type="btree")
                continue
            condition = self._index_condition(name) if partial else None
            result[name] = ConstraintInfo(
                columns=cols, unique=bool(unique), index=True, type="btree", orders=orders, condition=condition
            )

    def _index_condition(self, index: str) -> str | None:
        sql = self._master_sql(index, "index") or ""
        for tok in tokenize(sql):
            if _is_word(tok, "WHERE"):
                return sql[tok.end :].strip().rstrip(";").strip()
        return None

    def _add_foreign_keys(self, table: str, ddl: TableDDL, result: dict[str, ConstraintInfo]) -> None:
        groups: dict[int, list[tuple[Any, ...]]] = {}
        for row in self._fetch(
            'SELECT id, seq, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(%s)',
            (table,),
        ):
            groups.setdefault(row[0], []).append(row)
        for rows in groups.values():
            rows.sort(key=lambda r: r[1])
            ref_table = rows[0][2]
            cols = [r[3] for r in rows]
            targets = [r[4] for r in rows]
            if any(t is None for t in targets):
                targets = self.get_primary_key_columns(ref_table) or ["rowid"]
            name = ddl.fk_names.get(tuple(cols)) or f"fk_{table}_{'_'.join(cols)}"
            result[name] = ConstraintInfo(columns=cols, foreign_key=(ref_table, targets[0]), on_delete=rows[0][6])

    def _add_checks(self, table: str, ddl: TableDDL, col_names: list[str], result: dict[str, ConstraintInfo]) -> None:
        for name, expr, column in ddl.checks:
            cols = columns_in_expression(expr, col_names)
            if column is not None and not cols:
                cols = [column]
            if name is None:
                base = f"{table}_{column}_check" if column is not None else f"{table}_check"
                name, n = base, 0
                while name in result:
                    n += 1
                    name = f"{base}{n}"
            result[name] = ConstraintInfo(columns=list(cols), check=True, definition=expr)

    def get_sequence_value(self, table: str) -> int | None:
        """The AUTOINCREMENT counter from ``sqlite_sequence`` (None if never used)."""
        if self._master_sql("sqlite_sequence") is None:
            return None
        row = self.connection.fetchone("SELECT seq FROM sqlite_sequence WHERE name = %s", (table,))
        return int(row[0]) if row else None
