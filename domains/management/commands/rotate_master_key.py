"""`manage.py rotate_master_key`: re-wraps every tenant's data key under the newest master key."""

from django.core.management.base import BaseCommand

from core.encryption import current_master_key_id, rotate_master_key
from core.tenancy import all_tenants


class Command(BaseCommand):
    help = (
        "Re-wrap every tenant data key under the newest master key in VERZUIM_MASTER_KEYS. "
        "Add the new key (higher id) to the setting first, keep the old one until this has run."
    )

    def handle(self, *args, **options):
        with all_tenants():
            changed = rotate_master_key()
        self.stdout.write(
            f"Re-wrapped {changed} tenant data keys under master key {current_master_key_id()}."
        )
