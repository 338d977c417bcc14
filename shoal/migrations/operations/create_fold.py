"""Folding later changes of a model into the CreateModel that makes it.  [pure]

``CreateModel.reduce`` asks :func:`fold_into_create` first.  Each rule gives
one CreateModel whose state is exactly the state CreateModel-then-change
gives (the same field order, options and managers), and whose table is the
table the two operations build.

One-off defaults (``preserve_default=False``): a CreateModel's table is
empty when a later AddField/AlterField of the same model meets it (the
optimizer never moves operations across RunPython/RunSQL, the only ones that
could insert rows), so the one-off default has no row to fill.  The field is
folded in *without* that default: the state keeps no default, as the
original history's state does, and ``makemigrations`` right after a squash
finds nothing to change.

A change that the state and the table would disagree on is not folded (the
operation then stays separate):

- AlterModelOptions that flips ``managed`` (the table exists, or not,
  depending on the order);
- RemoveField of a field an index, constraint, unique_together or
  order_with_respect_to still names; RenameField of a field an index,
  constraint or order_with_respect_to names (the state's rename rewrites
  only unique_together and ordering);
- RenameIndex by ``old_fields``, or removing an index/constraint the model
  does not have.
"""

from __future__ import annotations

from typing import Any

from shoal.migrations.operations.fields import (
    AddField,
    AlterField,
    FieldOperation,
    RemoveField,
    RenameField,
    state_field,
)
from shoal.migrations.operations.indexes import (
    AddConstraint,
    AddIndex,
    AlterUniqueTogether,
    IndexOperation,
    RemoveConstraint,
    RemoveIndex,
    RenameIndex,
)
from shoal.migrations.operations.models import (
    AlterModelManagers,
    AlterModelOptions,
    AlterModelTable,
    AlterModelTableComment,
    CreateModel,
    DeleteModel,
    RenameModel,
)
from shoal.models.fields.related import resolve_relation


def fold_into_create(create: CreateModel, operation: Any, app_label: str) -> list[Any] | None:
    """The operations replacing ``create`` followed by ``operation``, or None
    when ``operation`` does not fold into it."""
    if isinstance(operation, DeleteModel) and operation.name_lower == create.name_lower:
        return []
    if isinstance(operation, RenameModel) and operation.old_name_lower == create.name_lower:
        return [_renamed(create, operation, app_label)]
    if isinstance(operation, FieldOperation) and operation.model_name_lower == create.name_lower:
        fields = _fold_field(create, operation)
        return None if fields is None else [create.copy_with(fields=fields[0], options=fields[1])]
    if isinstance(operation, IndexOperation) and operation.model_name_lower == create.name_lower:
        options = _fold_index(create.options, operation)
        return None if options is None else [create.copy_with(options=options)]
    if getattr(operation, "name_lower", None) == create.name_lower:
        return _fold_option(create, operation)
    return None


# -- model-level -------------------------------------------------------------------------


def _renamed(create: CreateModel, rename: RenameModel, app_label: str) -> CreateModel:
    """The CreateModel under the new name; its own relations to itself
    follow, as the state's rename rewrites them."""
    old_key = (app_label, create.name_lower)
    new_label = f"{app_label}.{rename.new_name_lower}"
    fields = []
    for name, field in create.fields:
        to = getattr(getattr(field, "remote_field", None), "model", None)
        if (isinstance(to, str) and to != "self"
                and resolve_relation(to, app_label, create.name_lower) == old_key):
            _name, _path, args, kwargs = field.deconstruct()
            kwargs["to"] = new_label
            field = type(field)(*args, **kwargs)
        fields.append((name, field))
    return create.copy_with(name=rename.new_name, fields=fields)


def _fold_option(create: CreateModel, operation: Any) -> list[Any] | None:
    options = dict(create.options)
    if isinstance(operation, AlterModelOptions):
        for key in operation.ALTER_OPTION_KEYS:
            if key in operation.options:
                options[key] = operation.options[key]
            else:
                options.pop(key, None)
        if options.get("managed", True) != create.options.get("managed", True):
            return None
    elif isinstance(operation, AlterModelManagers):
        return [create.copy_with(managers=list(operation.managers))]
    elif isinstance(operation, AlterModelTable):
        _set_or_drop(options, "db_table", operation.table)
    elif isinstance(operation, AlterModelTableComment):
        options["db_table_comment"] = operation.table_comment
    elif isinstance(operation, AlterUniqueTogether):
        _set_or_drop(options, "unique_together", set(operation.unique_together) or None)
    else:
        return None
    return [create.copy_with(options=options)]


