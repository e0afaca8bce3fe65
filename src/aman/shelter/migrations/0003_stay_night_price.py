"""Each night a stay holds keeps the price agreed when it was booked (`StayNight.rate` and
`currency`), so that changing a room block's rate no longer reprices nights already booked
or stayed. The nights booked before this migration get their block's rate and currency as
they are now — the only price known for them."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_from_block(apps, schema_editor):  # type: ignore[no-untyped-def]
    StayNight = apps.get_model("shelter", "StayNight")
    RoomBlock = apps.get_model("shelter", "RoomBlock")
    block = RoomBlock.objects.filter(pk=OuterRef("block_id"))
    StayNight.objects.filter(rate__isnull=True).update(
        rate=Subquery(block.values("rate")[:1]),
        currency=Subquery(block.values("currency")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [("shelter", "0002_stay_event_append_only")]

    operations = [
        migrations.AddField(
            model_name="staynight",
            name="rate",
            field=models.DecimalField(
                decimal_places=2,
                max_digits=10,
                null=True,
                verbose_name="rate per room and night",
            ),
        ),
        migrations.AddField(
            model_name="staynight",
            name="currency",
            field=models.CharField(max_length=3, null=True, verbose_name="currency"),
        ),
        migrations.RunPython(fill_from_block, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="staynight",
            name="rate",
            field=models.DecimalField(
                decimal_places=2, max_digits=10, verbose_name="rate per room and night"
            ),
        ),
        migrations.AlterField(
            model_name="staynight",
            name="currency",
            field=models.CharField(max_length=3, verbose_name="currency"),
        ),
        migrations.AddConstraint(
            model_name="staynight",
            constraint=models.CheckConstraint(
                condition=models.Q(rate__gte=0), name="stay_night_rate"
            ),
        ),
    ]
