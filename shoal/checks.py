"""System checks: mistakes in the models found before they reach a migration.

``run_checks(apps)`` looks at every model class of an app registry and
returns a list of :class:`CheckMessage` (nothing is printed here; ``shoal
check``, ``makemigrations`` and ``migrate`` format and report them).  The ids
and messages are Django's, so its documentation of a check applies:

- ``fields.W900``-style deprecations and removals that a custom field
  declares with ``system_check_deprecated_details`` (a warning) and
  ``system_check_removed_details`` (an error): ``msg``, ``hint`` and ``id``
  are taken from the dict, as the migrations guide describes;
- relations: to a model that does not exist or is abstract (fields.E300), to
  a swapped-out model (fields.E301), through a model that does not exist
  (fields.E331), reverse accessors and query names clashing with a field of
  the target or with each other (fields.E302-E305), ``on_delete=SET_NULL``
  without ``null`` (fields.E320), ``SET_DEFAULT`` without a default (fields.E321);
- fields: names (fields.E001/E002), CharField max_length (fields.E120/E121),
  DecimalField digits (fields.E130-E134);
- Meta: fields named by unique_together, indexes, constraints and ordering
  must exist (models.E012/E015), index names (models.E033/E034), and index
  and constraint names must be unique (models.E029-E032).

Pure: no I/O.  Database checks (``--database``) live in the backends, in an
optional ``shoal/db/backends/<vendor>/checks.py`` with ``check(connection)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any, NamedTuple

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "LEVELS",
    "WARNING",
    "CheckMessage",
    "Error",
    "Warning",
    "check_database",
    "format_messages",
    "run_checks",
]

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
LEVELS = {"DEBUG": DEBUG, "INFO": INFO, "WARNING": WARNING, "ERROR": ERROR, "CRITICAL": CRITICAL}


class CheckMessage(NamedTuple):
    """One finding: its level, what is wrong, how to fix it, a stable id and the object concerned."""

    level: int
    msg: str
    hint: str | None = None
    id: str | None = None
    obj: Any = None

    def is_serious(self, level: int = ERROR) -> bool:
        """Whether this message stops a command (ERROR and above by default)."""
        return self.level >= level

    def __str__(self) -> str:
        where = _describe(self.obj)
        ident = f"({self.id}) " if self.id else ""
        hint = f"\n\tHINT: {self.hint}" if self.hint else ""
        return f"{where}: {ident}{self.msg}{hint}"


def Warning(msg: str, hint: str | None = None, obj: Any = None, id: str | None = None) -> CheckMessage:
    """A WARNING message (printed; does not stop a command)."""
    return CheckMessage(WARNING, msg, hint, id, obj)


def Error(msg: str, hint: str | None = None, obj: Any = None, id: str | None = None) -> CheckMessage:
    """An ERROR message (stops makemigrations and migrate)."""
    return CheckMessage(ERROR, msg, hint, id, obj)


def _describe(obj: Any) -> str:
    if obj is None:
        return "?"
    if isinstance(obj, type) and hasattr(obj, "_meta"):
        return str(obj._meta.label)
    model = getattr(obj, "model", None)
    if getattr(obj, "is_shoal_field", False) and model is not None and hasattr(model, "_meta"):
        return f"{model._meta.label}.{obj.name}"
    return str(obj)


def _field_label(field: Any) -> str:
    return f"{field.model._meta.label}.{field.name}"


# -- running ---------------------------------------------------------------------------


def run_checks(apps: Any, app_labels: Iterable[str] | None = None) -> list[CheckMessage]:
    """Every model check over the models of ``apps`` (only ``app_labels`` when given)."""
    wanted = set(app_labels) if app_labels else None
    models = [m for m in apps.get_models() if wanted is None or m._meta.app_label in wanted]
    messages: list[CheckMessage] = []
    relations = relations_by_target(apps)
    for model in models:
        if model._meta.swapped:
            continue
        messages += check_model(model, apps, relations)
    messages += check_unique_names(models)
    messages += check_db_tables(models)
    return messages


def silence(messages: list[CheckMessage], silenced_ids: Iterable[str]) -> tuple[list[CheckMessage], int]:
    """The messages whose id is not silenced (``silenced_system_checks``), and how
    many were silenced.  Errors can be silenced too, as in Django: the project
    owns that decision."""
    silenced = set(silenced_ids)
    if not silenced:
        return messages, 0
    kept = [m for m in messages if m.id not in silenced]
    return kept, len(messages) - len(kept)


def check_database(connection: Any) -> list[CheckMessage]:
    """The checks a backend defines for a connected database (none by default)."""
    try:
        module = importlib.import_module(f"shoal.db.backends.{connection.vendor}.checks")
    except ModuleNotFoundError:
        return []
    return list(module.check(connection))


def format_messages(messages: list[CheckMessage], silenced: int = 0) -> str:
    """The report ``shoal check`` prints (grouped by level, as Django prints it)."""
    if not messages:
        return f"System check identified no issues ({silenced} silenced)."
    groups = [("CRITICALS", CRITICAL, 10**9), ("ERRORS", ERROR, CRITICAL), ("WARNINGS", WARNING, ERROR),
              ("INFOS", INFO, WARNING), ("DEBUGS", DEBUG, INFO)]
    lines = ["System check identified some issues:"]
    for title, low, high in groups:
        chosen = sorted((m for m in messages if low <= m.level < high), key=lambda m: (str(m.id), str(m)))
        if chosen:
            lines += ["", f"{title}:", *[str(m) for m in chosen]]
    count = len(messages)
    lines += ["", f"System check identified {count} issue{'' if count == 1 else 's'} ({silenced} silenced)."]
    return "\n".join(lines)


# -- one model -----------------------------------------------------------------------------


def check_model(model: type, apps: Any, relations: dict[Any, list[Any]] | None = None) -> list[CheckMessage]:
    """The checks of one model class: its fields, relations and Meta.

    ``relations`` is :func:`relations_by_target` of ``apps``, built once for a
    whole run (built here when not given)."""
    opts = model._meta  # type: ignore[attr-defined]
    out: list[CheckMessage] = []
    for field in opts.local_fields + opts.local_many_to_many:
        out += check_field(field)
        if field.is_relation:
            if relations is None:
                relations = relations_by_target(apps)
            out += check_relation(field, apps, relations)
    out += check_meta(model)
    return out


def check_field(field: Any) -> list[CheckMessage]:
    """Deprecation/removal details, the field's name and its size options."""
    out: list[CheckMessage] = []
    kind = type(field).__name__
    removed = getattr(field, "system_check_removed_details", None)
    deprecated = getattr(field, "system_check_deprecated_details", None)
    if removed is not None:
        out.append(Error(removed.get("msg", f"{kind} has been removed except for support in historical migrations."),
                         hint=removed.get("hint"), obj=field, id=removed.get("id", "fields.EXXX")))
    elif deprecated is not None:
        out.append(Warning(deprecated.get("msg", f"{kind} has been deprecated."),
                           hint=deprecated.get("hint"), obj=field, id=deprecated.get("id", "fields.WXXX")))
    name = str(field.name)
    if name.endswith("_"):
        out.append(Error("Field names must not end with an underscore.", obj=field, id="fields.E001"))
    if "__" in name:
        out.append(Error('Field names must not contain "__".', obj=field, id="fields.E002"))
    if field.get_internal_type() == "CharField" and not field.is_relation:
        if field.max_length is None:
            out.append(Error("CharFields must define a 'max_length' attribute.", obj=field, id="fields.E120"))
        elif not isinstance(field.max_length, int) or isinstance(field.max_length, bool) or field.max_length <= 0:
            out.append(Error("'max_length' must be a positive integer.", obj=field, id="fields.E121"))
    if field.get_internal_type() == "DecimalField":
        out += _check_decimal(field)
    if field.has_db_default():
        out += _check_db_default(field)
    return out


