"""`manage.py offboard_environment`: a leaving customer's environment, in three steps by two
operators (retention/offboarding.py):

    offboard_environment TENANT_KEY --request --operator alice
    offboard_environment TENANT_KEY --approve --operator bob        # prints the approval code
    offboard_environment TENANT_KEY --operator alice --approval-code CODE \\
        --confirm "Exact name" --export-dir /secure/place

The last step exports the environment's data (a zip of CSV files and stored files) for the
customer, destroys its data keys so every sealed value is unreadable, then deletes its rows."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.tenancy import all_tenants
from domains.models import Tenant
from retention.models import Offboarding
from retention.offboarding import (
    OffboardingRefused,
    approve_offboarding,
    offboard,
    request_offboarding,
)


class Command(BaseCommand):
    help = "Export a leaving customer's environment, destroy its data keys, delete its rows."

    def add_arguments(self, parser):
        parser.add_argument("tenant_key", help="the environment's key (a UUID)")
        parser.add_argument("--operator", default=getpass.getuser(), help="who runs this step")
        step = parser.add_mutually_exclusive_group()
        step.add_argument("--request", action="store_true", help="step 1: ask for it")
        step.add_argument("--approve", action="store_true", help="step 2: a second operator")
        parser.add_argument("--approval-code", default="", help="step 3: the second's code")
        parser.add_argument("--confirm", default="", help="step 3: the environment's exact name")
        parser.add_argument("--export-dir", default="", help="step 3: where the export goes")

    def handle(self, *args, tenant_key, operator, request, approve, **options):
        with all_tenants():
            try:
                self._handle(tenant_key, operator, request, approve, options)
            except OffboardingRefused as refused:
                raise CommandError(str(refused)) from None

    def _handle(self, tenant_key, operator, request, approve, options):
        pending = Offboarding.objects.filter(tenant_key=tenant_key, completed_at__isnull=True)
        if request:
            tenant = Tenant.objects.filter(key=tenant_key).first()
            if tenant is None:
                raise CommandError("No environment has this key.")
            if pending.exists():
                raise CommandError("An offboarding of this environment is waiting already.")
            request_offboarding(tenant=tenant, operator=operator)
            self.stdout.write(
                f"Offboarding of {tenant.name!r} asked by {operator}. A second operator "
                "approves it with --approve."
            )
            return
        offboarding = pending.order_by("-requested_at").first()
        if offboarding is None:
            raise CommandError("No offboarding of this environment was asked for (--request).")
        if approve:
            code = approve_offboarding(offboarding=offboarding, operator=operator)
            self.stdout.write(f"Approved by {operator}. Approval code: {code}")
            return
        if not options["export_dir"]:
            raise CommandError("Say where the export goes (--export-dir).")
        path, counts = offboard(
            offboarding=offboarding,
            operator=operator,
            approval_code=options["approval_code"],
            typed_name=options["confirm"],
            export_to=Path(options["export_dir"]),
        )
        self.stdout.write(f"Exported to {path}.")
        self.stdout.write(
            "Data keys destroyed: every sealed value of the environment is unreadable."
        )
        self.stdout.write(f"Rows deleted: {sum(counts.values())} in {len(counts)} tables.")
