"""What an operation reads and writes, so the optimizer knows what may swap.  [pure]

The optimizer moves an operation across another only when the two are
independent: neither writes anything the other reads or writes.  This
module describes each built-in operation as a :class:`Footprint`, a pair of
sets of *items* ``(app_label, model_name_lower, aspect)``:

- ``aspect`` None is the model as a whole (its existence, name, table);
  it overlaps every other aspect of that model.
- ``"f:<name>"`` one field; ``"#pk"`` whichever field is the primary key
  (what a foreign key with no ``to_field`` points at); ``"#managed"`` whether
  schema changes reach the database at all (AlterModelOptions can change it,
  every schema operation on the model depends on it); ``"#options"``,
  ``"#managers"``, ``"#table"``, ``"#comment"``, ``"#unique_together"``,
  ``"#index:<name>"``, ``"#constraint:<name>"`` one option each.
- ``"#dropped"``: the model's table is dropped (DeleteModel writes it).
  Model ``"*"`` with that aspect means "whichever model": RemoveField and
  DeleteModel do not know which models the relations they remove point
  at, so they never swap with a DeleteModel of any model (a table must
  not be dropped while a foreign key still points at it).

Operations this module does not know (RunPython, RunSQL,
SeparateDatabaseAndState, third-party operations) have no footprint and
swap with nothing.  A third-party operation may define
``footprint(app_label) -> Footprint | None`` to take part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shoal.models.fields.related import resolve_relation

Item = tuple[str, str, "str | None"]

ANY_MODEL = "*"
DROPPED = "#dropped"


@dataclass(frozen=True)
class Footprint:
    """The items an operation reads and the items it writes."""

    reads: frozenset[Item] = field(default_factory=frozenset)
    writes: frozenset[Item] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Summaries that settle most comparisons without pairing items.
        write_models = {(a, m) for a, m, _ in self.writes}
        every = write_models | {(a, m) for a, m, _ in self.reads if m != ANY_MODEL}
        object.__setattr__(self, "_write_models", frozenset(write_models))
        object.__setattr__(self, "_models", frozenset(every))
        object.__setattr__(self, "_wild", any(m == ANY_MODEL for _, m, _ in self.reads))
        object.__setattr__(self, "_drops", any(aspect == DROPPED for _, _, aspect in self.writes))

    def may_meet(self, other: Footprint) -> bool:
        """False when the two surely do not conflict (cheap pre-check)."""
        return bool(
            self._write_models & other._models  # type: ignore[attr-defined]
            or other._write_models & self._models  # type: ignore[attr-defined]
            or (self._wild and other._drops)  # type: ignore[attr-defined]
            or (other._wild and self._drops)  # type: ignore[attr-defined]
        )


def _overlap(a: Item, b: Item) -> bool:
    if a[2] is not None and b[2] is not None and a[2] != b[2]:
        return False
    if ANY_MODEL in (a[1], b[1]):
        # "whichever model" only meets that same aspect, on any model.
        return a[2] == b[2]
    return a[0] == b[0] and a[1] == b[1]


def _meets(left: frozenset[Item], right: frozenset[Item]) -> bool:
    return any(_overlap(a, b) for a in left for b in right)


def independent(first: Any, second: Any, app_label: str) -> bool:
    """Whether ``first`` and ``second`` (adjacent, either order) may swap
    places without changing the resulting state or schema."""
    a = footprint(first, app_label)
    b = footprint(second, app_label)
    if a is None or b is None:
        return False
    if not a.may_meet(b):
        return True
    return not (_meets(a.writes, b.writes) or _meets(a.writes, b.reads) or _meets(b.writes, a.reads))


def footprint(operation: Any, app_label: str) -> Footprint | None:
    """The operation's footprint (computed once per operation and app label)."""
    cache = getattr(operation, "__dict__", None)
    cached = cache.get("_footprints", {}).get(app_label, _MISSING) if cache is not None else _MISSING
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    own = getattr(operation, "footprint", None)
    result = own(app_label) if callable(own) else _builtin_footprint(operation, app_label)
    if cache is not None:
        cache.setdefault("_footprints", {})[app_label] = result
    return result


_MISSING = object()


# -- the built-in operations ------------------------------------------------------------


def _key(app_label: str, name: str) -> tuple[str, str]:
    return app_label, name.lower()


def relation_reads(field_obj: Any, app_label: str, model_name: str) -> set[Item]:
    """What a field depends on in other models: the target's primary key (or
    ``to_field``), and an explicit ``through`` model as a whole."""
    if field_obj is None or not getattr(field_obj, "is_relation", False):
        return set()
    remote = field_obj.remote_field
    app, name = resolve_relation(remote.model, app_label, model_name)
    to_field = getattr(remote, "field_name", None)
    items: set[Item] = {(app, name, f"f:{to_field}" if to_field else "#pk")}
    through = getattr(field_obj, "through", None)
    if through is not None:
        if isinstance(through, str):
            t_app, t_name = resolve_relation(through, app_label, model_name)
        else:
            t_app, t_name = through._meta.app_label, through._meta.model_name
        items.add((t_app, t_name, None))
    return items


