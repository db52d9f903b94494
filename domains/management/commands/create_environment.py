"""`manage.py create_environment "Name" admin@example.nl`: a new environment with its reference
roles and a first functional admin, who sets a password through the e-mailed link."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains.services import create_environment


class Command(BaseCommand):
    help = (
        "Create an environment (tenant) with the reference roles and a first functional admin. "
        "The admin receives an e-mail to choose a password (a link on SITE_URL); no password is "
        "set or shown here."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the environment's name, unique")
        parser.add_argument("admin_email", help="the e-mail address of the first functional admin")
        parser.add_argument(
            "--second-admin",
            dest="second_admin_email",
            default=None,
            help="a second functional admin: the four-eyes approvals need two independent admins",
        )

    def handle(self, *args, name: str, admin_email: str, second_admin_email=None, **options):
        try:
            tenant, admin, roles = create_environment(
                name=name, admin_email=admin_email, second_admin_email=second_admin_email
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Created environment {tenant.name!r} (key {tenant.key}).")
        self.stdout.write(f"Reference roles: {', '.join(role.name for role in roles)}.")
        self.stdout.write(
            f"Functional admin {admin.email}: no password yet; an e-mail with a link to choose "
            f"one was sent (links on {settings.SITE_URL})."
        )
        if second_admin_email:
            self.stdout.write(
                f"Second functional admin {second_admin_email}: invited the same way."
            )
        else:
            self.stdout.write(
                "Only one functional admin: approvals need a second, independent one "
                "(--second-admin)."
            )
