"""Meta options, table names, managers, indexes and constraints of models kept
across the change.  [pure]

Removals and additions are generated at different points of the detector's
run so that they bracket the field changes, as Django orders them:

- before fields are renamed/removed: indexes and constraints that go away,
  and unique_together groups that go away (an index must not outlive the
  column it names, and SQLite rebuilds a table from its options);
- after fields are added/altered: ``order_with_respect_to``, the new
  unique_together, renamed, new indexes and constraints.
"""

from __future__ import annotations

from typing import Any

from shoal.migrations import operations
from shoal.migrations.autodetector.base import Planned

Key = tuple[str, str]

_ITEMS = (("indexes", "index"), ("constraints", "constraint"))


def _without_name(item: Any) -> Any:
    path, args, kwargs = item.deconstruct()
    kwargs = dict(kwargs)
    kwargs.pop("name", None)
    return path, tuple(args), sorted(kwargs.items(), key=lambda kv: kv[0])


class OptionChanges:
    """Mixin of :class:`MigrationAutodetector`: model-level option changes."""

    from_state: Any
    to_state: Any
    renamed_fields: dict[tuple[Key, str], str]

    def add(self, app_label: str, operation: Any, model_key: Key | None = None,
            needs: list[Any] | None = None) -> Planned: ...

    def kept_models(self) -> list[tuple[Key, Key]]: ...

    def _kept_pairs(self) -> list[tuple[str, Key, Any, Any]]:
        out = []
        for old_key, new_key in self.kept_models():
            out.append((new_key[0], new_key, self.from_state.models[old_key], self.to_state.models[new_key]))
        return out

    # -- indexes and constraints ------------------------------------------------------

    def _item_changes(self, old: Any, new: Any, option: str) -> tuple[list[Any], list[Any], list[tuple[Any, Any]]]:
        """(removed, added, renamed pairs) of ``old``/``new``'s indexes or constraints."""
        before = list(old.options.get(option) or [])
        after = list(new.options.get(option) or [])
        removed = [i for i in before if i not in after]
        added = [i for i in after if i not in before]
        renamed: list[tuple[Any, Any]] = []
        if option == "indexes":
            for item in list(added):
                match = next((r for r in removed if _without_name(r) == _without_name(item)
                              and r.name != item.name), None)
                if match is not None:
                    renamed.append((match, item))
                    removed.remove(match)
                    added.remove(item)
        return removed, added, renamed

    def generate_removed_indexes_and_constraints(self) -> None:
        """RemoveConstraint / RemoveIndex for what is gone or changed (before field changes)."""
        for app, key, old, new in self._kept_pairs():
            for option, remove in (("constraints", operations.RemoveConstraint),
                                   ("indexes", operations.RemoveIndex)):
                removed, _added, _renamed = self._item_changes(old, new, option)
                for item in removed:
                    self.add(app, remove(model_name=new.name_lower, name=item.name), key)

    def generate_renamed_indexes(self) -> None:
        """RenameIndex for an index that only changed its name."""
        for app, key, old, new in self._kept_pairs():
            for old_index, new_index in self._item_changes(old, new, "indexes")[2]:
                self.add(app, operations.RenameIndex(model_name=new.name_lower, new_name=new_index.name,
                                                     old_name=old_index.name), key)

    def generate_added_indexes_and_constraints(self) -> None:
        """AddIndex / AddConstraint for what is new or changed (after field changes)."""
        for app, key, old, new in self._kept_pairs():
            for option, kwarg in _ITEMS:
                add = operations.AddIndex if option == "indexes" else operations.AddConstraint
                for item in self._item_changes(old, new, option)[1]:
                    self.add(app, add(model_name=new.name_lower, **{kwarg: item}), key)

    # -- unique_together -----------------------------------------------------------------

    def _together(self, key: Key, old: Any, new: Any) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
        """unique_together before (with renamed fields under their new names) and after."""
        renamed = {old_name: new_name for (k, new_name), old_name in getattr(self, "renamed_fields", {}).items()
                   if k == key}
        before = {tuple(renamed.get(n, n) for n in group) for group in old.options.get("unique_together") or ()}
        after = {tuple(group) for group in new.options.get("unique_together") or ()}
        return before, after

    def generate_removed_altered_unique_together(self) -> None:
        """Drop the unique_together groups that go away, before fields change."""
        for app, key, old, new in self._kept_pairs():
            before, after = self._together(key, old, new)
            kept = before & after
            if kept != before:
                self.add(app, operations.AlterUniqueTogether(name=new.name_lower, unique_together=kept), key)

    def generate_altered_unique_together(self) -> None:
        """Add the new unique_together groups, after fields change."""
        for app, key, old, new in self._kept_pairs():
            before, after = self._together(key, old, new)
            if after != before & after:
                self.add(app, operations.AlterUniqueTogether(name=new.name_lower, unique_together=after), key)

    # -- order_with_respect_to -------------------------------------------------------------

    def generate_altered_order_with_respect_to(self) -> None:
        """AlterOrderWithRespectTo when the option is set, cleared or moved."""
        for app, key, old, new in self._kept_pairs():
            before = old.options.get("order_with_respect_to")
            after = new.options.get("order_with_respect_to")
            renamed = {o: n for (k, n), o in getattr(self, "renamed_fields", {}).items() if k == key}
            if renamed.get(before, before) != after:
                op = operations.AlterOrderWithRespectTo(name=new.name_lower, order_with_respect_to=after)
                self.add(app, op, key)

    # -- plain options -----------------------------------------------------------------------

    def generate_altered_options(self) -> None:
        """AlterModelOptions, AlterModelManagers and the table comment."""
        for app, key, old, new in self._kept_pairs():
            if (old.options.get("db_table_comment") or None) != (new.options.get("db_table_comment") or None):
                op = operations.AlterModelTableComment(name=new.name_lower,
                                                       table_comment=new.options.get("db_table_comment"))
                self.add(app, op, key)
            keys = operations.AlterModelOptions.ALTER_OPTION_KEYS
            old_opts = {k: v for k, v in old.options.items() if k in keys}
            new_opts = {k: v for k, v in new.options.items() if k in keys}
            if old_opts != new_opts:
                self.add(app, operations.AlterModelOptions(name=new.name_lower, options=new_opts), key)
            if old.managers != new.managers:
                self.add(app, operations.AlterModelManagers(name=new.name_lower, managers=new.managers), key)

    def generate_altered_db_table(self) -> None:
        """AlterModelTable when ``db_table`` changes."""
        for app, key, old, new in self._kept_pairs():
            if old.options.get("db_table") != new.options.get("db_table"):
                op = operations.AlterModelTable(name=new.name_lower, table=new.options.get("db_table"))
                self.add(app, op, key)
