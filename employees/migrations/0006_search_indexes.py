# Searching 100,000 employees: the list's surname search is a case-insensitive substring match
# (Django's icontains: UPPER(surname) LIKE UPPER('%term%')), which only a trigram index serves.
# pg_trgm ships with PostgreSQL's contrib package (Debian, the official images, managed
# services); the embedded PostgreSQL of a newcomer's machine (pgserver) lacks it, and there a
# few hundred demo employees need no index. So the trigram indexes are made where the extension
# is available, and the same query simply scans where it is not. Postcode and personnel-number
# searches are prefix matches: ordinary btree indexes with pattern operator classes serve those.
from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models
from django.db.models.functions import Upper

TRIGRAM_INDEXES = {
    "employee_surname_trgm": "surname",
    "employee_surname_prefix_trgm": "surname_prefix",
}


def create_trigram_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRIGRAM_INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON employees_employee "  # noqa: S608 - constants
                f"USING gin (UPPER({column}::text) gin_trgm_ops)"
            )


def drop_trigram_indexes(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("employees", "0005_employee_field_names")]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
        migrations.RemoveIndex(model_name="employee", name="employee_postcode"),
        migrations.AddIndex(
            model_name="employee",
            index=models.Index(
                "tenant", OpClass("postcode", name="varchar_pattern_ops"), name="employee_postcode"
            ),
        ),
        migrations.AddIndex(
            model_name="employee",
            index=models.Index(
                "tenant",
                OpClass(Upper("personnel_number"), name="text_pattern_ops"),
                name="employee_personnel_number_up",
            ),
        ),
    ]
