"""A place's status history is append-only: the model and the database refuse changes, and a
place with history cannot be deleted (see aman/core/append_only.py).
"""

import django.db.models.deletion
from django.db import migrations, models

from aman.core.append_only import guard


class Migration(migrations.Migration):

    dependencies = [
        ('geo', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='placestatusevent',
            name='place',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='status_events', to='geo.place'),
        ),
        guard("geo_placestatusevent"),
    ]
