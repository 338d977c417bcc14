"""Turn Python values into Python source that rebuilds them.

The writer puts operations into migration files; everything an operation
holds (fields, defaults, callables, options) passes through here.  Each value
becomes an expression plus the import lines that expression needs::

    >>> serialize(datetime.date(2024, 1, 2))
    ('datetime.date(2024, 1, 2)', {'import datetime'})

What can be written is listed in SPEC §3.  Anything else (a lambda, a function
or class defined inside a function, an instance without ``deconstruct()``)
raises :class:`~shoal.exceptions.SerializationError` naming the value and how
to make it writable.  Output is deterministic: set elements are sorted by
their source text, dict order is kept, and keyword arguments of calls are
sorted by name.

Pure: imports no database driver, does no I/O.  Operations are recognised
lazily (``shoal.migrations.operations.base`` is only consulted once loaded).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import importlib
import inspect
import math
import operator
import pathlib
import re
import sys
import types
import uuid
from typing import Any, Callable, NoReturn

from shoal.exceptions import SerializationError

__all__ = [
    "Serializer",
    "migration_function",
    "register_serializer",
    "serialize",
    "unregister_serializer",
]

#: A custom serializer: value -> (source text, import lines).
SerializerFunc = Callable[[Any], "tuple[str, set[str]]"]

_custom_serializers: dict[type, SerializerFunc] = {}

MODELS_IMPORT = "from shoal import models"
MIGRATIONS_IMPORT = "from shoal import migrations"
SETTINGS_IMPORT = "from shoal.conf import settings"
_INDENT = "    "
_MISSING = object()


def register_serializer(type_: type, func: SerializerFunc) -> None:
    """Teach the serializer a new type; ``func(value)`` returns ``(source, imports)``.

    Custom serializers are consulted before the built-in ones, so they may
    also override how a built-in type is written.
    """
    _custom_serializers[type_] = func


def unregister_serializer(type_: type) -> None:
    """Forget a serializer added with :func:`register_serializer`."""
    _custom_serializers.pop(type_, None)


def serialize(value: Any) -> tuple[str, set[str]]:
    """Return ``(source, imports)`` where evaluating ``source`` after running the
    ``imports`` lines rebuilds ``value``."""
    serializer = Serializer()
    text = serializer.serialize(value)
    return text, serializer.imports


def migration_function(module_path: str, name: str) -> Any:
    """Import ``module_path`` and return its attribute ``name`` (dotted allowed).

    Written into migration files for functions that live in modules whose
    dotted path is not valid in an ``import`` statement, such as
    ``books.migrations.0002_data`` (a component starting with a digit).
    """
    found: Any = importlib.import_module(module_path)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real problem
        text = f"<{type(value).__qualname__} object>"
    return text if len(text) <= 200 else text[:197] + "..."


def _fail(value: Any, reason: str) -> NoReturn:
    raise SerializationError(f"Cannot serialize: {_short_repr(value)}: {reason}", value=value)


def str_literal(text: str) -> str:
    """A string literal for ``text``, in double quotes unless that needs escapes."""
    return _quote(repr(text), '"' in text)


def _bytes_literal(data: bytes) -> str:
    return "b" + _quote(repr(data)[1:], b'"' in data)


def _quote(literal: str, has_double_quote: bool) -> str:
    # repr() picks single quotes unless the text holds a ' and no "; with no "
    # in the text, swapping the outer quotes needs no further escaping.
    if literal[0] == "'" and not has_double_quote:
        return '"' + literal[1:-1] + '"'
    return literal


def _indent_tail(text: str, prefix: str = _INDENT) -> str:
    """Indent every line of ``text`` but the first (for nesting a multi-line value)."""
    return text.replace("\n", "\n" + prefix)


def _resolve(module: str, qualname: str) -> Any:
    """The object at ``module.qualname`` if the module is loaded; ``_MISSING`` if it
    is loaded but lacks the name; ``None`` when the module is not loaded."""
    found: Any = sys.modules.get(module)
    if found is None:
        return None
    for part in qualname.split("."):
        found = getattr(found, part, _MISSING)
        if found is _MISSING:
            return _MISSING
    return found


def _importable(module: str) -> bool:
    return all(part.isidentifier() for part in module.split("."))


def _probe(value: Any, name: str) -> Any:
    """``getattr(value, name, None)`` that survives objects whose ``__getattr__``
    does work (a manager proxies to a queryset) and may raise anything."""
    try:
        return getattr(value, name, None)
    except Exception:
        return None


def _is_operation(value: Any) -> bool:
    base = getattr(sys.modules.get("shoal.migrations.operations.base"), "Operation", None)
    if base is not None and isinstance(value, base):
        return True
    kind = type(value)
    # Looked up on the class: operations define these as methods.
    return all(
        callable(getattr(kind, name, None)) for name in ("deconstruct", "state_forwards", "database_forwards")
    )


def _positional_names(cls: type) -> list[str]:
    """Names of the ``__init__`` parameters that may be given positionally."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds]


