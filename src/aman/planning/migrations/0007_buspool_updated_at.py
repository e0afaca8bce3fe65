import django.utils.timezone
from django.db import migrations, models


def as_created(apps, schema_editor):
    """A pool of before the field was last changed when it was made (as far as anyone
    knows): drafts started since stay publishable."""
    BusPool = apps.get_model("planning", "BusPool")
    BusPool.objects.update(updated_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0006_planning_policy_minutes"),
    ]

    operations = [
        migrations.AddField(
            model_name="buspool",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(as_created, migrations.RunPython.noop),
    ]