def _check_db_default(field: Any) -> list[CheckMessage]:
    """An expression db_default must not read other columns (the database cannot)."""
    from shoal.models.expressions import default_problems, is_db_expression

    if not is_db_expression(field.db_default):
        return []
    return [Error(problem, obj=field, id="fields.E012") for problem in default_problems(field.db_default)]


def _check_decimal(field: Any) -> list[CheckMessage]:
    out: list[CheckMessage] = []
    places, digits = field.decimal_places, field.max_digits
    if places is None:
        out.append(Error("DecimalFields must define a 'decimal_places' attribute.", obj=field, id="fields.E130"))
    elif not isinstance(places, int) or places < 0:
        out.append(Error("'decimal_places' must be a non-negative integer.", obj=field, id="fields.E131"))
    if digits is None:
        out.append(Error("DecimalFields must define a 'max_digits' attribute.", obj=field, id="fields.E132"))
    elif not isinstance(digits, int) or digits <= 0:
        out.append(Error("'max_digits' must be a positive integer.", obj=field, id="fields.E133"))
    if isinstance(places, int) and isinstance(digits, int) and places >= 0 and digits > 0 and places > digits:
        out.append(Error("'max_digits' must be greater or equal to 'decimal_places'.", obj=field, id="fields.E134"))
    return out


