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
from shoal.models.constraints import BaseConstraint, CheckConstraint, UniqueConstraint
from shoal.models.indexes import Index
from shoal.models.manager import BaseManager, Manager

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
    "BaseConstraint",
]

# -- Added by the ORM author (query helpers); the lead may fold these into the lists above. --
from shoal.models.query_utils import F, Q  # noqa: E402
from shoal.models.query import QuerySet  # noqa: E402

__all__ += ["Q", "F", "QuerySet"]

# -- Enumerated choices (model language, issue 6). --
from shoal.models.enums import Choices, IntegerChoices, TextChoices  # noqa: E402
from shoal.models.constraints import Deferrable  # noqa: E402

__all__ += ["Choices", "IntegerChoices", "TextChoices", "Deferrable"]
