"""`manage.py ensure_audit_database`: creates the separate audit database for development and the
demo."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from audit.router import AUDIT_DB


class Command(BaseCommand):
    help = "Create the audit database on its server when it does not exist yet (dev and demo)."

    def handle(self, *args, **options):
        name = settings.DATABASES[AUDIT_DB]["NAME"]
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return
            if settings.DATABASES[AUDIT_DB]["HOST"] != settings.DATABASES["default"]["HOST"]:
                self.stderr.write(
                    f"The audit database {name} does not exist on its own server: create it there."
                )
                return
            cursor.execute(
                f'CREATE DATABASE "{name}"'
            )  # a name from our own settings, not user input
        self.stdout.write(f"Created the audit database {name}.")
