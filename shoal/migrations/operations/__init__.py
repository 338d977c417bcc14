"""Every built-in migration operation (``migrations.CreateModel`` ...)."""

from shoal.migrations.operations.base import Operation
from shoal.migrations.operations.fields import AddField, AlterField, RemoveField, RenameField
from shoal.migrations.operations.indexes import (
    AddConstraint, AddIndex, AlterUniqueTogether, RemoveConstraint, RemoveIndex, RenameIndex,
)
from shoal.migrations.operations.models import (
    AlterModelManagers, AlterModelOptions, AlterModelTable, AlterModelTableComment,
    CreateModel, DeleteModel, RenameModel,
)
from shoal.migrations.operations.ordering import AlterOrderWithRespectTo
from shoal.migrations.operations.special import RunPython, RunSQL, SeparateDatabaseAndState

__all__ = [
    "Operation", "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable",
    "AlterModelTableComment", "AlterModelOptions", "AlterModelManagers",
    "AddField", "RemoveField", "AlterField", "RenameField",
    "RunSQL", "RunPython", "SeparateDatabaseAndState",
    "AddIndex", "RemoveIndex", "RenameIndex", "AddConstraint", "RemoveConstraint", "AlterUniqueTogether",
    "AlterOrderWithRespectTo",
]