# -- relations -----------------------------------------------------------------------------


def _target(field: Any) -> Any:
    """The target model class, or None when it is not installed (or abstract)."""
    target = field.remote_field.model
    if isinstance(target, type) and hasattr(target, "_meta"):
        return None if target._meta.abstract else target
    return None


def check_relation(field: Any, apps: Any, relations: dict[Any, list[Any]] | None = None) -> list[CheckMessage]:
    """The target exists (and is not swapped out), the through model exists, on_delete fits."""
    out: list[CheckMessage] = _check_on_delete(field)
    target = _target(field)
    if target is None:
        given = field.remote_field.model
        name = given if isinstance(given, str) else getattr(given, "__name__", str(given))
        out.append(Error(f"Field defines a relation with model '{name}', which is either not installed, "
                         "or is abstract.", obj=field, id="fields.E300"))
        return out
    if target._meta.swapped:
        setting = target._meta.swappable
        out.append(Error(f"Field defines a relation with the model '{target._meta.label}', which has been "
                         "swapped out.", hint=f"Update the relation to point at 'settings.{setting}'.",
                         obj=field, id="fields.E301"))
    if field.many_to_many and field.through is not None:
        out += _check_through(field, apps)
    out += check_clashes(field, target, relations if relations is not None else relations_by_target(apps))
    return out


def _check_through(field: Any, apps: Any) -> list[CheckMessage]:
    through = field.through
    if isinstance(through, type) and hasattr(through, "_meta"):
        return []
    from shoal.models.fields.related import resolve_relation

    opts = field.model._meta
    app, name = resolve_relation(str(through), opts.app_label, opts.model_name)
    if apps.all_models.get(app, {}).get(name) is not None:
        return []
    return [Error(f"Field specifies a many-to-many relation through model '{through}', which has not "
                  "been installed.", obj=field, id="fields.E331")]


def _check_on_delete(field: Any) -> list[CheckMessage]:
    on_delete = getattr(field.remote_field, "on_delete", None)
    name = getattr(on_delete, "__name__", "")
    if name == "SET_NULL" and not field.null:
        return [Error("Field specifies on_delete=SET_NULL, but cannot be null.",
                      hint="Set null=True argument on the field, or change the on_delete rule.",
                      obj=field, id="fields.E320")]
    if name == "SET_DEFAULT" and not field.has_default():
        return [Error("Field specifies on_delete=SET_DEFAULT, but has no default value.",
                      hint="Set a default value, or change the on_delete rule.", obj=field, id="fields.E321")]
    return []


