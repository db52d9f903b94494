"""`manage.py audit_verify`: checks the hash chain of the audit trail against each tenant's signed
checkpoint and reports every break."""

import sys

from django.core.management.base import BaseCommand

from audit.chain import (
    all_chains,
    checkpoint_of,
    checkpoint_problem,
    sign_missing_checkpoint,
    verify_chain,
)
from audit.models import AuditEvent
from audit.router import AUDIT_DB


class Command(BaseCommand):
    help = (
        "Check every tenant's hash chain in the audit store, and that it still reaches its signed "
        "checkpoint (kept in the main database). Reports the first record that was changed, "
        "removed or inserted out of order, a chain that is missing or ends before its checkpoint, "
        "a different record at the checkpoint and a checkpoint whose signature does not verify; "
        "exits non-zero if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sign-missing-checkpoints",
            action="store_true",
            help=(
                "Once, after upgrading: give each intact chain that has no checkpoint yet one at "
                "its last record."
            ),
        )

    def handle(self, *args, sign_missing_checkpoints=False, **options):
        broken = 0
        checked = 0
        for tenant_key in all_chains():
            checked += 1
            if sign_missing_checkpoints and sign_missing_checkpoint(tenant_key):
                self.stdout.write(f"Signed a checkpoint for the chain of tenant {tenant_key}.")
            problems = []
            problem = verify_chain(tenant_key)
            if problem:
                sequence, what = problem
                problems.append(f"record {sequence}: {what}")
            problem_at_checkpoint = checkpoint_problem(tenant_key, checkpoint_of(tenant_key))
            if problem_at_checkpoint:
                problems.append(problem_at_checkpoint)
            if problems:
                broken += 1
            for what in problems:
                self.stdout.write(f"BROKEN chain of tenant {tenant_key}: {what}")
        total = AuditEvent.objects.using(AUDIT_DB).count()
        verdict = f"{broken} broken" if broken else "all intact"
        self.stdout.write(f"Checked {checked} chains, {total} records: {verdict}.")
        if broken:
            sys.exit(1)