def _set_or_drop(options: dict[str, Any], key: str, value: Any) -> None:
    if value:
        options[key] = value
    else:
        options.pop(key, None)


# -- fields ---------------------------------------------------------------------------------


def _fold_field(create: CreateModel, op: FieldOperation) -> tuple[list[tuple[str, Any]], dict[str, Any]] | None:
    """New ``(fields, options)`` with the field operation applied."""
    fields = list(create.fields)
    names = [name for name, _ in fields]
    options = create.options
    if isinstance(op, AddField):
        if op.name in names:
            return None
        return [*fields, (op.name, state_field(op.field, op.preserve_default))], options  # type: ignore[arg-type]
    if isinstance(op, AlterField):
        if op.name not in names:
            return None
        field = state_field(op.field, op.preserve_default)  # type: ignore[arg-type]
        return [(n, field if n == op.name else f) for n, f in fields], options
    if isinstance(op, RemoveField):
        if op.name not in names or _named_by_options(options, op.name, renames_follow=False):
            return None
        return [(n, f) for n, f in fields if n != op.name], options
    if isinstance(op, RenameField):
        old, new = op.old_name, op.new_name
        if old not in names or new in names or _named_by_options(options, old, renames_follow=True):
            return None
        return [(new if n == old else n, f) for n, f in fields], _rename_in_options(options, old, new)
    return None


def _base_name(entry: Any) -> str | None:
    return entry.lstrip("-").split("__")[0] if isinstance(entry, str) else None


def _named_by_options(options: dict[str, Any], name: str, renames_follow: bool) -> bool:
    """Whether an option of the model names the field ``name``.  With
    ``renames_follow``, unique_together and ordering do not count: the state's
    RenameField rewrites them."""
    if options.get("order_with_respect_to") == name:
        return True
    for thing in [*(options.get("indexes") or ()), *(options.get("constraints") or ())]:
        covered = [_base_name(f) for f in [*getattr(thing, "fields", ()), *(getattr(thing, "include", ()) or ())]]
        if name in covered or getattr(thing, "condition", None) is not None:
            return True
    if renames_follow:
        return False
    # ordering is not checked: it never reaches the table, and the state keeps it as it is.
    return any(name in group for group in options.get("unique_together") or ())


def _rename_in_options(options: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """unique_together and ordering as RenameField.state_forwards leaves them."""
    options = dict(options)
    if options.get("unique_together"):
        options["unique_together"] = {tuple(new if f == old else f for f in group)
                                      for group in options["unique_together"]}
    if options.get("ordering"):
        options["ordering"] = [_renamed_order(entry, old, new) for entry in options["ordering"]]
    return options


def _renamed_order(entry: Any, old: str, new: str) -> Any:
    if isinstance(entry, str) and entry.lstrip("-") == old:
        return ("-" if entry.startswith("-") else "") + new
    return entry


# -- indexes and constraints ----------------------------------------------------------------


def _fold_index(options: dict[str, Any], op: IndexOperation) -> dict[str, Any] | None:
    indexes = list(options.get("indexes") or [])
    constraints = list(options.get("constraints") or [])
    if isinstance(op, AddIndex):
        indexes.append(op.index)
    elif isinstance(op, RemoveIndex):
        if not any(i.name == op.index_name for i in indexes):
            return None
        indexes = [i for i in indexes if i.name != op.index_name]
    elif isinstance(op, RenameIndex):
        if not op.old_name or not any(i.name == op.old_name for i in indexes):
            return None
        indexes = [_renamed_index(i, op.old_name, op.new_name) for i in indexes]
    elif isinstance(op, AddConstraint):
        constraints.append(op.constraint)
    elif isinstance(op, RemoveConstraint):
        if not any(c.name == op.constraint_name for c in constraints):
            return None
        constraints = [c for c in constraints if c.name != op.constraint_name]
    else:
        return None
    options = dict(options)
    for key, value in (("indexes", indexes), ("constraints", constraints)):
        if value:
            options[key] = value
        else:
            options.pop(key, None)
    return options


def _renamed_index(index: Any, old: str, new: str) -> Any:
    if index.name != old:
        return index
    renamed = index.clone()
    renamed.name = new
    return renamed
