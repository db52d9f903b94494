# The tenant data keys move from the domains app to the core, keeping their table: only
# Django's model state changes here (domains 0007 removes them from the domains state).
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("domains", "0006_tenant_sms_price"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TenantDataKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("version", models.PositiveIntegerField()),
                        ("master_key_id", models.PositiveIntegerField()),
                        ("wrapped_key", models.BinaryField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("rewrapped_at", models.DateTimeField(blank=True, null=True)),
                        ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="data_keys", to="domains.tenant")),
                    ],
                    options={
                        "db_table": "domains_tenantdatakey",
                        "constraints": [models.UniqueConstraint(fields=("tenant", "version"), name="one_data_key_per_version")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
