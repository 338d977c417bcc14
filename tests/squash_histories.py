"""Random but valid migration histories of one app, for optimizer and squash tests.

``generate_history(seed, steps)`` returns a list of operations a real user
could have produced (each valid on the state the previous ones leave):
models created, renamed and deleted, fields added (also with one-off
defaults), altered, renamed and removed, foreign keys between the models,
options, unique_together, indexes, constraints, table names, and an
occasional RunPython barrier or elidable RunSQL.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from shoal import migrations, models

APP = "books"


def noop_forwards(apps: Any, schema_editor: Any) -> None:
    """A RunPython body that does nothing (a barrier for the optimizer)."""


@dataclass
class _Model:
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> kind
    unique_together: set[tuple[str, str]] = field(default_factory=set)
    indexes: dict[str, list[str]] = field(default_factory=dict)
    constraints: dict[str, list[str]] = field(default_factory=dict)
    fks_to: set[str] = field(default_factory=set)  # names of fk fields (to other models)
    ordering: list[str] = field(default_factory=list)

    def locked(self) -> set[str]:
        """Fields named by unique_together, indexes or constraints."""
        names = {f for group in self.unique_together for f in group} | set(self.ordering)
        for covered in [*self.indexes.values(), *self.constraints.values()]:
            names.update(covered)
        return names

    def plain(self) -> list[str]:
        return [n for n, k in self.fields.items() if n != "id" and k != "fk"]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.models: dict[str, _Model] = {}
        self.counter = 0
        self.ops: list[Any] = []

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- fields ------------------------------------------------------------------

    def make_field(self, kind: str, target: str | None = None, *, must_fill: bool = False) -> Any:
        rng = self.rng
        if kind == "char":
            opts: dict[str, Any] = {"max_length": rng.choice([10, 20, 50])}
            if must_fill or rng.random() < 0.4:
                opts["default"] = rng.choice(["", "x", "abc"])
            return models.CharField(**opts)
        if kind == "int":
            if must_fill or rng.random() < 0.5:
                return models.IntegerField(default=rng.choice([0, 1, 7]))
            return models.IntegerField(null=True)
        if kind == "bool":
            return models.BooleanField(default=rng.random() < 0.5)
        if kind == "text":
            return models.TextField(null=True, blank=True)
        assert kind == "fk" and target is not None
        return models.ForeignKey(f"{APP}.{target}", on_delete=models.CASCADE, null=True, related_name="+")

    # -- operations ----------------------------------------------------------------

    def create_model(self) -> None:
        name = self.fresh("M").title()
        model = _Model(name, {"id": "id"})
        fields = [("id", models.AutoField(primary_key=True, serialize=False))]
        for _ in range(self.rng.randint(1, 3)):
            kind = self.rng.choice(["char", "int", "bool", "text"])
            fname = self.fresh("f")
            fields.append((fname, self.make_field(kind)))
            model.fields[fname] = kind
        if self.models and self.rng.random() < 0.5:
            target = self.rng.choice(sorted(self.models))
            fname = self.fresh("fk")
            fields.append((fname, self.make_field("fk", target)))
            model.fields[fname] = "fk"
            model.fks_to.add(fname)
        self.models[name] = model
        self.ops.append(migrations.CreateModel(name=name, fields=fields))

    def add_field(self, model: _Model) -> bool:
        fname = self.fresh("f")
        kind = self.rng.choice(["char", "int", "bool", "text", "fk"])
        if kind == "fk":
            target = self.rng.choice(sorted(self.models))
            self.ops.append(migrations.AddField(model.name, fname, self.make_field("fk", target)))
            model.fks_to.add(fname)
        elif kind in ("char", "int") and self.rng.random() < 0.4:
            # Like makemigrations after "provide a one-off default".
            one_off = models.CharField(max_length=20, default="z") if kind == "char" else models.IntegerField(default=3)
            self.ops.append(migrations.AddField(model.name, fname, one_off, preserve_default=False))
        else:
            self.ops.append(migrations.AddField(model.name, fname, self.make_field(kind)))
        model.fields[fname] = kind
        return True

    def alter_field(self, model: _Model) -> bool:
        choices = [n for n in model.plain() if model.fields[n] in ("char", "int")]
        if not choices:
            return False
        fname = self.rng.choice(choices)
        kind = model.fields[fname]
        if kind == "int" and self.rng.random() < 0.3:
            # Make non-nullable with a one-off default for the existing NULLs.
            self.ops.append(migrations.AlterField(model.name, fname, models.IntegerField(default=5), preserve_default=False))
        else:
            self.ops.append(migrations.AlterField(model.name, fname, self.make_field(kind, must_fill=kind == "int")))
        return True

    def rename_field(self, model: _Model) -> bool:
        choices = [n for n in model.fields if n != "id" and n not in model.locked()]
        if not choices:
            return False
        old = self.rng.choice(choices)
        new = self.fresh("r")
        self.ops.append(migrations.RenameField(model.name, old, new))
        model.fields = {(new if n == old else n): k for n, k in model.fields.items()}
        if old in model.fks_to:
            model.fks_to = {new if n == old else n for n in model.fks_to}
        return True

    def remove_field(self, model: _Model) -> bool:
        choices = [n for n in model.fields if n != "id" and n not in model.locked()]
        if len(model.fields) <= 2 or not choices:
            return False
        fname = self.rng.choice(choices)
        self.ops.append(migrations.RemoveField(model.name, fname))
        del model.fields[fname]
        model.fks_to.discard(fname)
        return True

    def delete_model(self, model: _Model) -> bool:
        for other in self.models.values():
            if other is not model and other.fks_to:
                return False  # keep it simple: only delete when no fk exists anywhere else
        if model.fks_to:
            return False
        self.ops.append(migrations.DeleteModel(model.name))
        del self.models[model.name]
        return True

    def rename_model(self, model: _Model) -> bool:
        if any(m.fks_to for m in self.models.values()):
            return False  # relations to renamed models are covered by dedicated tests
        new = self.fresh("N").title()
        self.ops.append(migrations.RenameModel(model.name, new))
        del self.models[model.name]
        model.name = new
        self.models[new] = model
        return True

    def options(self, model: _Model) -> bool:
        roll = self.rng.random()
        plain = [n for n in model.plain() if model.fields[n] in ("char", "int", "bool")]
        if roll < 0.25:
            ordering = [self.rng.choice(plain)] if plain else []
            self.ops.append(migrations.AlterModelOptions(model.name, {"ordering": ordering, "verbose_name": "thing"}))
            model.ordering = ordering
        elif roll < 0.45 and len(plain) >= 2:
            pair = tuple(self.rng.sample(plain, 2))
            together = set() if model.unique_together else {pair}
            self.ops.append(migrations.AlterUniqueTogether(model.name, together))
            model.unique_together = together  # type: ignore[assignment]
        elif roll < 0.65 and plain:
            if model.indexes and self.rng.random() < 0.5:
                name = self.rng.choice(sorted(model.indexes))
                self.ops.append(migrations.RemoveIndex(model.name, name))
                del model.indexes[name]
            else:
                name = self.fresh("ix_")
                fname = self.rng.choice(plain)
                self.ops.append(migrations.AddIndex(model.name, models.Index(fields=[fname], name=name)))
                model.indexes[name] = [fname]
        elif roll < 0.8 and plain:
            if model.constraints and self.rng.random() < 0.5:
                name = self.rng.choice(sorted(model.constraints))
                self.ops.append(migrations.RemoveConstraint(model.name, name))
                del model.constraints[name]
            else:
                name = self.fresh("uq_")
                fname = self.rng.choice(plain)
                self.ops.append(migrations.AddConstraint(model.name, models.UniqueConstraint(fields=[fname], name=name)))
                model.constraints[name] = [fname]
        else:
            table = self.rng.choice([None, f"tbl_{model.name.lower()}_{self.fresh('t')}"])
            self.ops.append(migrations.AlterModelTable(model.name, table))
        return True

    def special(self) -> bool:
        if self.rng.random() < 0.5:
            self.ops.append(migrations.RunPython(noop_forwards, migrations.RunPython.noop))
        else:
            self.ops.append(migrations.RunSQL("SELECT 1", migrations.RunSQL.noop, elidable=True))
        return True

    def step(self) -> None:
        if not self.models or self.rng.random() < 0.15:
            self.create_model()
            return
        model = self.models[self.rng.choice(sorted(self.models))]
        action = self.rng.choices(
            ["add", "alter", "rename", "remove", "delete", "rename_model", "options", "special"],
            weights=[6, 4, 3, 3, 1, 1, 3, 1],
        )[0]
        done = {
            "add": lambda: self.add_field(model),
            "alter": lambda: self.alter_field(model),
            "rename": lambda: self.rename_field(model),
            "remove": lambda: self.remove_field(model),
            "delete": lambda: self.delete_model(model),
            "rename_model": lambda: self.rename_model(model),
            "options": lambda: self.options(model),
            "special": self.special,
        }[action]()
        if not done:
            self.add_field(model)


def generate_history(seed: int, steps: int = 25) -> list[Any]:
    """A valid list of operations of app ``books`` (deterministic per seed)."""
    gen = _Generator(seed)
    for _ in range(steps):
        gen.step()
    return gen.ops


def split(operations: list[Any], seed: int, parts: int = 4) -> list[list[Any]]:
    """Cut a history into consecutive non-empty chunks (one per migration)."""
    rng = random.Random(seed)
    parts = max(1, min(parts, len(operations)))
    cuts = sorted(rng.sample(range(1, len(operations)), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, len(operations)]
    return [operations[a:b] for a, b in itertools.pairwise(bounds)]
