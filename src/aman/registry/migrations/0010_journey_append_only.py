"""A person's journey (status events) is append-only: the model and the database refuse
changes, and a person with a journey cannot be deleted (see aman/core/append_only.py). A
merge may still refile the events under the record it keeps, and its undo back.
"""

import django.db.models.deletion
from django.db import migrations, models

from aman.core.append_only import guard


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0009_name_pairs'),
    ]

    operations = [
        migrations.AlterField(
            model_name='statusevent',
            name='person',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='status_events', to='registry.person'),
        ),
        guard("registry_statusevent", movable=("person_id",)),
    ]
