"""The parity harness itself: its comparison reports real differences, and shoal
never imports Django (Django is only the test oracle, run in a subprocess)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from .harness import SQLITE_COLUMN_ORDER, compare, sqlite_fk_declared_type

SHOAL_DIR = Path(__file__).resolve().parents[2] / "shoal"


def _schema(**overrides: Any) -> dict[str, Any]:
    column = {
        "type": "integer",
        "null": False,
        "default": None,
        "primary_key": False,
        "autoincrement": False,
        "comment": None,
        "collation": None,
    }
    constraint = {
        "kind": "index",
        "columns": ["a"],
        "orders": ["ASC"],
        "references": None,
        "on_delete": None,
        "check": None,
        "condition": None,
    }
    table = {
        "comment": None,
        "columns": [("id", dict(column, primary_key=True)), ("a", dict(column))],
        "constraints": {"t_a_0123abcd": dict(constraint)},
    }
    table.update(overrides)
    return {"t": table}


def test_equal_schemas_have_no_difference() -> None:
    """Two identical schemas compare equal (no lines)."""
    assert compare(_schema(), _schema()) == []


def test_constraint_name_difference_names_both_names() -> None:
    """Same index under another name is reported with the name shoal used."""
    theirs = _schema()
    ours = _schema()
    ours["t"]["constraints"] = {"t_a_ffffffff": ours["t"]["constraints"].pop("t_a_0123abcd")}
    assert compare(theirs, ours) == [
        "constraint t: index t_a_0123abcd on (a) only in Django (shoal has it as t_a_ffffffff)"
    ]


def test_column_type_null_default_and_order_are_compared() -> None:
    """Type, nullability, default and column order differences are each reported."""
    ours = _schema()
    ours["t"]["columns"] = [("a", dict(ours["t"]["columns"][1][1], type="bigint", null=True, default="0")),
                            ours["t"]["columns"][0]]
    lines = compare(_schema(), ours)
    assert "table t: column order django ['id', 'a'] / shoal ['a', 'id']" in lines
    assert "column t.a: type django 'integer' / shoal 'bigint'" in lines
    assert "column t.a: null django False / shoal True" in lines
    assert "column t.a: default django None / shoal '0'" in lines


def test_missing_table_and_shape_change_are_reported() -> None:
    """A table only one side has, and a constraint whose shape differs under one name."""
    ours = _schema()
    ours["t"]["constraints"]["t_a_0123abcd"]["kind"] = "unique index"
    ours["u"] = ours["t"]
    lines = compare(_schema(), ours)
    assert "table u: only shoal created it" in lines
    assert any(line.startswith("constraint t.t_a_0123abcd: django index") for line in lines)


def test_accepted_differences_stay_narrow() -> None:
    """The shared accepts match only their backend and their exact kind of line."""
    order = "table t: column order django ['a', 'b'] / shoal ['b', 'a']"
    assert SQLITE_COLUMN_ORDER.matches("sqlite", order)
    assert not SQLITE_COLUMN_ORDER.matches("postgresql", order)
    fk = sqlite_fk_declared_type("t.a_id")
    assert fk.matches("sqlite", "column t.a_id: type django 'bigint' / shoal 'smallint'")
    assert not fk.matches("sqlite", "column t.b_id: type django 'bigint' / shoal 'smallint'")
    assert not fk.matches("sqlite", "column t.a_id: type django 'varchar(3)' / shoal 'varchar(2)'")


def test_shoal_never_imports_django() -> None:
    """No module of the shoal package imports Django (it is only the parity oracle)."""
    offenders = []
    for path in SHOAL_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "django" or n.startswith("django.") for n in names):
                offenders.append(str(path.relative_to(SHOAL_DIR.parent)))
    assert offenders == []
