"""Model fields: the concrete field classes (``models.CharField`` ...).

:class:`Field` itself, ``NOT_PROVIDED`` and how a field deconstructs live in
:mod:`shoal.models.fields.base`; the names are re-exported here.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from shoal.exceptions import ImproperlyConfigured
from shoal.models.fields.base import NOT_PROVIDED, Field

__all__ = [
    "NOT_PROVIDED", "Field", "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "PositiveBigIntegerField", "AutoField", "BigAutoField", "SmallAutoField",
    "FloatField", "DecimalField", "BooleanField", "CharField", "SlugField", "EmailField", "URLField", "TextField",
    "DateField", "DateTimeField", "TimeField", "DurationField", "BinaryField", "UUIDField", "JSONField",
    "GenericIPAddressField",
]


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
