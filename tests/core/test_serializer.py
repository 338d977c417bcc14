"""Value serializer and @deconstructible: every supported type round-trips,
unsupported values fail with a message naming the value and a fix."""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import functools
import importlib
import math
import pathlib
import pickle
import re
import sys
import uuid
import zoneinfo
from typing import Any

import pytest

from shoal.deconstruct import deconstructible
from shoal.exceptions import SerializationError, ShoalError
from shoal.migrations import serializer as serializer_module
from shoal.migrations.serializer import (
    Serializer,
    migration_function,
    register_serializer,
    serialize,
    unregister_serializer,
)

MOD = __name__  # "test_serializer" or "tests.core.test_serializer", depending on rootdir layout


# -- module-level things the serializer can refer to ------------------------


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"


class Perm(enum.Flag):
    READ = 1
    WRITE = 2
    EXEC = 4


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Outer:
    class Inner:
        pass

    class Shade(enum.Enum):
        DARK = 1

    def method(self) -> None:
        """An unbound method referred to from the class body."""

    @staticmethod
    def static() -> int:
        return 1

    @classmethod
    def build(cls) -> "Outer":
        return cls()

    @deconstructible
    class Box:
        def __init__(self, size: int) -> None:
            self.size = size

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Outer.Box) and other.size == self.size


def module_function() -> int:
    return 42


@deconstructible
class Money:
    def __init__(self, amount: Any, currency: str = "EUR") -> None:
        self.amount, self.currency = amount, currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (self.amount, self.currency) == (other.amount, other.currency)


@deconstructible(path=f"{MOD}.Money")
class ShortPathMoney(Money):
    pass


class SubMoney(Money):
    pass


@deconstructible
class WithOwnNew:
    def __new__(cls, value: int) -> "WithOwnNew":
        obj = super().__new__(cls)
        obj.created_by_own_new = True
        return obj

    def __init__(self, value: int) -> None:
        self.value = value


class Setting(str):
    """Stand-in for shoal.conf.SettingReference: a str remembering its setting."""

    def __new__(cls, value: str, setting_name: str) -> "Setting":
        obj = super().__new__(cls, value)
        obj.setting_name = setting_name
        return obj


class FakeQ:
    """Stand-in for shoal.models.Q: deconstructs to a shoal.models path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "shoal.models.Q", self.args, self.kwargs


class FakeField:
    """Stand-in for a custom field: a 4-tuple deconstruct with a full path."""

    is_shoal_field = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        return "name", f"{MOD}.FakeField", list(self.args), dict(self.kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeField) and (self.args, self.kwargs) == (other.args, other.kwargs)


class FakeQuerySet:
    @classmethod
    def as_manager(cls) -> "FakeManager":
        return FakeManager(from_queryset=True)


class FakeManager:
    """Stand-in for a manager: 5-tuple deconstruct like Django's."""

    is_shoal_manager = True

    def __init__(self, *args: Any, from_queryset: bool = False, **kwargs: Any) -> None:
        self.args, self.kwargs, self.from_queryset = args, kwargs, from_queryset

    def deconstruct(self) -> tuple[bool, str | None, str | None, tuple[Any, ...], dict[str, Any]]:
        if self.from_queryset:
            return True, None, f"{MOD}.FakeQuerySet", (), {}
        return False, f"{MOD}.FakeManager", None, self.args, self.kwargs

    def __getattr__(self, name: str) -> Any:  # proxies like a real manager, and fails
        raise RuntimeError(f"manager has no queryset for {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeManager) and (self.args, self.kwargs, self.from_queryset) == (
            other.args,
            other.kwargs,
            other.from_queryset,
        )


def evaluate(text: str, imports: set[str]) -> Any:
    """Run the import lines, then evaluate the expression, as a migration file would."""
    namespace: dict[str, Any] = {}
    for line in sorted(imports):
        exec(line, namespace)
    return eval(text, namespace)


def roundtrip(value: Any) -> Any:
    text, imports = serialize(value)
    return evaluate(text, imports)


# -- round trips --------------------------------------------------------------

