"""Writing a squashed (or rewritten) migration whose RunPython code lives in
the migration files it replaces.

A RunPython function defined in ``books/migrations/0002_data.py`` is, by
default, written as a reference to that file
(``shoal.migrations.serializer.migration_function("books.migrations.0002_data",
"forwards")``).  That works while the file exists, but the point of squashing
is to delete it one day.  So :func:`render_migration` *copies* such functions
into the new file when it can do so faithfully:

- the function is a plain module-level ``def`` (no decorator, no closure);
- every module-level name it uses is a module (re-imported), a class or
  function importable from a normal module (re-imported), a simple constant
  (int, float, str, bytes, bool, None, or a tuple/frozenset of them: written
  as a literal), or another function of the same migration files (copied too);
- its name does not clash with another copied function (an entry point that
  clashes is renamed ``<name>_<number of its migration>``).

Names used in default values are provided like the others; annotations are
left unevaluated (the file then starts with ``from __future__ import
annotations``), so names only used in them need not exist.

Anything else stays a reference, the command warns ("Manual porting
required") and the file says, in a comment at the top, which migrations'
functions must be moved in by hand before the old files are deleted.

Reads the source of the (already imported) migration modules with
:func:`inspect.getsource`; does no other I/O.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shoal.migrations.migration import Migration
from shoal.migrations.operations import RunPython, SeparateDatabaseAndState
from shoal.migrations.serializer import register_serializer
from shoal.migrations.writer import MigrationWriter, format_imports, format_source

__all__ = ["CopiedFunction", "Rendered", "render_migration"]

_LITERALS = (int, float, str, bytes, bool, type(None))
_IDENT = str.isidentifier


class CopiedFunction:
    """Stands for a function copied into the new file: it is written as the
    bare name of the copy, and calls the original meanwhile."""

    def __init__(self, func: Callable[..., Any], name: str) -> None:
        self.func = func
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<copied function {self.name}>"


register_serializer(CopiedFunction, lambda value: (value.name, set()))


@dataclass
class Rendered:
    """A rendered migration file: ``source``; ``copied`` function names;
    ``referenced``: module -> why its functions could not be copied."""

    source: str
    copied: list[str] = field(default_factory=list)
    referenced: dict[str, str] = field(default_factory=dict)

    @property
    def needs_manual_porting(self) -> bool:
        return bool(self.referenced)


class _CannotCopy(Exception):
    pass


class _Copier:
    """Collects what the new file needs: import lines, constants, function sources."""

    def __init__(self, modules: set[str]) -> None:
        self.modules = modules
        self.imports: set[str] = set()
        self.constants: list[str] = []
        self.functions: list[str] = []
        self.bound: dict[str, Any] = {}  # name in the new file -> object it stands for
        self.copied: dict[int, str] = {}  # id(original function) -> its name in the new file
        self.referenced: dict[str, str] = {}
        self.future_annotations = False

    # -- operations ---------------------------------------------------------------------

    def rewrite(self, op: Any) -> Any:
        if isinstance(op, SeparateDatabaseAndState):
            inner = [self.rewrite(o) for o in op.database_operations]
            if all(a is b for a, b in zip(inner, op.database_operations)):
                return op
            return SeparateDatabaseAndState(database_operations=inner, state_operations=op.state_operations)
        if not isinstance(op, RunPython):
            return op
        code, reverse = self.local(op.code), self.local(op.reverse_code)
        if code is op.code and reverse is op.reverse_code:
            return op
        return RunPython(code, reverse, atomic=op.atomic, hints=op.hints, elidable=op.elidable)

    def local(self, func: Any) -> Any:
        """A CopiedFunction for a function of the migration files, or ``func``."""
        if not inspect.isfunction(func) or func.__module__ not in self.modules:
            return func
        snapshot = (set(self.imports), list(self.constants), list(self.functions), dict(self.bound), dict(self.copied))
        try:
            return CopiedFunction(func, self.copy(func, entry=True))
        except (_CannotCopy, OSError, TypeError, SyntaxError) as exc:
            self.imports, self.constants, self.functions, self.bound, self.copied = snapshot
            self.referenced.setdefault(func.__module__, f"{func.__name__}: {exc}")
            return func

    # -- functions ------------------------------------------------------------------------

    def copy(self, func: types.FunctionType, entry: bool) -> str:
        """Copy ``func`` (and what it uses); returns its name in the new file."""
        if id(func) in self.copied:
            return self.copied[id(func)]
        if func.__qualname__ != func.__name__ or func.__closure__:
            raise _CannotCopy("it is not a plain module-level function")
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
        node = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != func.__name__:
            raise _CannotCopy("its source could not be isolated")
        if node.decorator_list:
            raise _CannotCopy("it is decorated")
        name = func.__name__
        if name in self.bound and self.bound[name] is not func:
            if not entry or name in _global_names(func.__code__):
                raise _CannotCopy(f"another copied function is also named {name}")
            number = func.__module__.rsplit(".", 1)[-1].split("_", 1)[0]
            name = f"{name}_{number}"
            if name in self.bound:
                raise _CannotCopy(f"another copied function is also named {name}")
            source = source.replace(f"def {func.__name__}(", f"def {name}(", 1)
        self.bound[name] = func
        self.copied[id(func)] = name
        # Default values are evaluated when the copy is defined; annotations are
        # not (the file gets ``from __future__ import annotations``).
        at_definition = {n.id for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None
                         for n in ast.walk(d) if isinstance(n, ast.Name)}
        if _has_annotations(node):
            self.future_annotations = True
        for global_name in sorted(_global_names(func.__code__) | at_definition):
            if global_name in func.__globals__ and not global_name.startswith("__"):
                self.provide(global_name, func.__globals__[global_name])
            elif global_name in at_definition and not hasattr(builtins, global_name):
                raise _CannotCopy(f"a default value uses {global_name}, which is not defined at module level")
        self.functions.append(source.rstrip() + "\n")
        return name

    def provide(self, name: str, value: Any) -> None:
        """Make ``name`` mean ``value`` in the new file."""
        if name in self.bound:
            if self.bound[name] is value:
                return
            raise _CannotCopy(f"the name {name} would mean two different things")
        if name == "Migration":
            raise _CannotCopy("it uses a module-level name Migration")
        self.bound[name] = value
        if inspect.ismodule(value):
            self.imports.add(_import_module_line(name, value.__name__))
        elif inspect.isfunction(value) and value.__module__ in self.modules:
            if self.copy(value, entry=False) != name:
                raise _CannotCopy(f"helper {name} could not keep its name")
        elif inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
            self.imports.add(_import_object_line(name, value, self.modules))
        elif _is_literal(value):
            self.constants.append(f"{name} = {value!r}")
        else:
            raise _CannotCopy(f"it uses the module-level value {name} ({type(value).__name__}), which cannot be copied")


def _has_annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return node.returns is not None or any(a is not None and a.annotation is not None for a in every)


def _global_names(code: types.CodeType) -> set[str]:
    """Names a code object (and the code nested in it) may look up globally."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _import_module_line(name: str, module: str) -> str:
    head, _, last = module.rpartition(".")
    if name == module:
        return f"import {module}"
    if head and last == name and all(_IDENT(p) for p in module.split(".")):
        return f"from {head} import {last}"
    if not all(_IDENT(p) for p in module.split(".")):
        raise _CannotCopy(f"module {module} cannot be imported by name")
    return f"import {module} as {name}"