def _format(name: str | None, model: type) -> str | None:
    if not name:
        return name
    opts = model._meta  # type: ignore[attr-defined]
    return name % {"class": opts.model_name, "model_name": opts.model_name, "app_label": opts.app_label}


def reverse_names(field: Any) -> tuple[str | None, str | None]:
    """``(accessor, query name)`` the target model gets for ``field`` (None: hidden)."""
    model = field.model
    rel = field.remote_field
    if field.many_to_many and _is_symmetrical_self(field):
        return None, None
    related = _format(rel.related_name or model._meta.default_related_name, model)
    if related and related.endswith("+"):
        return None, None
    if related:
        accessor = related
    elif getattr(field, "one_to_one", False):
        accessor = model._meta.model_name
    else:
        accessor = f"{model._meta.model_name}_set"
    query = _format(rel.related_query_name, model) or related or model._meta.model_name
    return accessor, query


def _is_symmetrical_self(field: Any) -> bool:
    target = field.remote_field.model
    same = target == "self" or target is field.model
    symmetrical = field.symmetrical if field.symmetrical is not None else True
    return bool(same and symmetrical)


def relations_by_target(apps: Any) -> dict[Any, list[Any]]:
    """Every relation field of the installed (not swapped-out) models, by target
    model: built once, so checking clashes is linear, not models x relations."""
    out: dict[Any, list[Any]] = {}
    for model in apps.get_models():
        opts = model._meta
        if opts.swapped:
            continue
        for field in opts.local_fields + opts.local_many_to_many:
            if field.is_relation:
                target = _target(field)
                if target is not None:
                    out.setdefault(target, []).append(field)
    return out


def check_clashes(field: Any, target: type, relations: dict[Any, list[Any]]) -> list[CheckMessage]:
    """Reverse accessor and query name of ``field`` against ``target``'s fields and other relations."""
    accessor, query = reverse_names(field)
    if accessor is None and query is None:
        return []
    out: list[CheckMessage] = []
    label = _field_label(field)
    topts = target._meta  # type: ignore[attr-defined]
    names = {f.name: f for f in topts.fields + topts.many_to_many}
    if accessor in names:
        clash = f"{topts.label}.{accessor}"
        out.append(Error(f"Reverse accessor '{topts.object_name}.{accessor}' for '{label}' clashes with field "
                         f"name '{clash}'.", hint=f"Rename field '{clash}', or add/change a related_name "
                         f"argument to the definition for field '{label}'.", obj=field, id="fields.E302"))
    if query in names:
        clash = f"{topts.label}.{query}"
        out.append(Error(f"Reverse query name for '{label}' clashes with field name '{clash}'.",
                         hint=f"Rename field '{clash}', or add/change a related_name argument to the "
                         f"definition for field '{label}'.", obj=field, id="fields.E303"))
    for other in relations.get(target, ()):
        if other is field:
            continue
        other_accessor, other_query = reverse_names(other)
        other_label = _field_label(other)
        hint = f"Add or change a related_name argument to the definition for '{label}' or '{other_label}'."
        if accessor is not None and accessor == other_accessor:
            out.append(Error(f"Reverse accessor '{topts.object_name}.{accessor}' for '{label}' clashes with "
                             f"reverse accessor for '{other_label}'.", hint=hint, obj=field, id="fields.E304"))
        if query is not None and query == other_query:
            out.append(Error(f"Reverse query name for '{label}' clashes with reverse query name for "
                             f"'{other_label}'.", hint=hint, obj=field, id="fields.E305"))
    return out


# -- Meta ------------------------------------------------------------------------------------


