"""`manage.py audit_verify`: checks the hash chain of the audit trail and reports any break."""

import sys

from django.core.management.base import BaseCommand

from audit.chain import verify_chain
from audit.models import AuditEvent
from audit.router import AUDIT_DB


class Command(BaseCommand):
    help = (
        "Check every tenant's hash chain in the audit store. Reports the first record that was "
        "changed, removed or inserted out of order, and exits non-zero if there is one."
    )

    def handle(self, *args, **options):
        tenant_keys = (
            AuditEvent.objects.using(AUDIT_DB).values_list("tenant_key", flat=True).distinct()
        )
        broken = 0
        checked = 0
        for tenant_key in tenant_keys:
            checked += 1
            problem = verify_chain(tenant_key)
            if problem:
                sequence, what = problem
                broken += 1
                self.stdout.write(f"BROKEN chain of tenant {tenant_key}: record {sequence}: {what}")
        total = AuditEvent.objects.using(AUDIT_DB).count()
        verdict = f"{broken} broken" if broken else "all intact"
        self.stdout.write(f"Checked {checked} chains, {total} records: {verdict}.")
        if broken:
            sys.exit(1)
