"""Cases recorded before sick spells, incapacity and the timeline existed get them now."""

import uuid
from datetime import timedelta

from django.db import migrations

from cases.poortwachter import due_dates


def backfill(apps, schema_editor):
    AbsenceCase = apps.get_model("cases", "AbsenceCase")
    AbsencePeriod = apps.get_model("cases", "AbsencePeriod")
    IncapacityChange = apps.get_model("cases", "IncapacityChange")
    Milestone = apps.get_model("cases", "Milestone")
    for case in AbsenceCase.objects.filter(periods__isnull=True):
        last_day = case.recovered_on - timedelta(days=1) if case.recovered_on else None
        AbsencePeriod.objects.create(
            tenant_id=case.tenant_id, key=uuid.uuid4(), case=case, starts_on=case.first_sick_day, ends_on=last_day
        )
        IncapacityChange.objects.create(
            tenant_id=case.tenant_id, key=uuid.uuid4(), case=case, starts_on=case.first_sick_day, percentage=100
        )
        for kind, due_on in due_dates([(case.first_sick_day, last_day)]).items():
            Milestone.objects.create(tenant_id=case.tenant_id, key=uuid.uuid4(), case=case, kind=kind, due_on=due_on)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_details_timeline_notes_medical")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