def _operation_model(op: Any) -> str | None:
    model = getattr(op, "model_name", None)
    if model is None and hasattr(op, "fields"):
        model = getattr(op, "name", None)
    return model if isinstance(model, str) else None


class Serializer:
    """One serialization run: collects the imports of everything it writes.

    Use :func:`serialize` for a single value; the writer uses one instance for
    a whole migration so the imports accumulate in :attr:`imports`.
    """

    def __init__(self) -> None:
        self.imports: set[str] = set()
        self._active: set[int] = set()  # containers being written, to catch cycles

    # -- dispatch ----------------------------------------------------------

    def serialize(self, value: Any) -> str:
        """Source text for ``value``; adds what it needs to :attr:`imports`."""
        for type_, func in _custom_serializers.items():
            if isinstance(value, type_):
                text, imports = func(value)
                self.imports.update(imports)
                return text
        if isinstance(value, type):
            return self._type(value)
        kind = type(value)
        if getattr(kind, "is_shoal_field", False) or getattr(kind, "is_shoal_manager", False):
            return self._deconstructed(value)
        setting = _probe(value, "setting_name")
        if isinstance(setting, str):
            self.imports.add(SETTINGS_IMPORT)
            return f"settings.{setting}"
        if isinstance(value, tuple) and isinstance(_probe(value, "setting"), str):
            self.imports.update({SETTINGS_IMPORT, MIGRATIONS_IMPORT})
            return f"migrations.swappable_dependency(settings.{value.setting})"  # type: ignore[attr-defined]
        if getattr(kind, "_shoal_choices", False) and isinstance(value, enum.Enum):
            # A models.TextChoices/IntegerChoices member is written as its plain value.
            return self.serialize(value.value)
        if _is_operation(value):
            return self.operation(value)
        if callable(_probe(value, "deconstruct")):
            return self._deconstructed(value)
        for type_, method in _BUILTIN_DISPATCH:
            if isinstance(value, type_):
                return method(self, value)
        if callable(value) and _probe(value, "__qualname__") is not None:
            return self._callable(value)
        _fail(
            value,
            f"{type(value).__qualname__} instances cannot be written into a migration file; give the "
            "class a deconstruct() method returning (path, args, kwargs), for example with "
            "@deconstructible (from shoal.deconstruct import deconstructible), or register a "
            "serializer with shoal.migrations.serializer.register_serializer().",
        )

    # -- references to importable things -----------------------------------

    def module_attr(self, module: str, qualname: str) -> str:
        """An expression for ``module.qualname``, recording the import it needs."""
        if module == "builtins":
            return qualname
        head = qualname.split(".")[0]
        for package, alias, line in (
            ("shoal.models", "models", MODELS_IMPORT),
            ("shoal.migrations", "migrations", MIGRATIONS_IMPORT),
        ):
            if module == package or module.startswith(package + "."):
                target = _resolve(module, head)
                if module == package or (
                    target not in (None, _MISSING) and _resolve(package, head) is target
                ):
                    self.imports.add(line)
                    return f"{alias}.{qualname}"
        if not _importable(module):
            self.imports.add("import shoal.migrations.serializer")
            return (
                "shoal.migrations.serializer.migration_function("
                f"{str_literal(module)}, {str_literal(qualname)})"
            )
        self.imports.add(f"import {module}")
        return f"{module}.{qualname}"

    def path(self, dotted: str) -> str:
        """An expression for a dotted import path such as ``app.fields.MyField``."""
        for package, alias, line in (
            ("shoal.models.", "models.", MODELS_IMPORT),
            ("shoal.migrations.", "migrations.", MIGRATIONS_IMPORT),
        ):
            if dotted.startswith(package) and "." not in dotted[len(package):]:
                self.imports.add(line)
                return alias + dotted[len(package) :]
        parts = dotted.split(".")
        # The longest loaded prefix is the module; the rest may be nested classes.
        for cut in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:cut]) in sys.modules:
                break
        else:
            cut = len(parts) - 1
        return self.module_attr(".".join(parts[:cut]), ".".join(parts[cut:]))

    def _checked_reference(self, value: Any, module: str | None, qualname: str, kind: str) -> str:
        if "<lambda>" in qualname:
            _fail(
                value,
                "lambdas cannot be written into a migration file; move the callable to module "
                "level (def ...) and refer to it by name.",
            )
        if "<locals>" in qualname or "<" in qualname:
            _fail(
                value,
                f"the {kind} is defined inside a function ({qualname}), so a migration cannot "
                f"import it; move the {kind} to module level and refer to it by name.",
            )
        if not module:
            _fail(value, f"the {kind} has no __module__ to import it from; use a module-level {kind}.")
        if module == "__main__":
            _fail(
                value,
                f"the {kind} is defined in __main__, which a migration cannot import; move it into "
                "an importable module.",
            )
        found = _resolve(module, qualname)
        if found is _MISSING or (found is not None and found is not value and found != value):
            _fail(
                value,
                f"the {kind} cannot be found as {module}.{qualname}; a migration can only refer to "
                f"a {kind} reachable by that name from its module (define it at module level, or "
                "in the body of a module-level class).",
            )
        return self.module_attr(module, qualname)

    def _type(self, value: type) -> str:
        if value is type(None):
            return "type(None)"
        return self._checked_reference(value, value.__module__, value.__qualname__, "class")

    def _callable(self, value: Any) -> str:
        owner = getattr(value, "__self__", None)
        name = getattr(value, "__name__", "")
        if isinstance(owner, type):  # classmethod, or a builtin such as datetime.datetime.now
            if getattr(owner, name, None) != value:
                _fail(value, f"it cannot be found as {owner.__qualname__}.{name}.")
            return f"{self._type(owner)}.{name}"
        module = getattr(value, "__module__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            # A method bound to an instance: only writable if the module exposes it.
            if module and _resolve(module, name) not in (None, _MISSING) and _resolve(module, name) == value:
                return self.module_attr(module, name)
            _fail(
                value,
                "methods bound to an instance cannot be written into a migration file; use a "
                "module-level function, a staticmethod or a classmethod instead.",
            )
        return self._checked_reference(value, module, value.__qualname__, "function")

    # -- calls -------------------------------------------------------------

    def call(self, func: str, args: Any, kwargs: dict[str, Any], sort: bool = True) -> str:
        """``func(args..., key=value...)`` on one line; keywords sorted by name."""
        parts = [self.serialize(arg) for arg in args]
        items = sorted(kwargs.items()) if sort else list(kwargs.items())
        odd: dict[str, Any] = {}
        for key, arg in items:
            if isinstance(key, str) and key.isidentifier():
                parts.append(f"{key}={self.serialize(arg)}")
            else:
                odd[key] = arg
        if odd:
            parts.append("**" + self.serialize(odd))
        return f"{func}({', '.join(parts)})"

    def _deconstructed(self, value: Any) -> str:
        try:
            result = value.deconstruct()
        except SerializationError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            _fail(value, f"its deconstruct() failed: {exc}")
        if not isinstance(result, (tuple, list)) or len(result) not in (3, 4, 5):
            _fail(value, f"its deconstruct() returned {result!r}; expected (path, args, kwargs).")
        if len(result) == 5:  # a manager: (as_manager, manager_path, qs_path, args, kwargs)
            as_manager, manager_path, qs_path, args, kwargs = result
            if as_manager:
                return f"{self.path(qs_path)}.as_manager()"
            return self.call(self.path(manager_path), args, kwargs)
        path, args, kwargs = result[-3:]  # a field's 4-tuple starts with its name
        if not isinstance(path, str) or "." not in path:
            _fail(value, f"its deconstruct() returned the path {path!r}; expected a dotted import path.")
        return self.call(self.path(path), args, kwargs)

    def operation(self, op: Any) -> str:
        """An operation over several lines: one argument per line, and the
        arguments in ``serialization_expand_args`` one item per line."""
        name, args, kwargs = op.deconstruct()
        cls = type(op)
        if "." in name:
            func = self.path(name)
        elif cls.__module__ == "shoal.migrations" or cls.__module__.startswith("shoal.migrations."):
            self.imports.add(MIGRATIONS_IMPORT)
            func = f"migrations.{name}"
        else:
            func = self._type(cls)
        if not args and not kwargs:
            return f"{func}()"
        expand = set(getattr(op, "serialization_expand_args", None) or ())
        positional = _positional_names(cls)
        lines = [f"{func}("]
        for index, arg in enumerate(args):
            pname = positional[index] if index < len(positional) else None
            lines.append(_INDENT + _indent_tail(self._operation_arg(op, pname, arg, pname in expand)) + ",")
        for key, arg in kwargs.items():
            text = self._operation_arg(op, key, arg, key in expand)
            lines.append(f"{_INDENT}{key}={_indent_tail(text)},")
        lines.append(")")
        return "\n".join(lines)

    def _operation_arg(self, op: Any, pname: str | None, value: Any, expand: bool) -> str:
        model = _operation_model(op)
        field = getattr(op, "name", None) if pname == "field" else None
        if isinstance(value, (list, tuple)) and any(_is_operation(item) for item in value):
            expand = True  # nested operations span lines: give each its own
        try:
            if not (expand and isinstance(value, (list, tuple, dict)) and value):
                return self.serialize(value)
            if isinstance(value, dict):
                items = [f"{self.serialize(k)}: {self.serialize(v)}" for k, v in value.items()]
                opening, closing = "{", "}"
            else:
                items = [self._expanded_item(pname, item) for item in value]
                opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
            body = "".join(f"\n{_INDENT}{_indent_tail(item)}," for item in items)
            return f"{opening}{body}\n{closing}"
        except SerializationError as exc:
            raise exc.add_context(model=model, field=field if isinstance(field, str) else None)

    def _expanded_item(self, pname: str | None, item: Any) -> str:
        if pname == "fields" and isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            try:
                return self.serialize(item)
            except SerializationError as exc:
                raise exc.add_context(field=item[0])
        return self.serialize(item)

    # -- containers --------------------------------------------------------

    def _enter(self, value: Any) -> None:
        if id(value) in self._active:
            _fail(value, "the container contains itself; a migration cannot write a cycle.")
        self._active.add(id(value))

    def _sequence(self, value: Any) -> str:
        self._enter(value)
        try:
            items = [self.serialize(item) for item in value]
        finally:
            self._active.discard(id(value))
        if isinstance(value, list):
            return f"[{', '.join(items)}]"
        if isinstance(value, tuple):
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        items.sort()
        if isinstance(value, frozenset):
            return f"frozenset([{', '.join(items)}])" if items else "frozenset()"
        return f"{{{', '.join(items)}}}" if items else "set()"

    def _dict(self, value: dict[Any, Any]) -> str:
        self._enter(value)
        try:
            items = [f"{self.serialize(k)}: {self.serialize(v)}" for k, v in value.items()]
        finally:
            self._active.discard(id(value))
        return f"{{{', '.join(items)}}}"

    # -- scalars -----------------------------------------------------------

    def _repr(self, value: Any) -> str:
        return repr(value)

    def _int(self, value: int) -> str:
        return int.__repr__(value)

    def _float(self, value: float) -> str:
        if math.isnan(value) or math.isinf(value):
            return f'float("{value!r}")'
        return float.__repr__(value)

    def _complex(self, value: complex) -> str:
        return f"complex({self._float(value.real)}, {self._float(value.imag)})"

    def _str(self, value: str) -> str:
        return str_literal(str.__str__(value))

    def _bytes(self, value: bytes) -> str:
        if isinstance(value, bytearray):
            return f"bytearray({_bytes_literal(bytes(value))})"
        return _bytes_literal(bytes(value))

    def _decimal(self, value: decimal.Decimal) -> str:
        self.imports.add("import decimal")
        return f"decimal.Decimal({str_literal(str(value))})"

    def _uuid(self, value: uuid.UUID) -> str:
        self.imports.add("import uuid")
        return f"uuid.UUID({str_literal(str(value))})"

    def _enum(self, value: enum.Enum) -> str:
        cls_expr = self._type(type(value))
        name = value._name_
        if isinstance(value, enum.Flag) and (name is None or "|" in name):
            members = list(value)
            if members and functools.reduce(operator.or_, members) == value:
                return " | ".join(f"{cls_expr}[{str_literal(m._name_)}]" for m in members)
            return f"{cls_expr}({self.serialize(value._value_)})"
        return f"{cls_expr}[{str_literal(name)}]"

    def _path(self, value: pathlib.PurePath) -> str:
        # Concrete paths become pure ones so a file written on one OS loads on another.
        cls = "PureWindowsPath" if isinstance(value, pathlib.PureWindowsPath) else "PurePosixPath"
        self.imports.add("import pathlib")
        return f"pathlib.{cls}({str_literal(str(value))})"

    def _regex(self, value: re.Pattern[Any]) -> str:
        self.imports.add("import re")
        flags = value.flags
        if isinstance(value.pattern, str):
            flags &= ~re.UNICODE  # implied for str patterns; re.compile adds it
        names = []
        for flag in re.RegexFlag:
            if flag.value and flags & flag.value == flag.value:
                names.append(f"re.{flag.name}")
                flags &= ~flag.value
        if flags:
            names.append(str(flags))
        pattern = self.serialize(value.pattern)
        return f"re.compile({pattern}, {' | '.join(names)})" if names else f"re.compile({pattern})"

    def _partial(self, value: Any) -> str:
        self.imports.add("import functools")
        kind = "partialmethod" if isinstance(value, functools.partialmethod) else "partial"
        return self.call(f"functools.{kind}", (value.func, *value.args), dict(value.keywords))

    # -- dates and times ---------------------------------------------------

    def _tzinfo(self, value: datetime.tzinfo) -> str:
        self.imports.add("import datetime")
        if value is datetime.timezone.utc:
            return "datetime.timezone.utc"
        if isinstance(value, datetime.timezone):
            offset = value.utcoffset(None)
            if offset == datetime.timedelta(0) and value.tzname(None) == "UTC":
                return "datetime.timezone.utc"
            name = value.tzname(None)
            default = datetime.timezone(offset).tzname(None)
            args = [self.serialize(offset)] + ([str_literal(name)] if name != default else [])
            return f"datetime.timezone({', '.join(args)})"
        key = getattr(value, "key", None)
        if type(value).__module__ == "zoneinfo" and isinstance(key, str):
            self.imports.add("import zoneinfo")
            return f"zoneinfo.ZoneInfo({str_literal(key)})"
        _fail(value, "only datetime.timezone and zoneinfo.ZoneInfo time zones can be written.")

    def _with_tz(self, naive_repr: str, tzinfo: datetime.tzinfo | None) -> str:
        if tzinfo is None:
            return naive_repr
        return f"{naive_repr[:-1]}, tzinfo={self._tzinfo(tzinfo)})"

    def _datetime(self, value: datetime.datetime) -> str:
        self.imports.add("import datetime")
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(datetime.timezone.utc)  # stored as UTC, as Django does
        # Rebuilt as a plain datetime so that subclasses print as datetime.datetime(...).
        naive = datetime.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            fold=value.fold,
        )
        return self._with_tz(repr(naive), value.tzinfo)

    def _date(self, value: datetime.date) -> str:
        self.imports.add("import datetime")
        return f"datetime.date({value.year}, {value.month}, {value.day})"

    def _time(self, value: datetime.time) -> str:
        self.imports.add("import datetime")
        naive = datetime.time(value.hour, value.minute, value.second, value.microsecond, fold=value.fold)
        return self._with_tz(repr(naive), value.tzinfo)

    def _timedelta(self, value: datetime.timedelta) -> str:
        self.imports.add("import datetime")
        return repr(value)


# Order matters: bool before int, enums before int and str, datetime before date.
_BUILTIN_DISPATCH: list[tuple[type | tuple[type, ...], Callable[[Serializer, Any], str]]] = [
    (enum.Enum, Serializer._enum),
    ((bool, type(None), range), Serializer._repr),
    (int, Serializer._int),
    (float, Serializer._float),
    (complex, Serializer._complex),
    (decimal.Decimal, Serializer._decimal),
    (str, Serializer._str),
    ((bytes, bytearray), Serializer._bytes),
    (datetime.datetime, Serializer._datetime),
    (datetime.date, Serializer._date),
    (datetime.time, Serializer._time),
    (datetime.timedelta, Serializer._timedelta),
    (datetime.tzinfo, Serializer._tzinfo),
    (uuid.UUID, Serializer._uuid),
    (pathlib.PurePath, Serializer._path),
    (re.Pattern, Serializer._regex),
    ((functools.partial, functools.partialmethod), Serializer._partial),
    (dict, Serializer._dict),
    ((list, tuple, set, frozenset), Serializer._sequence),
]
