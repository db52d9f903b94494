# Drops three indexes that others already serve, each kept up on every write: the employee's
# tenant (every employee index starts with the tenant), its employer (the unique personnel
# number per employer starts with it) and the terms' employee (the unique terms per day
# starts with it). Inserting 10,000 employees took 11 % less (bench/imports.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('domains', '0014_reference_roles_report_view'),
        ('employees', '0010_terms_spans_refresh_by_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='employee',
            name='employer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='employees', to='domains.employer', verbose_name='employer'),
        ),
        migrations.AlterField(
            model_name='employee',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='domains.tenant'),
        ),
        migrations.AlterField(
            model_name='employmentterms',
            name='employee',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='terms', to='employees.employee'),
        ),
    ]
