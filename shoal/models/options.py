"""``Model._meta``: the options of a model class and its fields, resolved."""

from __future__ import annotations

import re
from typing import Any

from shoal.exceptions import FieldDoesNotExist, ImproperlyConfigured

# Meta options a model may declare, with defaults.
DEFAULT_NAMES: dict[str, Any] = {
    "verbose_name": None,
    "verbose_name_plural": None,
    "db_table": "",
    "db_table_comment": "",
    "ordering": [],
    "unique_together": [],
    "index_together": [],
    "indexes": [],
    "constraints": [],
    "managed": True,
    "abstract": False,
    "proxy": False,
    "swappable": None,
    "app_label": None,
    "get_latest_by": None,
    "order_with_respect_to": None,
    "default_related_name": None,
    "base_manager_name": None,
    "default_manager_name": None,
    "permissions": [],
    "default_permissions": ("add", "change", "delete", "view"),
    "required_db_features": [],
    "required_db_vendor": None,
    "select_on_save": False,
    "db_tablespace": "",
    "apps": None,  # the registry to register in (historical models use their own)
}


_CAMEL = re.compile(r"(((?<=[a-z])[A-Z])|([A-Z](?![A-Z]|$)))")
_camel_memo: dict[str, str] = {}


def camel_case_to_spaces(value: str) -> str:
    """``BookAuthor`` -> ``book author`` (Django's default verbose name)."""
    out = _camel_memo.get(value)
    if out is None:
        out = _camel_memo[value] = _CAMEL.sub(r" \1", value).strip().lower()
    return out


def normalize_together(value: Any) -> tuple[tuple[str, ...], ...]:
    """``("a", "b")`` or ``[("a", "b")]`` -> ``(("a", "b"),)``."""
    if not value:
        return ()
    if isinstance(value, (set, frozenset)):
        value = sorted(value)
    if not isinstance(value, (tuple, list)):
        raise ImproperlyConfigured(f"unique_together must be a list of field-name tuples, not {value!r}.")
    first = next(iter(value))
    if not isinstance(first, (tuple, list)):
        value = (value,)
    return tuple(tuple(v) for v in value)


