"""The audit log is append-only in the database too (see aman/core/append_only.py for what
is refused on PostgreSQL and on SQLite, and why TRUNCATE and SQLite's DELETE are left)."""

from django.db import migrations

from aman.core.append_only import guard


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [guard("core_auditentry")]
