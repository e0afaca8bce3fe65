"""The histories of legs and bookings are append-only: the model and the database refuse
changes, and a leg or booking with history cannot be deleted (see aman/core/append_only.py).
"""

import django.db.models.deletion
from django.db import migrations, models

from aman.core.append_only import guard


class Migration(migrations.Migration):

    dependencies = [
        ('transport', '0004_leg_escort'),
    ]

    operations = [
        migrations.AlterField(
            model_name='bookingevent',
            name='booking',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='transport.booking'),
        ),
        migrations.AlterField(
            model_name='legevent',
            name='leg',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='transport.leg'),
        ),
        guard("transport_legevent", "transport_bookingevent"),
    ]
