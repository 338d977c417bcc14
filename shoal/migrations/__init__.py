"""The migration engine: ``from shoal import migrations``."""

from shoal.migrations.migration import Migration, swappable_dependency
from shoal.migrations.operations import *  # noqa: F403
from shoal.migrations.operations import __all__ as _operations

__all__ = ["Migration", "swappable_dependency", *_operations]
