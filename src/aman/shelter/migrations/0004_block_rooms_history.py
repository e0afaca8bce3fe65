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
    """Each block's rooms from its first night — and, where a block was shrunk before this
    migration while rooms above the new number were still held on nights already past (the
    shrink checked only the nights from today on), those past nights keep the rooms held:
    the highest room held that night, in changes recorded in night order (the last one the
    block's rooms, from the first night not past)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from django.db.models import Max
    from django.utils import timezone

    RoomBlock = apps.get_model("shelter", "RoomBlock")
    RoomBlockRooms = apps.get_model("shelter", "RoomBlockRooms")
    StayNight = apps.get_model("shelter", "StayNight")

    def zone(name: str):  # type: ignore[no-untyped-def]  # the hotel's clock (geo.Place.zone)
        try:
            return ZoneInfo(name) if name else timezone.get_current_timezone()
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.get_current_timezone()

    latest = timezone.now().date() + timedelta(days=1)  # tonight, in any zone, at the latest
    held: dict[int, dict] = {}
    for block_id, night, top in (
        StayNight.objects.filter(night__lt=latest)
        .values("block_id", "night")
        .annotate(top=Max("room"))
        .values_list("block_id", "night", "top")
    ):
        held.setdefault(block_id, {})[night] = top
    rows = []
    for block in RoomBlock.objects.select_related("hotel__place").order_by("pk").iterator():
        today = timezone.localtime(timezone.now(), zone(block.hotel.place.timezone)).date()
        past = {n: top for n, top in held.get(block.pk, {}).items() if n < today}
        changes = [(block.first_night, max(block.rooms, past.get(block.first_night, 0)))]
        night = block.first_night + timedelta(days=1)
        while past and night <= block.last_night:
            rooms = max(block.rooms, past.get(night, 0)) if night < today else block.rooms
            if rooms != changes[-1][1]:
                changes.append((night, rooms))
            if night >= today:
                break
            night += timedelta(days=1)
        rows += [
            RoomBlockRooms(
                block_id=block.pk,
                from_night=start,
                rooms=rooms,
                recorded_at=block.created_at,
                recorded_by_id=block.created_by_id,
            )
            for start, rooms in changes
        ]
    RoomBlockRooms.objects.bulk_create(rows, batch_size=500)


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