ROUND_TRIP_VALUES = [
    0,
    -17,
    10**30,
    1.5,
    -0.0,
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    "",
    "plain",
    "it's",
    'say "hi"',
    "both ' and \"",
    "line\nbreak\ttab\\",
    "ünïcødé ✓",
    b"",
    b"bytes'\x00\xff",
    [1, "a", None],
    [],
    (1,),
    (),
    ("a", ("b", ("c",))),
    {3, 1, 2},
    set(),
    frozenset({"x", "y"}),
    frozenset(),
    {"b": 1, "a": [1, 2], 3: (4,)},
    {},
    datetime.date(2024, 1, 2),
    datetime.time(3, 4, 5),
    datetime.time(3, 4, 5, 600, tzinfo=datetime.timezone.utc),
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc),
    datetime.datetime(2024, 7, 2, 3, 4, 5, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    datetime.datetime(2024, 1, 2, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    datetime.timedelta(days=2, seconds=5, microseconds=7),
    datetime.timedelta(0),
    decimal.Decimal("1.50"),
    decimal.Decimal("-0.001"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Color.RED,
    Level.HIGH,
    Perm.READ,
    Perm.READ | Perm.EXEC,
    Outer.Shade.DARK,
    pathlib.PurePosixPath("/srv/media"),
    pathlib.PureWindowsPath("C:/Program Files/x"),
    pathlib.Path("relative/dir"),
    int,
    str,
    type(None),
    Outer,
    Outer.Inner,
    Color,
    datetime.datetime,
    module_function,
    Outer.method,
    Outer.static,
    Outer.build,
    uuid.uuid4,
    datetime.datetime.now,
    datetime.date.today,
    len,
    dict.fromkeys,
    Money(5),
    Outer.Box(3),
    Money(decimal.Decimal("1.5"), currency="USD"),
    [Money(1), {"k": Money(2)}],
    FakeField("a", 1, max_length=3, choices=[("a", "A")]),
    FakeManager(1, key="v"),
    FakeQuerySet.as_manager(),
    range(2, 10, 3),
]


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES, ids=lambda v: f"{type(v).__name__}:{v!r}"[:60])
def test_round_trip(value: Any) -> None:
    """Evaluating the serialized text with its imports gives an equal value."""
    result = roundtrip(value)
    assert result == value
    if not isinstance(value, (bool, enum.Enum)):
        assert type(result) is type(value) or isinstance(value, pathlib.Path)


def test_nan_round_trips_as_float_call() -> None:
    """NaN is written as float("nan") (a bare nan is not Python)."""
    text, imports = serialize(float("nan"))
    assert text == 'float("nan")' and imports == set()
    assert math.isnan(evaluate(text, imports))


def test_exact_text_of_scalars() -> None:
    """Scalars are written in black's style: double quotes, 1-tuples with a comma."""
    assert serialize("abc") == ('"abc"', set())
    assert serialize("it's") == ('"it\'s"', set())
    assert serialize(b"ab") == ('b"ab"', set())
    assert serialize((1,)) == ("(1,)", set())
    assert serialize(float("inf")) == ('float("inf")', set())
    assert serialize(decimal.Decimal("1.50")) == ('decimal.Decimal("1.50")', {"import decimal"})
    assert serialize(uuid.UUID(int=1)) == (
        'uuid.UUID("00000000-0000-0000-0000-000000000001")',
        {"import uuid"},
    )


def test_sets_are_sorted() -> None:
    """Set and frozenset elements are written sorted, whatever the hash order."""
    assert serialize({"b", "c", "a"}) == ('{"a", "b", "c"}', set())
    assert serialize(frozenset({3, 1, 2})) == ("frozenset([1, 2, 3])", set())
    assert serialize(set()) == ("set()", set())


def test_dict_keeps_insertion_order() -> None:
    """Dict items keep the order they were given in."""
    assert serialize({"z": 1, "a": 2}) == ('{"z": 1, "a": 2}', set())


def test_aware_datetime_written_in_utc() -> None:
    """A zoneinfo-aware datetime is converted to UTC with datetime.timezone.utc."""
    value = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    assert serialize(value) == (
        "datetime.datetime(2024, 1, 2, 2, 4, 5, tzinfo=datetime.timezone.utc)",
        {"import datetime"},
    )
    assert serialize(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))[0] == (
        "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"
    )


