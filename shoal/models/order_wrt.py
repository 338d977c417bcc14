"""``Meta.order_with_respect_to``: the implicit ``_order`` column.

A model ordered with respect to a relation gets an integer column ``_order``
(as in Django): the position of a row among the rows sharing the same value
of that relation.  The column is never declared by the user and never
written into migration files; it exists because of the option, so the model
class, the migration state and the schema editor all add it from the option.
"""

from __future__ import annotations

from typing import Any

from shoal.models.fields import IntegerField

ORDER_FIELD = "_order"


class OrderWrt(IntegerField):
    """The ``_order`` column: not editable, filled on insert with the row's position."""

    is_order_wrt = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["name"] = ORDER_FIELD
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "IntegerField"

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, "shoal.models.order_wrt.OrderWrt", args, kwargs

    def pre_save(self, instance: Any, add: bool) -> Any:
        """A new row goes last among the rows with the same related value."""
        value = getattr(instance, str(self.attname), None)
        if add and value is None:
            opts = instance._meta
            wrt = opts.get_field(opts.order_with_respect_to)
            manager = type(instance)._base_manager
            value = manager.filter(**{wrt.attname: getattr(instance, wrt.attname)}).count()
            setattr(instance, str(self.attname), value)
        return value


def is_order_field(name: str, field: Any) -> bool:
    """Whether ``field`` is the implicit ``_order`` column (not a declared field)."""
    return name == ORDER_FIELD and getattr(field, "is_order_wrt", False)


def contribute_order_field(cls: Any) -> None:
    """Add ``_order`` to a concrete model class with ``order_with_respect_to``."""
    opts = cls._meta
    if not opts.order_with_respect_to or opts.abstract or opts.proxy:
        return
    if any(f.name == ORDER_FIELD for f in opts.local_fields):
        return
    OrderWrt().contribute_to_class(cls, ORDER_FIELD)
    if not opts.ordering:
        opts.ordering = [ORDER_FIELD]
