"""Relation fields: ForeignKey, OneToOneField, ManyToManyField.

In migration state a relation names its target as ``"app_label.modelname"``;
on a model class it may also be a class, ``"self"`` or a bare model name,
resolved against the declaring model's app.  The column type of a foreign key
is the *target* field's related type, so it is computed by whoever can see the
target (the schema editor, through the project state).
"""

from __future__ import annotations

from typing import Any, Callable

from shoal.exceptions import ImproperlyConfigured
from shoal.models.deletion import (  # re-exported for `models.CASCADE`
    CASCADE, DO_NOTHING, PROTECT, RESTRICT, SET, SET_DEFAULT, SET_NULL,
)
from shoal.models.fields import Field

RECURSIVE_RELATIONSHIP_CONSTANT = "self"


def relation_label(to: Any) -> str:
    """A relation target as written in migration files: ``app.modelname``,
    or the string as given when it cannot be resolved yet."""
    if isinstance(to, str):
        if "." in to:
            app, model = to.rsplit(".", 1)
            return f"{app}.{model.lower()}"
        return to if to == RECURSIVE_RELATIONSHIP_CONSTANT else to.lower()
    meta = getattr(to, "_meta", None)
    if meta is None:
        raise ImproperlyConfigured(f"Relation target {to!r} is neither a model nor a string.")
    return meta.label_lower


def resolve_relation(to: Any, app_label: str, model_name: str) -> tuple[str, str]:
    """Return ``(app_label, model_name_lower)`` of a relation target as seen
    from the model ``app_label.model_name`` that declares it."""
    setting = getattr(to, "setting_name", None)
    if setting is not None:
        to = str(to)
    if not isinstance(to, str):
        return to._meta.app_label, to._meta.model_name
    if to == RECURSIVE_RELATIONSHIP_CONSTANT:
        return app_label, model_name.lower()
    if "." in to:
        app, model = to.rsplit(".", 1)
        return app, model.lower()
    return app_label, to.lower()


def _swappable_reference(to: Any, original: Any) -> Any:
    """The ``SettingReference`` a relation target is written as, or None.

    A target given as ``settings.X`` keeps that reference; a model class whose
    ``Meta.swappable`` setting currently names it (the Django behaviour for a
    swappable model referenced directly) is written as the setting too.
    """
    if getattr(to, "setting_name", None):
        return to
    if original is not None:
        return original
    meta = getattr(to, "_meta", None)
    setting = getattr(meta, "swappable", None)
    if not setting:
        return None
    from shoal.conf import SettingReference, settings

    if not settings.configured:
        return None
    value = settings.get().swappable.get(setting)
    if isinstance(value, str) and value.lower() == meta.label_lower:
        return SettingReference(value, setting)
    return None


class ForeignObjectRel:
    """The reverse side of a relation: what the target model sees."""

    def __init__(self, field: "RelatedField", to: Any, related_name: str | None = None,
                 related_query_name: str | None = None, limit_choices_to: Any = None,
                 on_delete: Callable[..., None] | None = None, field_name: str | None = None) -> None:
        self.field = field
        self.model = to
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.limit_choices_to = limit_choices_to
        self.on_delete = on_delete
        self.field_name = field_name
        self.multiple = True
        self.through: Any = None

    def is_hidden(self) -> bool:
        return bool(self.related_name) and self.related_name.endswith("+")

    def get_accessor_name(self) -> str | None:
        if self.is_hidden():
            return None
        if self.related_name:
            return self.related_name
        opts = self.field.model._meta
        base = opts.model_name
        return base if not self.multiple else f"{base}_set"


class RelatedField(Field):
    is_relation = True
    rel_class = ForeignObjectRel

    def __init__(self, to: Any, related_name: str | None = None,
                 related_query_name: str | None = None,
                 limit_choices_to: Any = None, **kwargs: Any) -> None:
        self.remote_field = self.rel_class(
            self, to, related_name=related_name, related_query_name=related_query_name,
            limit_choices_to=limit_choices_to, on_delete=kwargs.pop("on_delete", None),
            field_name=kwargs.pop("to_field", None),
        )
        # ``settings.AUTH_USER_MODEL`` is replaced by the model class once the
        # relation is bound; keep the reference so deconstruct() writes the setting.
        self.swappable_reference: Any = to if getattr(to, "setting_name", None) else None
        super().__init__(**kwargs)

    @property
    def related_model(self) -> Any:
        return self.remote_field.model

    def _relation_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        to = self.remote_field.model
        reference = _swappable_reference(to, getattr(self, "swappable_reference", None))
        if reference is not None:
            out["to"] = reference
        elif isinstance(to, str) and "." not in to and self.model is not None and hasattr(self.model, "_meta"):
            app, model = resolve_relation(to, self.model._meta.app_label, self.model._meta.model_name)
            out["to"] = f"{app}.{model}"
        else:
            out["to"] = relation_label(to)
        if self.remote_field.related_name is not None:
            out["related_name"] = self.remote_field.related_name
        if self.remote_field.related_query_name is not None:
            out["related_query_name"] = self.remote_field.related_query_name
        if self.remote_field.limit_choices_to:
            out["limit_choices_to"] = self.remote_field.limit_choices_to
        return out