def _import_object_line(name: str, value: Any, migration_modules: set[str]) -> str:
    module = getattr(value, "__module__", None) or ""
    qualname = getattr(value, "__qualname__", "")
    if module == "builtins" and name == qualname:
        return ""
    if (module in migration_modules or "." in qualname or "<" in qualname
            or not module or not all(_IDENT(p) for p in module.split("."))):
        raise _CannotCopy(f"{name} cannot be imported from its module")
    loaded = sys.modules.get(module)
    if loaded is None or getattr(loaded, qualname, None) is not value:
        raise _CannotCopy(f"{name} is not found as {module}.{qualname}")
    return f"from {module} import {qualname}" + ("" if name == qualname else f" as {name}")


def _is_literal(value: Any) -> bool:
    if isinstance(value, _LITERALS):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_is_literal(v) for v in value)
    return False


# -- rendering -------------------------------------------------------------------------------

PORTING_NOTE = """\
# NOTE: this migration still refers to RunPython functions in the migration
# files below, because shoal could not copy them here safely. Before you
# delete those files, move the functions (and whatever they use) into this
# file and make the RunPython operations refer to the copies:
"""


def render_migration(migration: Migration, source_modules: set[str], *, use_black: bool | None = None,
                     now: Any = None) -> Rendered:
    """The source of ``migration``, with the RunPython functions that live in
    ``source_modules`` copied in where possible (see the module docstring)."""
    try:
        return _render(migration, source_modules, use_black, now)
    except _CannotCopy as exc:
        # A copied name clashes with an import the writer needs: copy nothing.
        referenced: dict[str, str] = {}
        for op in migration.operations:
            for func in _functions_of(op):
                if getattr(func, "__module__", None) in source_modules:
                    referenced.setdefault(func.__module__, str(exc))
        return _render(migration, set(), use_black, now, referenced=referenced)