def _field_writes(app: str, model: str, name: str, field_obj: Any) -> set[Item]:
    items: set[Item] = {(app, model, f"f:{name.lower()}")}
    if field_obj is not None and getattr(field_obj, "primary_key", False):
        items.add((app, model, "#pk"))
    return items


def _builtin_footprint(op: Any, app_label: str) -> Footprint | None:
    from shoal.migrations.operations import fields as f
    from shoal.migrations.operations import indexes as ix
    from shoal.migrations.operations import models as m
    from shoal.migrations.operations.ordering import AlterOrderWithRespectTo

    reads: set[Item] = set()
    writes: set[Item] = set()
    if isinstance(op, f.FieldOperation):
        app, model = _key(app_label, op.model_name)
        reads.add((app, model, "#managed"))
        if isinstance(op, f.RenameField):
            writes |= {(app, model, f"f:{op.old_name_lower}"), (app, model, f"f:{op.new_name_lower}")}
        else:
            writes |= _field_writes(app, model, op.name, op.field)
            reads |= relation_reads(op.field, app, model)
        if isinstance(op, f.RemoveField):
            reads.add((app_label, ANY_MODEL, DROPPED))
    elif isinstance(op, m.CreateModel):
        app, model = _key(app_label, op.name)
        writes.add((app, model, None))
        for fname, field_obj in op.fields:
            reads |= relation_reads(field_obj, app, model)
        for base in op.bases:
            if isinstance(base, str) and "." in base and base.lower() != "shoal.models.model":
                b_app, b_name = base.rsplit(".", 1)
                reads.add((b_app, b_name.lower(), None))
            elif hasattr(base, "_meta"):
                reads.add((base._meta.app_label, base._meta.model_name, None))
    elif isinstance(op, m.DeleteModel):
        app, model = _key(app_label, op.name)
        writes |= {(app, model, None), (app, model, DROPPED)}
        reads.add((app_label, ANY_MODEL, DROPPED))
    elif isinstance(op, m.RenameModel):
        writes |= {(*_key(app_label, op.old_name), None), (*_key(app_label, op.new_name), None)}
    elif isinstance(op, m.AlterModelOptions):
        app, model = _key(app_label, op.name)
        writes |= {(app, model, "#options"), (app, model, "#managed")}
        for entry in op.options.get("ordering") or ():
            if isinstance(entry, str):
                reads.add((app, model, "f:" + entry.lstrip("-?").split("__")[0].lower()))
            else:  # an expression: could mention any field
                reads.add((app, model, None))
    elif isinstance(op, AlterOrderWithRespectTo):
        # Adds or drops the implicit _order column: anything on the model may depend on it.
        writes.add((*_key(app_label, op.name), None))
    elif isinstance(op, m.AlterModelManagers):
        writes.add((*_key(app_label, op.name), "#managers"))
    elif isinstance(op, (m.AlterModelTable, m.AlterModelTableComment)):
        app, model = _key(app_label, op.name)
        writes.add((app, model, "#table" if isinstance(op, m.AlterModelTable) else "#comment"))
        reads.add((app, model, "#managed"))
    elif isinstance(op, ix.AlterUniqueTogether):
        app, model = _key(app_label, op.name)
        writes.add((app, model, "#unique_together"))
        reads.add((app, model, "#managed"))
        reads |= {(app, model, f"f:{name.lower()}") for group in op.unique_together for name in group}
    elif isinstance(op, ix.IndexOperation):
        app, model = _key(app_label, op.model_name)
        reads.add((app, model, "#managed"))
        if isinstance(op, ix.AddIndex):
            writes.add((app, model, f"#index:{op.index.name}"))
            reads |= _index_reads(app, model, op.index)
        elif isinstance(op, ix.RemoveIndex):
            writes.add((app, model, f"#index:{op.index_name}"))
            reads.add((app, model, None))  # which fields it covered is unknown here
        elif isinstance(op, ix.RenameIndex):
            writes |= {(app, model, f"#index:{op.new_name}"), (app, model, f"#index:{op.old_name}")}
            reads.add((app, model, None))
        elif isinstance(op, ix.AddConstraint):
            writes.add((app, model, f"#constraint:{op.constraint.name}"))
            reads |= _index_reads(app, model, op.constraint)
        elif isinstance(op, ix.RemoveConstraint):
            writes.add((app, model, f"#constraint:{op.constraint_name}"))
            reads.add((app, model, None))
        else:
            return None
    else:
        return None
    return Footprint(frozenset(reads), frozenset(writes))


def _index_reads(app: str, model: str, thing: Any) -> set[Item]:
    """Fields an index or constraint covers; the whole model when it has a
    condition or expressions (they may mention any field)."""
    names = list(getattr(thing, "fields", ()) or ())
    if not names or getattr(thing, "condition", None) is not None or getattr(thing, "expressions", None):
        return {(app, model, None)}
    names += list(getattr(thing, "include", ()) or ())
    return {(app, model, f"f:{name.lstrip('-').lower()}") for name in names}