def check_meta(model: type) -> list[CheckMessage]:
    """Fields named by unique_together, indexes, constraints, ordering exist; index names fit."""
    opts = model._meta  # type: ignore[attr-defined]
    out: list[CheckMessage] = []
    known = {f.name for f in opts.fields + opts.many_to_many} | {f.attname for f in opts.fields}
    local = {f.name for f in opts.local_fields + opts.local_many_to_many} | {f.attname for f in opts.local_fields}
    many = {f.name for f in opts.many_to_many}

    def missing(option: str, names: Iterable[str]) -> None:
        for name in names:
            if name not in known:
                out.append(Error(f"'{option}' refers to the nonexistent field '{name}'.", obj=model,
                                 id="models.E012"))
            elif name in many:
                out.append(Error(f"'{option}' refers to a ManyToManyField '{name}', but ManyToManyFields are "
                                 f"not permitted in '{option}'.", obj=model, id="models.E013"))
            elif name not in local:
                out.append(Error(f"'{option}' refers to field '{name}' which is not local to model "
                                 f"'{opts.object_name}'.", hint="This issue may be caused by multi-table "
                                 "inheritance.", obj=model, id="models.E016"))

    for group in opts.unique_together or ():
        missing("unique_together", group)
    for index in opts.indexes or ():
        missing("indexes", [f.lstrip("-") for f in getattr(index, "fields", ()) or ()])
        name = getattr(index, "name", "") or ""
        if name and (name[0] == "_" or name[0].isdigit()):
            out.append(Error(f"The index name '{name}' cannot start with an underscore or a number.",
                             obj=model, id="models.E033"))
        limit = getattr(index, "max_name_length", 30)
        if len(name) > limit:
            out.append(Error(f"The index name '{name}' cannot be longer than {limit} characters.",
                             obj=model, id="models.E034"))
    for constraint in opts.constraints or ():
        missing("constraints", list(getattr(constraint, "fields", ()) or ()))
    if opts.order_with_respect_to and opts.order_with_respect_to not in local:
        out.append(Error(f"'order_with_respect_to' refers to the nonexistent field "
                         f"'{opts.order_with_respect_to}'.", obj=model, id="models.E012"))
    for item in opts.original_attrs.get("ordering") or ():
        if not isinstance(item, str) or item == "?":
            continue
        name = item.lstrip("-+").split("__")[0]
        if name not in known and name not in ("pk", "_order"):
            out.append(Error(f"'ordering' refers to the nonexistent field, related field, or lookup "
                             f"'{item.lstrip('-+')}'.", obj=model, id="models.E015"))
    return out


def check_unique_names(models: list[type]) -> list[CheckMessage]:
    """Index and constraint names must be unique (within a model and across models)."""
    out: list[CheckMessage] = []
    for option, one, many, kind in (("indexes", "models.E029", "models.E030", "index"),
                                    ("constraints", "models.E031", "models.E032", "constraint")):
        owners: dict[str, list[type]] = {}
        for model in models:
            opts = model._meta  # type: ignore[attr-defined]
            if opts.proxy or not opts.managed:
                continue
            for item in getattr(opts, option) or ():
                if getattr(item, "name", None):
                    owners.setdefault(item.name, []).append(model)
        for name, found in sorted(owners.items()):
            if len(found) < 2:
                continue
            labels = sorted({m._meta.label for m in found})  # type: ignore[attr-defined]
            if len(labels) == 1:
                out.append(Error(f"{kind} name '{name}' is not unique for model {labels[0]}.",
                                 obj=found[0], id=one))
            else:
                out.append(Error(f"{kind} name '{name}' is not unique among models: {', '.join(labels)}.",
                                 obj=found[0], id=many))
    return out


def check_db_tables(models: list[type]) -> list[CheckMessage]:
    """Two managed, concrete models must not share a table."""
    tables: dict[str, list[str]] = {}
    for model in models:
        opts = model._meta  # type: ignore[attr-defined]
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        tables.setdefault(opts.db_table, []).append(opts.label)
    return [Error(f"db_table '{table}' is used by multiple models: {', '.join(sorted(labels))}.",
                  obj=table, id="models.E028")
            for table, labels in sorted(tables.items()) if len(labels) > 1]
