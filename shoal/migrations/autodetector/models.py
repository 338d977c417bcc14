"""Models created, deleted and renamed.  [pure]"""

from __future__ import annotations

from typing import Any

from shoal.migrations import operations
from shoal.migrations.autodetector.base import Planned, field_signature
from shoal.migrations.state import ModelState
from shoal.models.fields.related import resolve_relation

Key = tuple[str, str]

# Options CreateModel does not carry (empty containers are left out too).
_CREATE_SKIP = {"indexes", "constraints"}


def relation_target(model: ModelState, field: Any) -> Key:
    return resolve_relation(field.remote_field.model, model.app_label, model.name_lower)


def through_targets(model: ModelState, field: Any) -> list[Key]:
    """The explicit ``through=`` model of a many-to-many field, as a key."""
    through = getattr(field, "through", None)
    if not getattr(field, "many_to_many", False) or through is None:
        return []
    return [resolve_relation(through, model.app_label, model.name_lower)]


def base_targets(model: ModelState) -> list[Key]:
    out = []
    for base in model.bases:
        if isinstance(base, str) and "." in base and base != "shoal.models.Model":
            app, name = base.rsplit(".", 1)
            out.append((app, name.lower()))
    return out


def create_options(model: ModelState) -> dict[str, Any]:
    options = {}
    for key, value in model.options.items():
        if key in _CREATE_SKIP and not value:
            continue
        options[key] = value
    return options


def _names(item: Any) -> set[str]:
    """Field names an index or constraint mentions (its fields and include)."""
    names = {f.lstrip("-") for f in getattr(item, "fields", ()) or ()}
    return names | set(getattr(item, "include", ()) or ())


def split_options(model: ModelState, deferred: set[str]) -> tuple[dict[str, Any], list[Any]]:
    """CreateModel options, and the operations that must wait for fields
    added after the CreateModel (a relation deferred to break a cycle)."""
    options = create_options(model)
    if not deferred:
        return options, []
    later: list[Any] = []
    name = model.name_lower
    groups = set(options.get("unique_together") or ())
    if any(deferred & set(group) for group in groups):
        options.pop("unique_together")
        later.append(operations.AlterUniqueTogether(name=name, unique_together=groups))
    if options.get("order_with_respect_to") in deferred:
        later.append(operations.AlterOrderWithRespectTo(name=name,
                                                        order_with_respect_to=options.pop("order_with_respect_to")))
    for option, add, kwarg in (("indexes", operations.AddIndex, "index"),
                               ("constraints", operations.AddConstraint, "constraint")):
        waiting = [item for item in options.get(option) or () if _names(item) & deferred]
        if waiting:
            options[option] = [item for item in options[option] if item not in waiting]
            if not options[option]:
                options.pop(option)
            later += [add(model_name=name, **{kwarg: item}) for item in waiting]
    return options, later


