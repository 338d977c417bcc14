"""The migration engine: ``from shoal import migrations``."""

import importlib
from typing import Any

from shoal.migrations.migration import Migration, swappable_dependency


# -- Added by the planning-performance work: operations load on first use. --
# Importing any ``shoal.migrations.*`` module runs this file; the operations
# (and through them the whole model layer) are only needed once a migration
# file or the autodetector asks for ``migrations.CreateModel`` and friends, so
# ``showmigrations`` and a no-op ``migrate`` never pay for them.  Every
# operation name is capitalised; other names are submodules or missing.
def __getattr__(name: str) -> Any:
    if not (name[:1].isupper() or name == "__all__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    operations = importlib.import_module("shoal.migrations.operations")
    if name == "__all__":
        value: Any = ["Migration", "swappable_dependency", *operations.__all__]
    else:
        try:
            value = getattr(operations, name)
        except AttributeError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value  # later lookups are plain attribute reads
    return value
