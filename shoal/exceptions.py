"""The one error tree of shoal.

Every error a user can cause derives from :class:`ShoalError`; the CLI prints
its message as one paragraph and exits non-zero, without a traceback.  Errors
carry the data they talk about, so tests and callers need not parse text::

    ShoalError
     +-- ConfigError                 bad [tool.shoal], app that won't import, bad URL
     +-- DriverMissing               psycopg / PyMySQL not installed
     +-- DatabaseError               a driver error, mapped once per backend
     +-- FieldDoesNotExist           model has no such field
     +-- MigrationError
     |    +-- BadMigrationError      syntax error, no Migration class
     |    +-- NodeNotFoundError      dependency on a missing migration
     |    +-- CircularDependencyError
     |    +-- InconsistentMigrationHistory
     |    +-- ConflictError          two leaves in one app
     |    +-- IrreversibleError      unapplying what cannot be undone
     |    +-- MigrationApplyError    a migration failed part-way
     |    +-- LockTimeout            another deploy held the migration lock
     +-- SerializationError          a value that cannot be written to a file
     +-- QuestionError               a question that needs an answer under --noinput
     +-- SystemCheckError            `shoal check` found errors in the models
"""

from __future__ import annotations

from typing import Any


class ShoalError(Exception):
    """Root of every error shoal raises for a user mistake."""

    exit_code = 1


class ConfigError(ShoalError):
    """The project configuration is missing or wrong."""


class DriverMissing(ConfigError):
    """A database driver is not installed; the message names the extra."""

    def __init__(self, driver: str, extra: str) -> None:
        self.driver, self.extra = driver, extra
        super().__init__(
            f"The {driver} driver is not installed. Install it with: pip install 'shoal[{extra}]'"
        )


class DatabaseError(ShoalError):
    """An error reported by the database, with the driver's message."""


class IntegrityError(DatabaseError):
    """A constraint of the database refused a change."""


class FieldDoesNotExist(ShoalError):
    """A model has no field of that name."""


class ImproperlyConfigured(ConfigError):
    """A model or field is declared in a way that cannot work."""


class MigrationError(ShoalError):
    """Something is wrong with the migration history or a migration file."""


class BadMigrationError(MigrationError):
    """A migration file cannot be loaded (syntax error, no Migration class)."""


class NodeNotFoundError(MigrationError):
    """A migration depends on a migration that does not exist."""

    def __init__(self, message: str, node: tuple[str, str], origin: Any = None) -> None:
        self.node, self.origin = node, origin
        super().__init__(message)


class CircularDependencyError(MigrationError):
    """The dependencies between migrations form a cycle."""


class InconsistentMigrationHistory(MigrationError):
    """An applied migration has a dependency that is not applied."""


class ConflictError(MigrationError):
    """An app has more than one leaf migration."""


class IrreversibleError(MigrationError):
    """An operation cannot be unapplied."""


class MigrationApplyError(MigrationError):
    """A migration failed; says which of its operations had already run."""


class LockTimeout(MigrationError):
    """The migration lock was held by another process for too long."""


class SerializationError(ShoalError):
    """A value cannot be written into a migration file.

    Carries the value and, once a caller knows them, the model and field it
    belongs to; :meth:`add_context` fills those in as the error travels out of
    the serializer (the writer knows the model and field, the serializer does
    not), and the message is rebuilt to name them.
    """

    def __init__(
        self, message: str, *, value: Any = None, model: str | None = None, field: str | None = None
    ) -> None:
        self.message, self.value, self.model, self.field = message, value, model, field
        super().__init__(self._full_message())

    def _full_message(self) -> str:
        where = []
        if self.model:
            where.append(f"model {self.model}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def add_context(self, *, model: str | None = None, field: str | None = None) -> "SerializationError":
        """Fill in the model and field where not yet known (the innermost caller wins)."""
        if model and not self.model:
            self.model = model
        if field and not self.field:
            self.field = field
        self.args = (self._full_message(),)
        return self

    def __reduce__(self) -> Any:
        return _rebuild_serialization_error, (type(self), self.message, self.model, self.field)


def _rebuild_serialization_error(
    cls: type[SerializationError], message: str, model: str | None, field: str | None
) -> SerializationError:
    """Unpickle a SerializationError (the value itself is not carried across)."""
    return cls(message, model=model, field=field)


class QuestionError(ShoalError):
    """A question the autodetector needed answered, asked under --noinput."""


class SystemCheckError(ShoalError):
    """System checks found errors; carries the messages (see shoal.checks)."""

    def __init__(self, message: str, messages: Any = ()) -> None:
        self.messages = list(messages)
        super().__init__(message)


class ObjectDoesNotExist(Exception):
    """Base of Model.DoesNotExist (an ORM outcome, not a user mistake)."""


class MultipleObjectsReturned(Exception):
    """Base of Model.MultipleObjectsReturned."""
