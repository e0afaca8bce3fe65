"""A stay's history is append-only in the database too, as the audit log is (see
aman/core/append_only.py)."""

from django.db import migrations

from aman.core.append_only import guard


class Migration(migrations.Migration):
    dependencies = [("shelter", "0001_initial")]
    operations = [guard("shelter_stayevent")]