class ModelChanges:
    """Mixin of :class:`MigrationAutodetector`: whole-model changes."""

    from_state: Any
    to_state: Any
    questioner: Any
    creators: dict[Key, Planned]
    renamed_models: dict[Key, Key]
    from_keys: set[Key]
    to_keys: set[Key]

    def add(self, app_label: str, operation: Any, model_key: Key | None = None,
            needs: list[Any] | None = None) -> Planned: ...

    # -- helpers shared with other families ---------------------------------------

    def need_for_target(self, app_label: str, target: Key, field: Any = None) -> list[Any]:
        """What an operation in ``app_label`` needs so that ``target`` exists."""
        setting = getattr(getattr(field, "remote_field", None), "model", None)
        if getattr(setting, "setting_name", None):
            return [("swappable", str(setting))]
        if target in self.creators:
            return [self.creators[target]]
        if target[0] != app_label:
            return [("app", target[0])]
        return []

    def relation_needs(self, key: Key, model: ModelState, field: Any) -> list[Any]:
        """What a relation field of ``model`` needs: its target and its through model."""
        needs: list[Any] = []
        for target in [relation_target(model, field), *through_targets(model, field)]:
            if target != key:
                needs += self.need_for_target(key[0], target, field if target == relation_target(model, field) else None)
        return needs

    def kept_models(self) -> list[tuple[Key, Key]]:
        """(old key, new key) of models present before and after (renames mapped)."""
        pairs = [(k, k) for k in sorted(self.from_keys & self.to_keys)]
        pairs += sorted(self.renamed_models.items())
        return pairs

    # -- renamed ------------------------------------------------------------------

    def _model_fingerprint(self, model: ModelState, key_map: dict[Key, Key]) -> tuple[Any, ...]:
        return tuple(
            (name, field_signature(f, key_map, model.app_label, model.name_lower))
            for name, f in model.fields.items()
        )

    def generate_renamed_models(self) -> None:
        added = sorted(self.to_keys - self.from_keys)
        removed = sorted(self.from_keys - self.to_keys)
        for new_key in added:
            new = self.to_state.models[new_key]
            for old_key in removed:
                if old_key in self.renamed_models or old_key[0] != new_key[0]:
                    continue
                old = self.from_state.models[old_key]
                # Relations to itself must compare equal across the rename.
                if self._model_fingerprint(old, {old_key: new_key}) != self._model_fingerprint(new, {}):
                    continue
                if self.questioner.ask_rename_model(old, new):
                    op = operations.RenameModel(old.name, new.name)
                    planned = self.add(new_key[0], op, model_key=new_key)
                    self.creators[new_key] = planned
                    self.renamed_models[old_key] = new_key
                    break

    # -- created ------------------------------------------------------------------

    def generate_created_models(self) -> None:
        new_keys = sorted(self.to_keys - self.from_keys - set(self.renamed_models.values()))
        if not new_keys:
            return
        new_set = set(new_keys)
        edges: dict[Key, set[Key]] = {k: set() for k in new_keys}
        deferred: dict[Key, list[str]] = {k: [] for k in new_keys}
        # Bases always stay inline; relation edges are kept unless they close a cycle.
        for key in new_keys:
            for target in base_targets(self.to_state.models[key]):
                if target in new_set and target != key:
                    edges[key].add(target)
        # Foreign keys first, then many-to-many fields (their target and through
        # model): a cycle is broken at the many-to-many field when it can be,
        # as Django adds a ``through=`` field after its through model.
        for many in (False, True):
            for key in new_keys:
                model = self.to_state.models[key]
                for fname, field in model.fields.items():
                    if not field.is_relation or bool(field.many_to_many) != many:
                        continue
                    targets = {relation_target(model, field)} | set(through_targets(model, field))
                    targets = {t for t in targets if t in new_set and t != key}
                    if any(_reaches(edges, target, key) for target in targets):
                        deferred[key].append(fname)
                    else:
                        edges[key].update(targets)
        later: dict[Key, list[Any]] = {}
        for key in _topological(new_keys, edges):
            model = self.to_state.models[key]
            needs: list[Any] = []
            inline = []
            for fname, field in model.fields.items():
                if fname in deferred[key]:
                    continue
                inline.append((fname, field))
                if field.is_relation:
                    needs += self.relation_needs(key, model, field)
            for target in base_targets(model):
                needs += self.need_for_target(key[0], target)
            options, later[key] = split_options(model, set(deferred[key]))
            op = operations.CreateModel(
                name=model.name, fields=inline, options=options,
                bases=model.bases, managers=model.managers,
            )
            self.creators[key] = self.add(key[0], op, model_key=key, needs=needs)
        for key in new_keys:
            model = self.to_state.models[key]
            for fname in deferred[key]:
                field = model.fields[fname]
                op = operations.AddField(model_name=model.name_lower, name=fname, field=field)
                self.add(key[0], op, model_key=key, needs=self.relation_needs(key, model, field))
            for op in later.get(key, []):
                self.add(key[0], op, model_key=key)

    # -- deleted ------------------------------------------------------------------

    def generate_deleted_models(self) -> None:
        gone = sorted(self.from_keys - self.to_keys - set(self.renamed_models))
        if not gone:
            return
        gone_set = set(gone)
        # Delete models that point at others first (reverse creation order).
        edges: dict[Key, set[Key]] = {k: set() for k in gone}
        for key in gone:
            model = self.from_state.models[key]
            for field in model.fields.values():
                if field.is_relation and not field.many_to_many:
                    target = relation_target(model, field)
                    if target in gone_set and target != key and not _reaches(edges, target, key):
                        edges[target].add(key)  # target is deleted after key
            for target in base_targets(model):
                if target in gone_set and target != key:
                    edges[target].add(key)
        self.deleters: dict[Key, Planned] = {}
        for key in _topological(gone, edges):
            model = self.from_state.models[key]
            needs = [self.deleters[k] for k in edges[key] if k in self.deleters]
            # A cycle of foreign keys among deleted models: drop the link first.
            for fname, field in model.fields.items():
                if field.is_relation and not field.many_to_many:
                    target = relation_target(model, field)
                    if target in gone_set and target != key and target not in self.deleters and key not in edges[target]:
                        op = operations.RemoveField(model_name=model.name_lower, name=fname)
                        self.add(key[0], op, model_key=key)
            op = operations.DeleteModel(name=model.name)
            self.deleters[key] = self.add(key[0], op, model_key=key, needs=needs)

    def link_deletions(self, unlinks: dict[Key, list[Planned]]) -> None:
        """A deleted model goes after every change that stops pointing at it."""
        for key, planned in getattr(self, "deleters", {}).items():
            planned.needs.extend(unlinks.get(key, []))


def _reaches(edges: dict[Key, set[Key]], start: Key, goal: Key) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return False


def _topological(keys: list[Key], edges: dict[Key, set[Key]]) -> list[Key]:
    """Keys ordered so that each comes after the keys it has edges to (stable)."""
    out: list[Key] = []
    done: set[Key] = set()
    for root in keys:
        if root in done:
            continue
        stack: list[tuple[Key, list[Key]]] = [(root, sorted(edges.get(root, ())))]
        visiting = {root}
        while stack:
            node, todo = stack[-1]
            while todo and (todo[0] in done or todo[0] in visiting):
                todo.pop(0)
            if todo:
                nxt = todo.pop(0)
                visiting.add(nxt)
                stack.append((nxt, sorted(edges.get(nxt, ()))))
            else:
                stack.pop()
                visiting.discard(node)
                done.add(node)
                out.append(node)
    return out