class ForeignKey(RelatedField):
    """A many-to-one relation stored as a ``<name>_id`` column."""

    empty_strings_allowed = False
    many_to_one = True
    one_to_one = False

    def __init__(self, to: Any, on_delete: Callable[..., None] | None = None,
                 related_name: str | None = None, related_query_name: str | None = None,
                 limit_choices_to: Any = None, parent_link: bool = False,
                 to_field: str | None = None, db_constraint: bool = True, **kwargs: Any) -> None:
        if on_delete is None or not callable(on_delete):
            raise TypeError(f"{self.__class__.__name__} requires on_delete (e.g. models.CASCADE); got {on_delete!r}.")
        kwargs.setdefault("db_index", True)
        self.parent_link = parent_link
        self.db_constraint = db_constraint
        super().__init__(to, related_name=related_name, related_query_name=related_query_name,
                         limit_choices_to=limit_choices_to, on_delete=on_delete,
                         to_field=to_field, **kwargs)

    def get_internal_type(self) -> str:
        return "ForeignKey"

    def get_attname(self) -> str:
        return f"{self.name}_id"

    @property
    def on_delete(self) -> Callable[..., None]:
        return self.remote_field.on_delete  # type: ignore[return-value]

    @property
    def to_field(self) -> str | None:
        return self.remote_field.field_name

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("db_index") is True:
            del kwargs["db_index"]
        else:
            kwargs["db_index"] = False
        kwargs.update(self._relation_kwargs())
        kwargs["on_delete"] = self.remote_field.on_delete
        if self.parent_link:
            kwargs["parent_link"] = True
        if self.remote_field.field_name:
            kwargs["to_field"] = self.remote_field.field_name
        if not self.db_constraint:
            kwargs["db_constraint"] = False
        return name, path, args, kwargs

    def clone(self) -> "Field":
        name, _path, args, kwargs = self.deconstruct()
        return self.__class__(*args, **kwargs)

    def db_type(self, connection: Any) -> str | None:
        # Resolved against the target by the schema editor; see module docstring.
        return None

    def get_prep_value(self, value: Any) -> Any:
        if value is not None and hasattr(value, "_meta"):
            return value.pk
        return value


class OneToOneField(ForeignKey):
    """A foreign key with a unique constraint; the reverse side is single."""

    many_to_one = False
    one_to_one = True

    def __init__(self, to: Any, on_delete: Callable[..., None] | None = None,
                 to_field: str | None = None, **kwargs: Any) -> None:
        kwargs["unique"] = True
        super().__init__(to, on_delete, to_field=to_field, **kwargs)
        self.remote_field.multiple = False

    def get_internal_type(self) -> str:
        return "OneToOneField"

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("unique", None)
        return name, path, args, kwargs


class ManyToManyField(RelatedField):
    """A many-to-many relation through an automatic or explicit table."""

    many_to_many = True

    def __init__(self, to: Any, related_name: str | None = None,
                 related_query_name: str | None = None, limit_choices_to: Any = None,
                 symmetrical: bool | None = None, through: Any = None,
                 through_fields: tuple[str, str] | None = None, db_constraint: bool = True,
                 db_table: str | None = None, **kwargs: Any) -> None:
        self.symmetrical = symmetrical
        self.through = through
        self.through_fields = through_fields
        self.db_constraint = db_constraint
        self.db_table = db_table
        super().__init__(to, related_name=related_name, related_query_name=related_query_name,
                         limit_choices_to=limit_choices_to, **kwargs)

    def get_internal_type(self) -> str:
        return "ManyToManyField"

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(self._relation_kwargs())
        if self.db_table:
            kwargs["db_table"] = self.db_table
        if not self.db_constraint:
            kwargs["db_constraint"] = False
        if self.through is not None:
            kwargs["through"] = self._through_label()
        if self.through_fields:
            kwargs["through_fields"] = self.through_fields
        if self.symmetrical is not None and self.remote_field.model == "self":
            kwargs["symmetrical"] = self.symmetrical
        return name, path, args, kwargs

    def clone(self) -> "Field":
        name, _path, args, kwargs = self.deconstruct()
        return self.__class__(*args, **kwargs)

    def _through_label(self) -> str:
        """``through`` as ``"app.Model"`` (a bare name is in the declaring model's app)."""
        through = self.through
        if not isinstance(through, str):
            return str(through._meta.label)
        if "." not in through and self.model is not None and hasattr(self.model, "_meta"):
            return f"{self.model._meta.app_label}.{through}"
        return through

    def db_type(self, connection: Any) -> str | None:
        return None

    def get_attname(self) -> str:
        return self.name


__all__ = [
    "ForeignKey", "OneToOneField", "ManyToManyField", "ForeignObjectRel",
    "CASCADE", "PROTECT", "SET_NULL", "SET_DEFAULT", "SET", "DO_NOTHING", "RESTRICT",
    "resolve_relation", "relation_label",
]
