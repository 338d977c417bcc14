"""Turn a Migration object into the source text of a migration file.

The writer only builds a string; the caller decides where it goes
(``makemigrations`` writes it to ``<migrations package>/<filename>``).  Values
inside operations are written by :mod:`shoal.migrations.serializer`; this
module lays out the file, gathers and merges the imports, and, when ``black``
is importable, runs the result through it.

Pure: no database, no file access (the header's time honours ``SOURCE_DATE_EPOCH``).
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
from typing import Any

from shoal.exceptions import SerializationError
from shoal.migrations import serializer as _serializer
from shoal.migrations.serializer import MIGRATIONS_IMPORT, Serializer, SerializerFunc

__all__ = ["MigrationWriter", "format_imports", "format_source"]

_FALLBACK_VERSION = "0.1.0"


def _shoal_version() -> str:
    version = getattr(sys.modules.get("shoal"), "__version__", None)
    return version if isinstance(version, str) else _FALLBACK_VERSION


def header_time() -> datetime.datetime:
    """The time in a file's header: now, or ``SOURCE_DATE_EPOCH`` when set
    (the reproducible-builds convention), so that runs give identical files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc)


def black_available() -> bool:
    """Whether ``black`` can be imported in this environment."""
    return importlib.util.find_spec("black") is not None


def format_source(source: str, use_black: bool | None = None) -> str:
    """Run ``source`` through black when asked (``True``) or when available
    (``None``); ``False`` returns it unchanged.

    Black runs in-process with its default mode, so a project's own black
    configuration does not change generated files.
    """
    if use_black is False or (use_black is None and not black_available()):
        return source
    import black  # imported lazily: optional, and slow to import

    return black.format_str(source, mode=black.Mode())


def format_imports(imports: set[str]) -> list[str]:
    """Sorted import lines: ``import x`` lines first, then ``from x import a, b``
    lines with the names of one module merged (``from shoal import migrations, models``)."""
    plain: set[str] = set()
    from_names: dict[str, set[str]] = {}
    for line in imports:
        line = line.strip()
        if line.startswith("from "):
            module, _, names = line[len("from ") :].partition(" import ")
            from_names.setdefault(module.strip(), set()).update(
                name.strip() for name in names.split(",") if name.strip()
            )
        elif line:
            plain.add(line)
    lines = sorted(plain, key=lambda text: (text.split()[1], text))
    lines += [
        f"from {module} import {', '.join(sorted(from_names[module]))}" for module in sorted(from_names)
    ]
    return lines


def _block(name: str, items: list[str]) -> list[str]:
    """``name = [ ... ]`` with one item per line (``[]`` when empty)."""
    if not items:
        return [f"    {name} = []"]
    body = [f"        {item.replace(chr(10), chr(10) + '        ')}," for item in items]
    return [f"    {name} = [", *body, "    ]"]


class MigrationWriter:
    """Write one :class:`~shoal.migrations.migration.Migration` as Python source.

    ``now`` pins the timestamp of the header (tests); ``use_black`` forces
    (``True``) or skips (``False``) formatting with black, which by default is
    used when installed.
    """

    def __init__(
        self,
        migration: Any,
        include_header: bool = True,
        *,
        now: datetime.datetime | None = None,
        use_black: bool | None = None,
    ) -> None:
        self.migration = migration
        self.include_header = include_header
        self.now = now
        self.use_black = use_black

    @property
    def filename(self) -> str:
        """The file name for this migration: ``<name>.py``."""
        return f"{self.migration.name}.py"

    @staticmethod
    def serialize(value: Any) -> tuple[str, set[str]]:
        """``(source, imports)`` for one value: the entry point for commands that
        write pieces of migrations themselves (squash, optimizemigration)."""
        return _serializer.serialize(value)

    @staticmethod
    def register_serializer(type_: type, func: SerializerFunc) -> None:
        """Teach every writer a new value type; see :func:`serializer.register_serializer`."""
        _serializer.register_serializer(type_, func)

    @staticmethod
    def unregister_serializer(type_: type) -> None:
        """Undo :meth:`register_serializer`."""
        _serializer.unregister_serializer(type_)

    def as_string(self, use_black: bool | None = None) -> str:
        """The whole migration file as text (formatted with black if wanted)."""
        if use_black is None:
            use_black = self.use_black
        return format_source(self._render(), use_black)

    # -- layout ------------------------------------------------------------

    def _render(self) -> str:
        migration = self.migration
        writer = Serializer()
        writer.imports.add(MIGRATIONS_IMPORT)

        # Sorted so that a dependency list built from a set is written the same every run.
        dependencies = sorted(writer.serialize(dep) for dep in migration.dependencies or ())
        replaces = [writer.serialize(item) for item in getattr(migration, "replaces", None) or ()]
        run_before = [writer.serialize(item) for item in getattr(migration, "run_before", None) or ()]
        operations = [self._operation(writer, op) for op in migration.operations or ()]

        lines: list[str] = []
        if self.include_header:
            now = self.now or header_time()
            lines += [f"# Generated by shoal {_shoal_version()} on {now:%Y-%m-%d %H:%M}", ""]
        lines += format_imports(writer.imports)
        lines += ["", "", "class Migration(migrations.Migration):", ""]
        if getattr(migration, "initial", False):
            lines += ["    initial = True", ""]
        if replaces:
            lines += [*_block("replaces", replaces), ""]
        lines += [*_block("dependencies", dependencies), ""]
        if run_before:
            lines += [*_block("run_before", run_before), ""]
        if not getattr(migration, "atomic", True):
            lines += ["    atomic = False", ""]
        lines += _block("operations", operations)
        return "\n".join(lines) + "\n"

    def _operation(self, writer: Serializer, op: Any) -> str:
        try:
            return writer.serialize(op)
        except SerializationError as exc:
            app_label = getattr(self.migration, "app_label", None)
            if exc.model and "." not in exc.model and app_label:
                exc.model = f"{app_label}.{exc.model}"
            raise exc.add_context()
