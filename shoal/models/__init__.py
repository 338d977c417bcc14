"""What users declare: ``from shoal import models``."""

from shoal.models import deletion
from shoal.models.base import Model
from shoal.models.deletion import (
    CASCADE, DO_NOTHING, PROTECT, RESTRICT, SET, SET_DEFAULT, SET_NULL,
    ProtectedError, RestrictedError,
)
from shoal.models.fields import (
    NOT_PROVIDED, AutoField, BigAutoField, BigIntegerField, BinaryField, BooleanField,
    CharField, DateField, DateTimeField, DecimalField, DurationField, EmailField, Field,
    FloatField, ForeignKey, GenericIPAddressField, IntegerField, JSONField,
    ManyToManyField, OneToOneField, PositiveBigIntegerField, PositiveIntegerField,
    PositiveSmallIntegerField, SlugField, SmallAutoField, SmallIntegerField, TextField,
    TimeField, URLField, UUIDField,
)
from shoal.models.constraints import BaseConstraint, CheckConstraint, Deferrable, UniqueConstraint
from shoal.models.enums import Choices, IntegerChoices, TextChoices
from shoal.models.indexes import Index
from shoal.models.manager import BaseManager, Manager
from shoal.models import functions
from shoal.models.expressions import Value
from shoal.models.query_utils import F, Q

__all__ = [
    "deletion", "Model", "Manager", "BaseManager", "NOT_PROVIDED",
    "CASCADE", "DO_NOTHING", "PROTECT", "RESTRICT", "SET", "SET_DEFAULT", "SET_NULL",
    "ProtectedError", "RestrictedError",
    "Field", "AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
    "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "PositiveBigIntegerField", "FloatField",
    "DecimalField", "BooleanField", "CharField", "SlugField", "EmailField", "URLField",
    "TextField", "DateField", "DateTimeField", "TimeField", "DurationField",
    "BinaryField", "UUIDField", "JSONField", "GenericIPAddressField", "ForeignKey",
    "OneToOneField", "ManyToManyField", "Index", "UniqueConstraint", "CheckConstraint",
    "BaseConstraint", "Deferrable", "Choices", "IntegerChoices", "TextChoices", "Q", "F", "QuerySet",
    "functions", "Value",
]


def __getattr__(name: str) -> object:
    """``models.QuerySet`` on first use: the query machinery is not needed to
    declare models, and commands that only compare them should not load it."""
    if name == "QuerySet":
        from shoal.models.query import QuerySet

        return QuerySet
    raise AttributeError(f"module 'shoal.models' has no attribute {name!r}")

