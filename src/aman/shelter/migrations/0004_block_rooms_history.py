"""A room block's number of rooms is known night by night: each change is kept, append-only
(in the database too, as a stay's history is), with the first night it applies from, so that
a block shrunk from tonight on keeps its rooms on the nights before. Every block that exists
gets one change: its rooms from its first night, recorded when and by whom it was created."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from aman.core.append_only import guard


def one_change_per_block(apps, schema_editor):  # type: ignore[no-untyped-def]
    RoomBlock = apps.get_model("shelter", "RoomBlock")
    RoomBlockRooms = apps.get_model("shelter", "RoomBlockRooms")
    RoomBlockRooms.objects.bulk_create(
        [
            RoomBlockRooms(
                block_id=block.pk,
                from_night=block.first_night,
                rooms=block.rooms,
                recorded_at=block.created_at,
                recorded_by_id=block.created_by_id,
            )
            for block in RoomBlock.objects.order_by("pk").iterator()
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("shelter", "0003_stay_night_price"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RoomBlockRooms",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("from_night", models.DateField(verbose_name="from the night of")),
                ("rooms", models.PositiveIntegerField(verbose_name="rooms")),
                (
                    "recorded_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="recorded at",
                    ),
                ),
                (
                    "block",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rooms_history",
                        to="shelter.roomblock",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "change of a block's rooms",
                "verbose_name_plural": "changes of a block's rooms",
                "ordering": ["id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("rooms__gte", 1)), name="roomblockrooms_rooms"
                    )
                ],
            },
        ),
        migrations.RunPython(one_change_per_block, migrations.RunPython.noop, elidable=False),
        guard("shelter_roomblockrooms"),
    ]
