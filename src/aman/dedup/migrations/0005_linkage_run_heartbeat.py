from django.db import migrations, models


def failures(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Runs that failed before: those the old check gave up on were lost, the rest erred."""
    LinkageRun = apps.get_model("dedup", "LinkageRun")
    failed = LinkageRun.objects.filter(status="failed")
    failed.filter(error_detail__startswith="Interrupted").update(failure="stalled")
    failed.filter(failure="").update(failure="error")


class Migration(migrations.Migration):
    dependencies = [
        ("dedup", "0004_merge_rows"),
    ]

    operations = [
        migrations.RenameField(model_name="linkagerun", old_name="error", new_name="error_detail"),
        migrations.AlterField(
            model_name="linkagerun",
            name="error_detail",
            field=models.TextField(blank=True, verbose_name="technical detail"),
        ),
        migrations.AddField(
            model_name="linkagerun",
            name="failure",
            field=models.CharField(blank=True, max_length=20, verbose_name="failure"),
        ),
        migrations.AddField(
            model_name="linkagerun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(failures, migrations.RunPython.noop),
    ]
