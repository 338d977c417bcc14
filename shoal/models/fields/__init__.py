"""Model fields: what a column is, independent of any database.

A field knows its options, how to describe itself as constructor arguments
(:meth:`Field.deconstruct`, the basis of migration files and of change
detection) and which *internal type* it has.  The column type for a given
database is looked up in that backend's ``data_types`` table, so fields never
branch on the vendor.
"""

from __future__ import annotations

import copy
import datetime
import decimal
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from shoal.exceptions import ImproperlyConfigured


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


class IntegerField(Field):
    empty_strings_allowed = False

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else int(value)


class BigIntegerField(IntegerField):
    pass


class SmallIntegerField(IntegerField):
    pass


class _PositiveRelTypeMixin:
    """A foreign key to a positive integer gets the plain integer type where
    the backend does not insist that related types match (as Django does)."""

    def rel_db_type(self, connection: Any) -> str | None:
        if connection.features.related_fields_match_type:
            return self.db_type(connection)  # type: ignore[attr-defined]
        return self._plain_rel_class().db_type(connection)  # type: ignore[attr-defined]


class PositiveIntegerField(_PositiveRelTypeMixin, IntegerField):
    def _plain_rel_class(self) -> Field:
        return IntegerField()


class PositiveSmallIntegerField(_PositiveRelTypeMixin, SmallIntegerField):
    def _plain_rel_class(self) -> Field:
        return SmallIntegerField()


class PositiveBigIntegerField(_PositiveRelTypeMixin, BigIntegerField):
    def _plain_rel_class(self) -> Field:
        return BigIntegerField()


