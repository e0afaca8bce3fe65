"""A stay's history is append-only in the database too, as the audit log is (see
core/migrations/0003_audit_append_only.py for the reasons of each choice).

PostgreSQL: row UPDATE and DELETE raise (TRUNCATE is left to the database owner). SQLite:
UPDATE raises; DELETE is refused by the model layer only, because Django's flush between
transactional tests deletes rows.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER shelter_stayevent_no_update BEFORE UPDATE ON shelter_stayevent
       BEGIN SELECT RAISE(ABORT, 'shelter_stayevent is append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS shelter_stayevent_no_update",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION shelter_stayevent_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'shelter_stayevent is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER shelter_stayevent_no_change BEFORE UPDATE OR DELETE ON shelter_stayevent
       FOR EACH ROW EXECUTE FUNCTION shelter_stayevent_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS shelter_stayevent_no_change ON shelter_stayevent",
    "DROP FUNCTION IF EXISTS shelter_stayevent_append_only()",
]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("shelter", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
