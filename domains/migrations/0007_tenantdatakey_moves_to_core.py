# The tenant data keys now belong to the core (core 0001 takes over the same table).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0006_tenant_sms_price"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="TenantDataKey")],
            database_operations=[],
        ),
    ]
