"""Legs say whether a medical escort travels on them (the planner's `escort`).

SQLite adds a column by rebuilding the table, which its booking triggers (0002) name:
they are dropped before and made again after, on SQLite only."""

from importlib import import_module

from django.db import migrations, models

triggers = import_module("aman.transport.migrations.0002_seat_count_triggers")


def sqlite_only(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("transport", "0003_leg_import")]

    operations = [
        migrations.RunPython(
            sqlite_only(triggers.SQLITE_REVERSE), sqlite_only(triggers.SQLITE)
        ),
        migrations.AddField(
            model_name="leg",
            name="escort",
            field=models.BooleanField(default=False, verbose_name="medical escort on board"),
        ),
        migrations.RunPython(
            sqlite_only(triggers.SQLITE), sqlite_only(triggers.SQLITE_REVERSE)
        ),
    ]
