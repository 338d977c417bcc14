"""The :class:`Field` base class: options, ``deconstruct()``, column types.

A field knows its options, how to describe itself as constructor arguments
(:meth:`Field.deconstruct`, the basis of migration files and of change
detection) and which *internal type* it has.  The column type for a given
database is looked up in that backend's ``data_types`` table, so fields never
branch on the vendor.  The concrete field classes are in the package's
``__init__``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar


class NOT_PROVIDED:
    """Sentinel for "no default given" (distinct from ``None``)."""


# Constructor options with their defaults; deconstruct() writes only those that differ.
_FIELD_DEFAULTS: dict[str, Any] = {
    "verbose_name": None,
    "primary_key": False,
    "max_length": None,
    "unique": False,
    "blank": False,
    "null": False,
    "db_index": False,
    "default": NOT_PROVIDED,
    "db_default": NOT_PROVIDED,
    "editable": True,
    "serialize": True,
    "choices": None,
    "help_text": "",
    "db_column": None,
    "db_comment": None,
    "db_tablespace": None,
    "auto_created": False,
    "validators": [],
    "error_messages": None,
    "unique_for_date": None,
    "unique_for_month": None,
    "unique_for_year": None,
}


# (keyword, instance attribute, default) in the order deconstruct() writes them.
_DECONSTRUCT_OPTIONS: tuple[tuple[str, str, Any], ...] = tuple(
    (key, {"verbose_name": "_verbose_name", "unique": "_unique", "validators": "_validators",
           "error_messages": "_error_messages"}.get(key, key), default)
    for key, default in _FIELD_DEFAULTS.items()
)


_INTERNAL_TYPES: dict[type, str] = {}


class Field:
    """Base of every model field.

    Fields are plain values: two fields with equal ``deconstruct()`` output are
    the same field as far as migrations are concerned.
    """

    is_shoal_field: ClassVar[bool] = True
    is_relation: ClassVar[bool] = False
    many_to_many: ClassVar[bool] = False
    empty_strings_allowed: ClassVar[bool] = True
    # Monotonic counter keeps declaration order of fields in a class body.
    creation_counter: ClassVar[int] = 0
    auto_creation_counter: ClassVar[int] = -1
    # Options that never reach the schema; AlterField on these needs no SQL.
    non_db_attrs: ClassVar[tuple[str, ...]] = (
        "blank", "choices", "editable", "error_messages", "help_text",
        "limit_choices_to", "on_delete", "related_name", "related_query_name",
        "validators", "verbose_name", "serialize", "unique_for_date",
        "unique_for_month", "unique_for_year",
    )

    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        primary_key: bool = False,
        max_length: int | None = None,
        unique: bool = False,
        blank: bool = False,
        null: bool = False,
        db_index: bool = False,
        default: Any = NOT_PROVIDED,
        db_default: Any = NOT_PROVIDED,
        editable: bool = True,
        serialize: bool = True,
        choices: Any = None,
        help_text: str = "",
        db_column: str | None = None,
        db_comment: str | None = None,
        db_tablespace: str | None = None,
        auto_created: bool = False,
        validators: Any = (),
        error_messages: dict[str, str] | None = None,
        unique_for_date: str | None = None,
        unique_for_month: str | None = None,
        unique_for_year: str | None = None,
    ) -> None:
        self.name = name  # type: ignore[assignment]
        self.verbose_name = verbose_name
        self._verbose_name = verbose_name  # as given, for deconstruct()
        self.primary_key = primary_key
        self.max_length = max_length
        self._unique = unique
        self.blank = blank
        self.null = null
        self.db_index = db_index
        self.default = default
        self.db_default = db_default
        self.editable = editable
        self.serialize = serialize
        if choices is not None and not isinstance(choices, (list, tuple, dict)):
            # An enum-like Choices class or a generator: keep a plain list.
            choices = list(getattr(choices, "choices", choices))
        self.choices = choices
        self.help_text = help_text
        self.db_column = db_column
        self.db_comment = db_comment
        self.db_tablespace = db_tablespace
        self.auto_created = auto_created
        self._validators = list(validators)
        self._error_messages = error_messages
        self.unique_for_date = unique_for_date
        self.unique_for_month = unique_for_month
        self.unique_for_year = unique_for_year
        self.model: Any = None
        self.attname: str | None = None
        self.column: str | None = None
        # Auto-created fields (implicit ``id``, parent links) sort before declared ones.
        if auto_created:
            self.creation_counter = Field.auto_creation_counter
            Field.auto_creation_counter -= 1
        else:
            self.creation_counter = Field.creation_counter
            Field.creation_counter += 1

    # -- identity ---------------------------------------------------------

    @property
    def unique(self) -> bool:
        return self._unique or self.primary_key

    @property
    def validators(self) -> list[Any]:
        return self._validators

    @property
    def error_messages(self) -> dict[str, str] | None:
        return self._error_messages

    def get_internal_type(self) -> str:
        """The key of this field in a backend's ``data_types`` table: the nearest
        built-in field class, so a custom ``UpperField(CharField)`` is a CharField
        (a direct subclass of Field is known by its own name, as in Django)."""
        cls = type(self)
        known = _INTERNAL_TYPES.get(cls)
        if known is not None:
            return known
        found = cls.__name__
        for klass in cls.__mro__:
            if klass is Field:
                break
            if klass.__module__.startswith("shoal.models.fields") and not klass.__name__.startswith("_") \
                    and not klass.__name__.endswith("Mixin"):
                found = klass.__name__
                break
        _INTERNAL_TYPES[cls] = found  # a class's answer never changes: asked per field by the checks
        return found

    def has_default(self) -> bool:
        return self.default is not NOT_PROVIDED

    def has_db_default(self) -> bool:
        return self.db_default is not NOT_PROVIDED

    def get_default(self) -> Any:
        """The Python default for new rows (callables are called)."""
        if self.has_default():
            return self.default() if callable(self.default) else self.default
        if self.has_db_default() or not self.empty_strings_allowed or self.null:
            return None  # with a db_default, None leaves the column to the database on insert
        return ""

    def set_attributes_from_name(self, name: str) -> None:
        self.name = self.name or name
        self.attname = self.get_attname()
        self.column = self.db_column or self.attname
        if self.verbose_name is None and self.name:
            self.verbose_name = self.name.replace("_", " ")

    def get_attname(self) -> str:
        return self.name

    def get_attname_column(self) -> tuple[str, str]:
        attname = self.get_attname()
        return attname, self.db_column or attname

    def contribute_to_class(self, cls: type, name: str) -> None:
        """Bind this field to a model class (called by the model metaclass)."""
        self.set_attributes_from_name(name)
        self.model = cls
        cls._meta.add_field(self)  # type: ignore[attr-defined]

    # -- migrations -------------------------------------------------------

    def _own_kwargs(self) -> dict[str, Any]:
        """Options this field class adds beyond the common ones (override)."""
        return {}

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        """Return ``(name, import path, args, kwargs)`` that rebuild this field.

        Only options that differ from their defaults are included; this runs
        for every field on every comparison, so it stays a flat loop."""
        kwargs: dict[str, Any] = {}
        values = self.__dict__
        for key, attr, default in _DECONSTRUCT_OPTIONS:
            value = values[attr]
            if value is default:
                continue
            if key == "validators":
                if value:
                    kwargs[key] = list(value)
                continue
            if key == "choices" and isinstance(value, dict):
                value = list(value.items())
            if value != default:
                kwargs[key] = value
        own = self._own_kwargs()
        if own:
            kwargs.update(own)
        path = type(self).__dict__.get("_shoal_path") or self._import_path()
        return self.name, path, [], kwargs

    def _import_path(self) -> str:
        cls = self.__class__
        module = cls.__module__
        if module.startswith("shoal.models"):
            module = "shoal.models"
        path = f"{module}.{cls.__qualname__}"
        cls._shoal_path = path  # type: ignore[attr-defined]  # per-class memo (own __dict__)
        return path

    def clone(self) -> "Field":
        """A fresh, unbound copy built from ``deconstruct()``."""
        name, _path, args, kwargs = self.deconstruct()
        return self.__class__(*args, **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Field":
        obj = copy.copy(self)
        memo[id(self)] = obj
        obj._validators = list(self._validators)
        return obj

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Field):
            return self.creation_counter == other.creation_counter and self.model is other.model
        return NotImplemented

    def __lt__(self, other: "Field") -> bool:
        return self.creation_counter < other.creation_counter

    def __hash__(self) -> int:
        return hash(self.creation_counter)

    def __repr__(self) -> str:
        path = f"{self.__class__.__module__}.{self.__class__.__qualname__}"
        return f"<{path}: {self.name}>" if self.name else f"<{path}>"

    # -- database ---------------------------------------------------------

    def db_type_parameters(self, connection: Any) -> Mapping[str, Any]:
        """The values a type template's ``%(name)s`` placeholders stand for: the
        field's attributes, read when the template asks (a migration run formats
        tens of thousands of column types; copying every field's ``__dict__`` for
        each showed in profiles)."""
        return _AttributeMapping(self)

    def db_type(self, connection: Any) -> str | None:
        """Column type on ``connection``'s backend (None: no column)."""
        template = connection.data_types.get(self.get_internal_type())
        if template is None:
            return None
        return template % self.db_type_parameters(connection)

    def rel_db_type(self, connection: Any) -> str | None:
        """Column type of a foreign key pointing at this field."""
        return self.db_type(connection)

    def db_check(self, connection: Any) -> str | None:
        """Column-level CHECK expression for this type on the backend, if any."""
        template = connection.data_type_check_constraints.get(self.get_internal_type())
        if template is None:
            return None
        return template % self.db_type_parameters(connection)

    def db_type_suffix(self, connection: Any) -> str | None:
        return connection.data_types_suffix.get(self.get_internal_type())

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        return {"type": self.db_type(connection), "check": self.db_check(connection)}

    # -- python values ----------------------------------------------------

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        """Python value -> the value passed as a query parameter."""
        return value

    def from_db_value(self, value: Any, connection: Any) -> Any:
        """Database value -> Python value (after the driver's conversion)."""
        if value is None:
            return None
        return connection.ops.convert_value(value, self.get_internal_type())

    def get_db_prep_value(self, value: Any, connection: Any) -> Any:
        value = self.get_prep_value(value)
        if value is None:
            return None
        return connection.ops.adapt_value(value, self.get_internal_type())


# -- integers ---------------------------------------------------------------


class _AttributeMapping(Mapping[str, Any]):
    """An object's attributes as a read-only mapping (for ``template % mapping``)."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self._obj, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(vars(self._obj))

    def __len__(self) -> int:
        return len(vars(self._obj))
