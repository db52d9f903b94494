# Negative registration reads "has an absence case" from the employee itself (kept by a trigger
# of the cases app, cases 0004), so the access rule needs neither the cases model nor a subquery.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("employees", "0002_direct_object_permissions")]

    operations = [
        migrations.AddField(
            model_name="employee",
            name="has_absence_case",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
