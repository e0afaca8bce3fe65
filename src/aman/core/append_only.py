"""Records that are never changed once written: the audit log and every history (a person's
journey, a booking's, a leg's, a stay's, a crossing's status).

Two guards. The model refuses `save()` of a stored row, `delete()`, and a query set's
`update()` and `delete()`: a mistake in our own code fails loudly in tests. The database
refuses them too (`guard`, used by each app's migration), so that nothing written around
the model — a shell, a script, a raw query — rewrites history:

- PostgreSQL (production): a row trigger raises on UPDATE and DELETE. TRUNCATE is left to
  the database owner (Django's test flush uses it; production grants the application's
  role no TRUNCATE, see docs/deploy.md).
- SQLite (the embedded demo): a trigger raises on UPDATE; DELETE is refused by the model
  only, because Django's flush between transactional tests deletes rows.

The subject of a history (a person, a booking, a leg, a place) is protected by it: deleting
it while it has history is refused (`on_delete=PROTECT`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import migrations, models


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError(self.model.append_only_message)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(self.model.append_only_message)


class AppendOnlyModel(models.Model):
    append_only_message: ClassVar[str] = "This history is append-only."

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(self.append_only_message)


def _statements(table: str, vendor: str, columns: list[str], movable: tuple[str, ...]) -> list[str]:
    if vendor == "sqlite":
        of = f" OF {', '.join(c for c in columns if c not in movable)}" if movable else ""
        return [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE{of} ON {table}
       BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        ]
    if vendor == "postgresql":
        keep = ""
        if movable:
            names = ", ".join(f"'{c}'" for c in movable)
            keep = f"""IF TG_OP = 'UPDATE'
            AND to_jsonb(NEW) - ARRAY[{names}] = to_jsonb(OLD) - ARRAY[{names}]
          THEN RETURN NEW; END IF;
         """
        return [
            f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
       BEGIN {keep}RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
       FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
        ]
    return []


def _reverse(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update"]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_append_only()",
        ]
    return []


def guard(*tables: str, movable: tuple[str, ...] = ()) -> migrations.RunPython:
    """A migration operation putting the database's guard on `tables` (and taking it off
    when the migration is reversed). `movable` columns may still be updated — a person's
    journey is refiled under the record a merge keeps (and back when it is undone): who the
    events belong to changes, what happened and when does not."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        for table in tables:
            with connection.cursor() as cursor:
                columns = [
                    c.name for c in connection.introspection.get_table_description(cursor, table)
                ]
            for sql in _statements(table, connection.vendor, columns, movable):
                schema_editor.execute(sql)

    def backwards(apps: Any, schema_editor: Any) -> None:
        for table in tables:
            for sql in _reverse(table, schema_editor.connection.vendor):
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)
