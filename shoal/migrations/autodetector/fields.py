"""Fields added, removed, altered and renamed on models that exist before and after.  [pure]"""

from __future__ import annotations

from typing import Any

from shoal.migrations import operations
from shoal.migrations.autodetector.base import Planned, field_signature
from shoal.migrations.autodetector.models import relation_target
from shoal.models.fields import NOT_PROVIDED

Key = tuple[str, str]


def _needs_one_off_default(field: Any) -> bool:
    """A new NOT NULL column with nothing to fill existing rows with (auto_now
    columns are filled with the current time by the schema editor; for
    auto_now_add the user is asked, as the creation time of old rows is unknown)."""
    return not (
        field.null or field.has_default() or field.has_db_default() or field.many_to_many
        or (field.blank and field.empty_strings_allowed) or getattr(field, "auto_now", False)
        or field.primary_key
    )


class FieldChanges:
    """Mixin of :class:`MigrationAutodetector`: per-field changes."""

    from_state: Any
    to_state: Any
    questioner: Any
    renamed_models: dict[Key, Key]

    def add(self, app_label: str, operation: Any, model_key: Key | None = None,
            needs: list[Any] | None = None) -> Planned: ...

    def kept_models(self) -> list[tuple[Key, Key]]: ...

    def relation_needs(self, key: Key, model: Any, field: Any) -> list[Any]: ...

    def link_deletions(self, unlinks: dict[Key, list[Planned]]) -> None: ...

    def _field_pairs(self) -> list[tuple[Key, Key, Any, Any]]:
        out = []
        for old_key, new_key in self.kept_models():
            old, new = self.from_state.models[old_key], self.to_state.models[new_key]
            if old.proxy or new.proxy:
                continue
            out.append((old_key, new_key, old, new))
        return out

    def _signature(self, model: Any, field: Any) -> Any:
        return field_signature(field, self.renamed_models, model.app_label, model.name_lower)

    # -- renamed --------------------------------------------------------------------

    def generate_renamed_fields(self) -> None:
        self.renamed_fields: dict[tuple[Key, str], str] = {}  # (new model key, new name) -> old name
        for _old_key, new_key, old, new in self._field_pairs():
            removed = [n for n in old.fields if n not in new.fields]
            added = [n for n in new.fields if n not in old.fields]
            for new_name in added:
                new_field = new.fields[new_name]
                for old_name in removed:
                    if old_name in self.renamed_fields.values() and (new_key, old_name) in self._renamed_old():
                        continue
                    old_field = old.fields[old_name]
                    if self._rename_signature(old, old_field) != self._rename_signature(new, new_field):
                        continue
                    if self.questioner.ask_rename(new.name, old_name, new_name, new_field):
                        op = operations.RenameField(model_name=new.name_lower, old_name=old_name, new_name=new_name)
                        self.add(new_key[0], op, model_key=new_key)
                        self.renamed_fields[new_key, new_name] = old_name
                        removed.remove(old_name)
                        break

    def _renamed_old(self) -> set[tuple[Key, str]]:
        return {(k, old) for (k, _new), old in self.renamed_fields.items()}

    def _rename_signature(self, model: Any, field: Any) -> Any:
        path, args, kwargs = self._signature(model, field)
        # A column pinned by db_column survives the rename; compare the rest.
        return path, args, tuple((k, v) for k, v in kwargs if k != "db_column")

    def _old_name(self, new_key: Key, new_name: str) -> str:
        return self.renamed_fields.get((new_key, new_name), new_name)

    # -- removed --------------------------------------------------------------------

    def generate_removed_fields(self) -> None:
        self.unlinks: dict[Key, list[Planned]] = {}
        for old_key, new_key, old, new in self._field_pairs():
            kept_old = {self._old_name(new_key, n) for n in new.fields}
            for name, field in old.fields.items():
                if name in kept_old:
                    continue
                op = operations.RemoveField(model_name=new.name_lower, name=name)
                planned = self.add(new_key[0], op, model_key=new_key)
                if field.is_relation:
                    self.unlinks.setdefault(relation_target(old, field), []).append(planned)

    # -- added ----------------------------------------------------------------------

    def generate_added_fields(self) -> None:
        for old_key, new_key, old, new in self._field_pairs():
            for name, field in new.fields.items():
                if name in old.fields or (new_key, name) in self.renamed_fields:
                    continue
                needs: list[Any] = []
                if field.is_relation:
                    needs = self.relation_needs(new_key, new, field)
                preserve_default = True
                if _needs_one_off_default(field):
                    if getattr(field, "auto_now_add", False):
                        value = self.questioner.ask_auto_now_add_addition(name, new.name)
                    else:
                        value = self.questioner.ask_not_null_addition(name, new.name)
                    field = field.clone()
                    field.default = value
                    preserve_default = False
                op = operations.AddField(model_name=new.name_lower, name=name, field=field,
                                         preserve_default=preserve_default)
                self.add(new_key[0], op, model_key=new_key, needs=needs)

    # -- altered --------------------------------------------------------------------

    def generate_altered_fields(self) -> None:
        for old_key, new_key, old, new in self._field_pairs():
            for name, new_field in new.fields.items():
                old_name = self._old_name(new_key, name)
                if old_name not in old.fields:
                    continue
                old_field = old.fields[old_name]
                old_sig = self._signature(old, old_field)
                new_sig = self._signature(new, new_field)
                if old_name != name:
                    # Renamed: compare as if db_column were the only difference allowed.
                    old_sig, new_sig = self._rename_signature(old, old_field), self._rename_signature(new, new_field)
                    if old_sig == new_sig and old_field.db_column == new_field.db_column:
                        continue
                    old_sig, new_sig = self._signature(old, old_field), self._signature(new, new_field)
                if old_sig == new_sig:
                    continue
                needs: list[Any] = []
                if new_field.is_relation:
                    needs = self.relation_needs(new_key, new, new_field)
                preserve_default = True
                if old_field.null and not new_field.null and not new_field.has_default() \
                        and not new_field.has_db_default() and not new_field.many_to_many:
                    value = self.questioner.ask_not_null_alteration(name, new.name)
                    if value is not NOT_PROVIDED:
                        new_field = new_field.clone()
                        new_field.default = value
                        preserve_default = False
                op = operations.AlterField(model_name=new.name_lower, name=name, field=new_field,
                                           preserve_default=preserve_default)
                planned = self.add(new_key[0], op, model_key=new_key, needs=needs)
                if old_field.is_relation:
                    self.unlinks.setdefault(relation_target(old, old_field), []).append(planned)
        self.link_deletions(self.unlinks)
