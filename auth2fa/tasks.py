"""Background tasks of the accounts: clearing expired sessions and ending the access of leavers."""

from celery import shared_task
from django.core.management import call_command

from auth2fa.services import deactivate_leavers
from core.tenancy import all_tenants


@shared_task
def clear_expired_sessions() -> None:
    """Remove expired sessions from the database (idle sessions end after SESSION_IDLE_MINUTES)."""
    call_command("clearsessions")


@shared_task
def end_access_of_leavers() -> int:
    """Runs every 15 minutes: accounts whose last day passed or whose employment ended."""
    with all_tenants():
        return deactivate_leavers()