def _functions_of(op: Any) -> list[Any]:
    if isinstance(op, SeparateDatabaseAndState):
        return [f for inner in op.database_operations for f in _functions_of(inner)]
    if isinstance(op, RunPython):
        return [op.code, op.reverse_code]
    return []


def _render(migration: Migration, source_modules: set[str], use_black: bool | None, now: Any,
            referenced: dict[str, str] | None = None) -> Rendered:
    copier = _Copier(source_modules)
    copier.referenced.update(referenced or {})
    copy = Migration(migration.name, migration.app_label)
    for attr in ("dependencies", "replaces", "run_before"):
        setattr(copy, attr, list(getattr(migration, attr, None) or []))
    copy.initial = getattr(migration, "initial", None)
    copy.atomic = getattr(migration, "atomic", True)
    copy.operations = [copier.rewrite(op) for op in migration.operations]
    text = MigrationWriter(copy, now=now).as_string(use_black=False)
    head, marker, tail = text.partition("\n\nclass Migration(")
    header = [line for line in head.splitlines() if line.startswith("#")]
    imports = {line for line in head.splitlines() if line.startswith(("import ", "from "))}
    if copier.referenced:
        header += ["#", *PORTING_NOTE.rstrip("\n").splitlines(), *(f"#   {m}" for m in sorted(copier.referenced))]
    future = ["from __future__ import annotations", ""] if copier.future_annotations else []
    parts = ["\n".join(header) + "\n\n" if header else "",
             "\n".join([*future, *format_imports(imports | {i for i in copier.imports if i})]) + "\n"]
    if copier.constants:
        parts.append("\n" + "\n".join(copier.constants) + "\n")
    for source in copier.functions:
        parts.append("\n\n" + source)
    source = "".join(parts) + marker + tail
    _check_names(source, copier)
    return Rendered(format_source(source, use_black), sorted(set(copier.copied.values())), dict(copier.referenced))


def _check_names(source: str, copier: _Copier) -> None:
    """Guard against a copied name that an import of the writer also binds."""
    if not copier.bound:
        return
    tree = ast.parse(source)
    bound: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                key = alias.asname or alias.name.split(".")[0]
                bound[key] = bound.get(key, 0) + 1
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                key = alias.asname or alias.name
                bound[key] = bound.get(key, 0) + 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound[node.name] = bound.get(node.name, 0) + 1
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = bound.get(target.id, 0) + 1
    clashes = sorted(name for name, count in bound.items() if count > 1 and name in copier.bound
                     and not inspect.ismodule(copier.bound[name]))
    if clashes:
        raise _CannotCopy(f"copied names clash with the file's imports: {', '.join(clashes)}")