class Options:
    """Resolved options and fields of one model class."""

    def __init__(self, meta: Any, app_label: str) -> None:
        self.meta = meta
        self.app_label = app_label
        self.local_fields: list[Any] = []
        self.local_many_to_many: list[Any] = []
        self.private_fields: list[Any] = []
        self.managers: list[tuple[str, Any]] = []
        self.parents: dict[type, Any] = {}
        self.auto_created: Any = False
        self.model: Any = None
        self.object_name = ""
        self.model_name = ""
        self.pk: Any = None
        self.concrete_model: Any = None
        self.proxy_for_model: Any = None
        self.original_attrs: dict[str, Any] = {}
        # The defaults themselves (no copies), as one update: none is a property here.
        self.__dict__.update(DEFAULT_NAMES)
        self.app_label = app_label

    def contribute_to_class(self, cls: type, name: str) -> None:
        cls._meta = self  # type: ignore[attr-defined]
        self.model = cls
        self.object_name = cls.__name__
        self.model_name = cls.__name__.lower()
        self.verbose_name = camel_case_to_spaces(cls.__name__)
        if self.meta is not None:
            attrs = {k: v for k, v in vars(self.meta).items() if not k.startswith("_")}
            for key, value in attrs.items():
                if key not in DEFAULT_NAMES:
                    raise ImproperlyConfigured(f"{cls.__name__}.Meta has an invalid attribute: {key}.")
                setattr(self, key, value)
                self.original_attrs[key] = value
            # ``class Meta(Base.Meta)``: options inherited from an abstract parent's Meta
            # (a plain ``class Meta:`` has nothing to inherit; most models skip the loop).
            inherits = getattr(self.meta, "__bases__", None) != (object,)
            for key in DEFAULT_NAMES if inherits else ():
                if key not in attrs and key != "abstract" and hasattr(self.meta, key):
                    value = getattr(self.meta, key)
                    setattr(self, key, value)
                    self.original_attrs[key] = value
        if self.app_label is None:
            raise ImproperlyConfigured(f"Model {cls.__name__} has no app_label.")
        self.unique_together = normalize_together(self.unique_together)
        if self.verbose_name_plural is None:
            self.verbose_name_plural = f"{self.verbose_name}s"
        if not self.db_table:
            self.db_table = default_db_table(self.app_label, self.model_name)

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.object_name}"

    @property
    def label_lower(self) -> str:
        return f"{self.app_label}.{self.model_name}"

    @property
    def swapped(self) -> str | None:
        """The model that replaces this one (when a swappable setting points elsewhere)."""
        if not self.swappable:
            return None
        from shoal.conf import settings

        if not settings.configured:
            return None
        target = settings.get().swappable.get(self.swappable)
        if target and target.lower() != self.label_lower:
            return target
        return None

    def add_field(self, field: Any) -> None:
        target = self.local_many_to_many if field.many_to_many else self.local_fields
        # Kept sorted by creation order; fields mostly arrive in that order already.
        if target and not target[-1] < field:
            target.append(field)
            target.sort()
        else:
            target.append(field)
        if field.primary_key and self.pk is None:
            self.pk = field

    def setup_pk(self, field: Any) -> None:
        if self.pk is None and field.primary_key:
            self.pk = field

    @property
    def fields(self) -> list[Any]:
        """Concrete and relation fields, parents' first (multi-table inheritance)."""
        if self.proxy and self.concrete_model is not None and self.concrete_model is not self.model:
            return self.concrete_model._meta.fields
        out: list[Any] = []
        for parent in self.get_parent_list():
            out.extend(parent._meta.local_fields)
        out.extend(self.local_fields)
        return out

    @property
    def concrete_fields(self) -> list[Any]:
        return [f for f in self.fields if f.column is not None]

    @property
    def many_to_many(self) -> list[Any]:
        if self.proxy and self.concrete_model is not None and self.concrete_model is not self.model:
            return self.concrete_model._meta.many_to_many
        out: list[Any] = []
        for parent in self.get_parent_list():
            out.extend(parent._meta.local_many_to_many)
        out.extend(self.local_many_to_many)
        return out

    def get_parent_list(self) -> list[type]:
        """All concrete ancestors, farthest first."""
        out: list[type] = []
        for parent in self.parents:
            for grand in parent._meta.get_parent_list():
                if grand not in out:
                    out.append(grand)
            if parent not in out:
                out.append(parent)
        return out

    def get_fields(self) -> list[Any]:
        return self.fields + self.many_to_many

    def get_field(self, name: str) -> Any:
        for field in self.get_fields():
            if field.name == name or field.attname == name:
                return field
        for rel in getattr(self, "related_objects", []):
            if rel.get_accessor_name() == name or getattr(rel, "query_name", None) == name:
                return rel
        raise FieldDoesNotExist(f"{self.object_name} has no field named '{name}'")

    @property
    def db_returning_fields(self) -> list[Any]:
        return [self.pk] if self.pk is not None else []

    @property
    def related_objects(self) -> list[Any]:
        """Reverse relations: fields of other models pointing here."""
        from shoal.models.related import reverse_relations

        return reverse_relations(self.model)

    @property
    def base_manager(self) -> Any:
        return self.model._base_manager

    @property
    def default_manager(self) -> Any:
        return self.model._default_manager

    def __repr__(self) -> str:
        return f"<Options for {self.object_name}>"


#: No backend cuts identifiers shorter than this, so shorter names skip the settings lookup.
_SHORTEST_NAME_LIMIT = 63


def default_db_table(app_label: str, model_name: str) -> str:
    """``<app_label>_<model_name>``, cut to the default database's identifier limit
    with a short hash (the name Django gives, so both tools share one schema)."""
    name = f"{app_label}_{model_name}"
    if len(name) <= _SHORTEST_NAME_LIMIT:
        return name
    from shoal.conf import settings

    if not settings.configured:
        return name
    from shoal.db.ddl_references import truncate_name

    return truncate_name(name, settings.get().default_name_limit)