def test_time_with_zoneinfo_keeps_zone() -> None:
    """A time with a zoneinfo zone is written with zoneinfo.ZoneInfo(key)."""
    value = datetime.time(9, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    text, imports = serialize(value)
    assert text == 'datetime.time(9, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))'
    assert imports == {"import datetime", "import zoneinfo"}
    assert evaluate(text, imports) == value


def test_enum_text() -> None:
    """Enum members are written by class path and member name; flag combinations with |."""
    assert serialize(Color.RED) == (f'{MOD}.Color["RED"]', {f"import {MOD}"})
    assert serialize(Perm.READ | Perm.WRITE)[0] == f'{MOD}.Perm["READ"] | {MOD}.Perm["WRITE"]'
    assert serialize(Perm(0))[0] == f"{MOD}.Perm(0)"
    assert roundtrip(Perm(0)) == Perm(0)
    assert serialize(Outer.Shade.DARK)[0] == f'{MOD}.Outer.Shade["DARK"]'


def test_regex_text_and_round_trip() -> None:
    """Compiled regexes keep pattern and only the flags the user gave."""
    text, imports = serialize(re.compile(r"^\d+$", re.IGNORECASE | re.MULTILINE))
    assert text == 're.compile("^\\\\d+$", re.IGNORECASE | re.MULTILINE)' and imports == {"import re"}
    assert serialize(re.compile("x")) == ('re.compile("x")', {"import re"})
    for pattern in (re.compile("a.b", re.S), re.compile(b"x+"), re.compile("x", re.ASCII)):
        result = roundtrip(pattern)
        assert (result.pattern, result.flags) == (pattern.pattern, pattern.flags)


def test_partial_round_trip() -> None:
    """functools.partial and partialmethod keep function, args and keywords."""
    value = functools.partial(module_function, 1, key=Color.GREEN)
    text, _ = serialize(value)
    assert text == f'functools.partial({MOD}.module_function, 1, key={MOD}.Color["GREEN"])'
    result = roundtrip(value)
    assert (result.func, result.args, result.keywords) == (value.func, value.args, value.keywords)
    method = functools.partialmethod(Outer.method, 2)
    result = roundtrip(method)
    assert isinstance(result, functools.partialmethod)
    assert (result.func, result.args) == (Outer.method, (2,))


def test_odd_keyword_names_use_double_star() -> None:
    """Keywords that are not identifiers are passed with **{...}."""
    value = functools.partial(module_function, **{"not-an-identifier": 1})
    text, _ = serialize(value)
    assert text.endswith('**{"not-an-identifier": 1})')
    assert roundtrip(value).keywords == {"not-an-identifier": 1}


def test_paths_become_pure() -> None:
    """Concrete paths are written as pure paths of their flavour."""
    assert serialize(pathlib.PosixPath("/a/b")) == ('pathlib.PurePosixPath("/a/b")', {"import pathlib"})
    assert serialize(pathlib.PureWindowsPath("C:/x"))[0] == 'pathlib.PureWindowsPath("C:\\\\x")'


def test_function_and_class_references() -> None:
    """Functions, methods and classes are written by import path; builtins bare."""
    assert serialize(module_function) == (f"{MOD}.module_function", {f"import {MOD}"})
    assert serialize(Outer.method)[0] == f"{MOD}.Outer.method"
    assert serialize(Outer.build)[0] == f"{MOD}.Outer.build"
    assert serialize(Outer.Inner)[0] == f"{MOD}.Outer.Inner"
    assert serialize(Outer.Box(2)) == (f"{MOD}.Outer.Box(2)", {f"import {MOD}"})
    assert serialize(datetime.datetime.now) == ("datetime.datetime.now", {"import datetime"})
    assert serialize(uuid.uuid4) == ("uuid.uuid4", {"import uuid"})
    assert serialize(len) == ("len", set())
    assert serialize(int) == ("int", set())
    assert serialize(type(None)) == ("type(None)", set())


def test_deconstruct_paths_under_shoal_use_short_imports() -> None:
    """shoal.models.X is written models.X, shoal.migrations.X migrations.X."""
    text, imports = serialize(FakeQ(("title__startswith", "A"), _negated=True))
    assert text == 'models.Q(("title__startswith", "A"), _negated=True)'
    assert imports == {"from shoal import models"}

    class MigrationsThing(FakeQ):
        def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
            return "shoal.migrations.Thing", (), {"b": 2, "a": 1}

    assert serialize(MigrationsThing()) == ("migrations.Thing(a=1, b=2)", {"from shoal import migrations"})


def test_field_and_manager_text() -> None:
    """Fields write path(args, sorted kwargs); managers by path or qs.as_manager()."""
    text, imports = serialize(FakeField("x", null=True, default=Color.RED))
    assert text == f'{MOD}.FakeField("x", default={MOD}.Color["RED"], null=True)'
    assert imports == {f"import {MOD}"}
    assert serialize(FakeManager())[0] == f"{MOD}.FakeManager()"
    assert serialize(FakeQuerySet.as_manager())[0] == f"{MOD}.FakeQuerySet.as_manager()"


def test_setting_reference() -> None:
    """A value from a setting is written as settings.NAME with the settings import."""
    assert serialize(Setting("accounts.User", "AUTH_USER_MODEL")) == (
        "settings.AUTH_USER_MODEL",
        {"from shoal.conf import settings"},
    )


def test_swappable_dependency_tuple() -> None:
    """A tuple with .setting is written as migrations.swappable_dependency(settings.X)."""

    class Swappable(tuple):
        setting = "AUTH_USER_MODEL"

    text, imports = serialize(Swappable(("accounts", "__first__")))
    assert text == "migrations.swappable_dependency(settings.AUTH_USER_MODEL)"
    assert imports == {"from shoal import migrations", "from shoal.conf import settings"}


def test_real_shoal_objects_when_available() -> None:
    """Real shoal fields, models.Model, on_delete functions are written via `models`."""
    models = pytest.importorskip("shoal.models")
    field = models.CharField(max_length=100, default="x")
    text, imports = serialize(field)
    assert text == 'models.CharField(default="x", max_length=100)'
    assert imports == {"from shoal import models"}
    assert evaluate(text, imports).deconstruct()[1:] == field.deconstruct()[1:]
    assert serialize(models.Model) == ("models.Model", {"from shoal import models"})
    assert serialize(models.CASCADE) == ("models.CASCADE", {"from shoal import models"})
    assert serialize(models.Manager()) == ("models.Manager()", {"from shoal import models"})


def test_migration_module_function(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A function of a migration module (0002_data) is written through migration_function()."""
    package = f"serapp{abs(hash(str(tmp_path))) % 10**8}"
    (tmp_path / package / "migrations").mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "migrations" / "__init__.py").write_text("")
    (tmp_path / package / "migrations" / "0002_data.py").write_text(
        "def forwards(apps, schema_editor):\n    return 'ran'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module(f"{package}.migrations.0002_data")
        text, imports = serialize(module.forwards)
        assert text == (
            "shoal.migrations.serializer.migration_function(" f'"{package}.migrations.0002_data", "forwards")'
        )
        assert imports == {"import shoal.migrations.serializer"}
        assert evaluate(text, imports) is module.forwards
        assert migration_function(f"{package}.migrations.0002_data", "forwards")(None, None) == "ran"
    finally:
        for name in [n for n in sys.modules if n.startswith(package)]:
            del sys.modules[name]


# -- @deconstructible -------------------------------------------------------


def test_deconstructible_records_arguments() -> None:
    """deconstruct() returns the class path and the exact constructor arguments."""
    assert Money(5, currency="USD").deconstruct() == (f"{MOD}.Money", (5,), {"currency": "USD"})
    assert serialize(Money(5, currency="USD"))[0] == f'{MOD}.Money(5, currency="USD")'


def test_deconstructible_path_and_subclasses() -> None:
    """path= applies to the decorated class; a subclass reports its own path."""
    assert ShortPathMoney(1).deconstruct()[0] == f"{MOD}.Money"
    assert SubMoney(1).deconstruct() == (f"{MOD}.SubMoney", (1,), {})


def test_deconstructible_keeps_own_new_and_copies() -> None:
    """A class's own __new__ still runs; copies and pickles keep the arguments."""
    obj = WithOwnNew(3)
    assert obj.created_by_own_new and obj.deconstruct() == (f"{MOD}.WithOwnNew", (3,), {})
    money = Money(7, currency="GBP")
    for clone in (copy.copy(money), copy.deepcopy(money), pickle.loads(pickle.dumps(money))):
        assert clone.deconstruct() == money.deconstruct()


def test_deconstructible_local_class_fails() -> None:
    """A deconstructible class defined in a function cannot be written."""

    @deconstructible
    class Local:
        pass

    with pytest.raises(SerializationError, match="defined inside a function.*move the class to module level"):
        serialize(Local())


# -- errors -----------------------------------------------------------------


def test_lambda_fails_with_hint() -> None:
    """A lambda is refused with a message naming it and how to fix it."""
    with pytest.raises(SerializationError) as info:
        serialize(lambda: 1)
    message = str(info.value)
    assert message.startswith("Cannot serialize: <function ")
    assert "<lambda>" in message
    assert "move the callable to module level (def ...) and refer to it by name" in message
    assert isinstance(info.value, ShoalError) and callable(info.value.value)


def test_local_function_and_class_fail() -> None:
    """Functions and classes defined inside a function are refused."""

    def inner() -> None:
        pass

    class Inner:
        pass

    with pytest.raises(SerializationError, match="inner.*defined inside a function"):
        serialize(inner)
    with pytest.raises(SerializationError, match="Inner.*defined inside a function"):
        serialize(Inner)
    with pytest.raises(SerializationError, match="defined inside a function"):
        serialize([1, {"k": inner}])


def test_main_module_function_fails() -> None:
    """A function whose module is __main__ is refused."""

    def job() -> None:
        pass

    job.__module__ = "__main__"
    job.__qualname__ = "job"
    with pytest.raises(SerializationError, match="defined in __main__.*importable module"):
        serialize(job)


def test_unreachable_function_fails() -> None:
    """A function not reachable under its module and qualified name is refused."""

    def renamed() -> None:
        pass

    renamed.__qualname__ = "no_such_function"
    renamed.__module__ = MOD
    with pytest.raises(SerializationError, match=f"cannot be found as {re.escape(MOD)}.no_such_function"):
        serialize(renamed)


def test_arbitrary_instance_and_bound_method_fail() -> None:
    """Instances without deconstruct() and instance-bound methods are refused."""

    class Plain:
        pass

    with pytest.raises(SerializationError, match="Plain instances cannot be written.*deconstruct"):
        serialize(Plain())
    with pytest.raises(SerializationError, match="bound to an instance"):
        serialize(Outer().method)


def test_cycle_fails() -> None:
    """A list that contains itself is refused instead of recursing forever."""
    value: list[Any] = [1]
    value.append(value)
    with pytest.raises(SerializationError, match="contains itself"):
        serialize(value)


def test_error_context_is_added() -> None:
    """add_context() names model and field in the message; the innermost wins."""
    error = SerializationError("Cannot serialize: x: hint", value="x")
    assert str(error) == "Cannot serialize: x: hint"
    error.add_context(model="books.Book", field="created")
    error.add_context(model="other.Model", field="other")
    assert (error.model, error.field) == ("books.Book", "created")
    assert str(error) == "model books.Book, field 'created': Cannot serialize: x: hint"
    restored = pickle.loads(pickle.dumps(error))
    assert str(restored) == str(error) and restored.field == "created"


# -- registry -----------------------------------------------------------------


class Celsius:
    def __init__(self, degrees: float) -> None:
        self.degrees = degrees


def test_register_serializer() -> None:
    """A registered serializer is used for its type and can be removed."""
    register_serializer(Celsius, lambda v: (f"{MOD}.Celsius({v.degrees!r})", {f"import {MOD}"}))
    try:
        text, imports = serialize({"t": Celsius(21.5)})
        assert text == f'{{"t": {MOD}.Celsius(21.5)}}' and imports == {f"import {MOD}"}
    finally:
        unregister_serializer(Celsius)
    with pytest.raises(SerializationError):
        serialize(Celsius(1))


def test_serializer_instance_accumulates_imports() -> None:
    """One Serializer collects the imports of every value it wrote."""
    writer = Serializer()
    writer.serialize(datetime.date(2024, 1, 1))
    writer.serialize(uuid.UUID(int=0))
    writer.serialize(Color.RED)
    assert writer.imports == {"import datetime", "import uuid", f"import {MOD}"}
    assert serializer_module.str_literal('a"b') == "'a\"b'"