class AutoFieldMixin:
    """Auto-incrementing primary keys: always ``primary_key`` and never blank."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blank"] = True
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        kwargs.pop("blank", None)
        kwargs["primary_key"] = True
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type, name: str) -> None:
        if not self.primary_key:  # type: ignore[attr-defined]
            raise ImproperlyConfigured(
                f"{cls.__name__}.{name}: {self.__class__.__name__} must set primary_key=True."
            )
        super().contribute_to_class(cls, name)  # type: ignore[misc]


class AutoField(AutoFieldMixin, IntegerField):
    def rel_db_type(self, connection: Any) -> str | None:
        return IntegerField().db_type(connection)


class BigAutoField(AutoFieldMixin, BigIntegerField):
    def rel_db_type(self, connection: Any) -> str | None:
        return BigIntegerField().db_type(connection)


class SmallAutoField(AutoFieldMixin, SmallIntegerField):
    def rel_db_type(self, connection: Any) -> str | None:
        return SmallIntegerField().db_type(connection)


# -- other scalars ----------------------------------------------------------


class FloatField(Field):
    empty_strings_allowed = False

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else float(value)


class DecimalField(Field):
    empty_strings_allowed = False

    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.max_digits, self.decimal_places = max_digits, decimal_places
        super().__init__(verbose_name, name, **kwargs)

    def _own_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.max_digits is not None:
            out["max_digits"] = self.max_digits
        if self.decimal_places is not None:
            out["decimal_places"] = self.decimal_places
        return out

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, decimal.Decimal):
            return value
        return decimal.Decimal(str(value))

    def get_prep_value(self, value: Any) -> Any:
        return self.to_python(value)


class BooleanField(Field):
    empty_strings_allowed = False

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else bool(value)

    def from_db_value(self, value: Any, connection: Any) -> Any:
        return None if value is None else bool(value)


class CharField(Field):
    def __init__(self, *args: Any, db_collation: str | None = None, **kwargs: Any) -> None:
        self.db_collation = db_collation
        super().__init__(*args, **kwargs)

    def _own_kwargs(self) -> dict[str, Any]:
        return {"db_collation": self.db_collation} if self.db_collation else {}

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else str(value)


class SlugField(CharField):
    def __init__(self, *args: Any, max_length: int = 50, db_index: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, db_index=db_index, **kwargs)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 50:
            del kwargs["max_length"]
        if self.db_index:
            kwargs.pop("db_index", None)
        else:
            kwargs["db_index"] = False
        return name, path, args, kwargs


class EmailField(CharField):
    def __init__(self, *args: Any, max_length: int = 254, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)

    def get_internal_type(self) -> str:
        return "CharField"


class URLField(CharField):
    def __init__(self, *args: Any, max_length: int = 200, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 200:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "CharField"


class TextField(Field):
    def __init__(self, *args: Any, db_collation: str | None = None, **kwargs: Any) -> None:
        self.db_collation = db_collation
        super().__init__(*args, **kwargs)

    def _own_kwargs(self) -> dict[str, Any]:
        return {"db_collation": self.db_collation} if self.db_collation else {}

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else str(value)


class _DateTimeBase(Field):
    """Date/time fields with ``auto_now``/``auto_now_add`` (which imply editable=False, blank=True)."""

    empty_strings_allowed = False

    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Any,
    ) -> None:
        self.auto_now, self.auto_now_add = auto_now, auto_now_add
        if auto_now or auto_now_add:
            kwargs["editable"] = False
            kwargs["blank"] = True
        super().__init__(verbose_name, name, **kwargs)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.auto_now:
            kwargs["auto_now"] = True
        if self.auto_now_add:
            kwargs["auto_now_add"] = True
        if self.auto_now or self.auto_now_add:
            kwargs.pop("editable", None)
            kwargs.pop("blank", None)
        return name, path, args, kwargs

    def _now(self) -> Any:
        raise NotImplementedError

    def pre_save(self, instance: Any, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = self._now()
            setattr(instance, self.attname, value)  # type: ignore[arg-type]
            return value
        return getattr(instance, self.attname)  # type: ignore[arg-type]


class DateField(_DateTimeBase):
    def _now(self) -> Any:
        return datetime.date.today()


class DateTimeField(_DateTimeBase):
    def _now(self) -> Any:
        return datetime.datetime.now(datetime.timezone.utc)


class TimeField(_DateTimeBase):
    def _now(self) -> Any:
        return datetime.datetime.now().time()


class DurationField(Field):
    empty_strings_allowed = False


class BinaryField(Field):
    empty_strings_allowed = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.editable:
            kwargs["editable"] = True
        else:
            kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_default(self) -> Any:
        if self.has_default() and not callable(self.default):
            return self.default
        default = super().get_default()
        return b"" if default == "" else default


class UUIDField(Field):
    empty_strings_allowed = False

    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(verbose_name, **kwargs)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 32:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Any:
        import uuid  # here: only UUID values need it, and it loads platform (milliseconds per command)

        if value is None or isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(str(value))

    def get_prep_value(self, value: Any) -> Any:
        return self.to_python(value)


class JSONField(Field):
    empty_strings_allowed = False

    def __init__(self, verbose_name: str | None = None, name: str | None = None,
                 encoder: Any = None, decoder: Any = None, **kwargs: Any) -> None:
        self.encoder, self.decoder = encoder, decoder
        super().__init__(verbose_name, name, **kwargs)

    def _own_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.encoder is not None:
            out["encoder"] = self.encoder
        if self.decoder is not None:
            out["decoder"] = self.decoder
        return out


class GenericIPAddressField(Field):
    empty_strings_allowed = False

    def __init__(self, verbose_name: str | None = None, name: str | None = None,
                 protocol: str = "both", unpack_ipv4: bool = False, **kwargs: Any) -> None:
        self.protocol, self.unpack_ipv4 = protocol, unpack_ipv4
        kwargs.setdefault("max_length", 39)
        super().__init__(verbose_name, name, **kwargs)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 39:
            del kwargs["max_length"]
        if self.protocol != "both":
            kwargs["protocol"] = self.protocol
        if self.unpack_ipv4:
            kwargs["unpack_ipv4"] = True
        return name, path, args, kwargs


from shoal.models.fields.related import (  # noqa: E402  (related builds on Field)
    CASCADE, DO_NOTHING, PROTECT, RESTRICT, SET, SET_DEFAULT, SET_NULL,
    ForeignKey, ForeignObjectRel, ManyToManyField, OneToOneField,
)

__all__ = [
    "NOT_PROVIDED", "Field", "AutoField", "BigAutoField", "SmallAutoField",
    "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "PositiveBigIntegerField", "FloatField",
    "DecimalField", "BooleanField", "CharField", "SlugField", "EmailField",
    "URLField", "TextField", "DateField", "DateTimeField", "TimeField",
    "DurationField", "BinaryField", "UUIDField", "JSONField",
    "GenericIPAddressField", "ForeignKey", "OneToOneField", "ManyToManyField",
    "ForeignObjectRel", "CASCADE", "PROTECT", "SET_NULL", "SET_DEFAULT", "SET",
    "DO_NOTHING", "RESTRICT",
]


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
