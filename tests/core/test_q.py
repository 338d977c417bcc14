"""Q and F objects: combining, equality, deconstruction (no database)."""

from __future__ import annotations

from shoal import models
from shoal.models.query_utils import CombinedExpression, Value


def test_kwargs_become_sorted_children() -> None:
    """Q(b=2, a=1) keeps its lookups sorted, so equal conditions compare equal."""
    assert models.Q(b=2, a=1).children == [("a", 1), ("b", 2)]
    assert models.Q(b=2, a=1) == models.Q(a=1, b=2)


def test_or_of_plain_nodes_is_flat() -> None:
    """Q(a=1) | Q(b=2) has the two lookups as children, connector OR."""
    q = models.Q(a=1) | models.Q(b=2)
    assert q.connector == "OR"
    assert q.children == [("a", 1), ("b", 2)]
    assert q == models.Q(("a", 1), ("b", 2), _connector="OR")


def test_negation_is_kept_as_a_child_node() -> None:
    """Q(a=1) | ~Q(b=2): the negated node stays a separate child."""
    q = models.Q(a=1) | ~models.Q(b=2)
    assert q.children[0] == ("a", 1)
    assert q.children[1] == models.Q(b=2, _negated=True)
    assert q.children[1].negated


def test_double_negation_restores() -> None:
    """~~Q(a=1) equals Q(a=1) and does not alter the original."""
    q = models.Q(a=1)
    assert ~~q == q
    assert not q.negated


def test_deconstruct_path_args_kwargs() -> None:
    """deconstruct() gives ('shoal.models.Q', children, options) for migration files."""
    path, args, kwargs = (models.Q(a=1) | ~models.Q(b__gt=2)).deconstruct()
    assert path == "shoal.models.Q"
    assert args == (("a", 1), models.Q(b__gt=2, _negated=True))
    assert kwargs == {"_connector": "OR"}
    assert models.Q(x=1).deconstruct() == ("shoal.models.Q", (("x", 1),), {})
    assert (~models.Q(x=1)).deconstruct() == ("shoal.models.Q", (("x", 1),), {"_negated": True})


def test_rebuild_from_deconstruct_is_equal() -> None:
    """Q(*args, **kwargs) from deconstruct() equals the original (what a migration file does)."""
    original = (models.Q(price__gt=0) & models.Q(name__startswith="a")) | ~models.Q(stock=None)
    _, args, kwargs = original.deconstruct()
    assert models.Q(*args, **kwargs) == original
    assert hash(models.Q(*args, **kwargs)) == hash(original)


def test_and_with_empty_q_is_the_other() -> None:
    """Q() & Q(a=1) is Q(a=1): an empty Q adds no condition."""
    assert (models.Q() & models.Q(a=1)) == models.Q(a=1)
    assert (models.Q(a=1) | models.Q()) == models.Q(a=1)


def test_q_with_list_values_is_hashable() -> None:
    """Q(a__in=[1, 2]) can be hashed and compared (lists inside are fine)."""
    assert hash(models.Q(a__in=[1, 2])) == hash(models.Q(a__in=[1, 2]))
    assert models.Q(a__in=[1, 2]) != models.Q(a__in=[1, 3])


def test_combining_with_non_q_is_a_type_error() -> None:
    """Q(a=1) | 3 raises TypeError naming the bad operand."""
    try:
        models.Q(a=1) | 3  # type: ignore[operator]
    except TypeError as exc:
        assert "3" in str(exc)
    else:
        raise AssertionError("expected TypeError")


def test_f_arithmetic_and_deconstruct() -> None:
    """F("n") + 1 builds an expression; F deconstructs to shoal.models.F."""
    expr = models.F("n") + 1
    assert isinstance(expr, CombinedExpression)
    assert expr == CombinedExpression(models.F("n"), "+", Value(1))
    assert models.F("n").deconstruct() == ("shoal.models.F", ("n",), {})
    assert (2 * models.F("n")).lhs == Value(2)


# -- Q as DDL text (CHECK constraints, partial indexes) ---------------------------------

import datetime  # noqa: E402

import pytest  # noqa: E402

from shoal.db.connections import create_connection  # noqa: E402
from shoal.migrations.state import ModelState  # noqa: E402
from shoal.models.conditions import compile_condition  # noqa: E402

_URLS = {"sqlite": "sqlite:///:memory:", "postgresql": "postgresql://u@127.0.0.1:1/x",
         "mysql": "mysql://u@127.0.0.1:1/x"}


def _item() -> ModelState:
    return ModelState("shop", "Item", {
        "id": models.AutoField(primary_key=True),
        "price": models.IntegerField(null=True),
        "name": models.CharField(max_length=10),
        "day": models.DateField(null=True),
    })


@pytest.mark.parametrize("vendor_name", sorted(_URLS))
def test_condition_inlines_literals(vendor_name: str) -> None:
    """compile_condition() writes quoted columns and literal values, no placeholders."""
    conn = create_connection("x", _URLS[vendor_name])
    q = "`" if vendor_name == "mysql" else '"'
    sql = compile_condition(models.Q(price__gte=0) & models.Q(day__lt=datetime.date(2030, 1, 2)), _item(), conn)
    assert sql == f"({q}price{q} >= 0 AND {q}day{q} < '2030-01-02')"
    sql = compile_condition(models.Q(price__isnull=True) | models.Q(name__in=["a", "b'c"]), _item(), conn)
    assert sql == f"({q}price{q} IS NULL OR {q}name{q} IN ('a', 'b''c'))"
    assert "%s" not in compile_condition(~models.Q(name="x"), _item(), conn)


def test_condition_f_expression_and_negation() -> None:
    """F() refers to a column; a negated lookup on a nullable column keeps NULL rows."""
    conn = create_connection("x", "sqlite:///:memory:")
    assert compile_condition(models.Q(price__lt=models.F("price") + 1), _item(), conn) == \
        '"price" < ("price" + 1)'
    assert compile_condition(~models.Q(price=5), _item(), conn) == \
        'NOT (("price" = 5 AND "price" IS NOT NULL))'


def test_condition_rejects_joins() -> None:
    """A condition that follows a relation or names no field is refused with the field list."""
    from shoal.exceptions import FieldDoesNotExist

    conn = create_connection("x", "sqlite:///:memory:")
    with pytest.raises(FieldDoesNotExist, match="no field named 'cost'.*price"):
        compile_condition(models.Q(cost=1), _item(), conn)
    with pytest.raises(FieldDoesNotExist, match="own columns"):
        compile_condition(models.Q(name__foo__bar=1), _item(), conn)
