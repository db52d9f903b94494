"""Background tasks of the access layer: checking company doctors' registrations in the BIG
register."""

from celery import shared_task

from core.tenancy import all_tenants
from domains.models import BigCheckStatus, BigRegistration
from domains.services import run_big_check


@shared_task
def check_big_registration(registration_pk: int) -> str:
    with all_tenants():
        registration = BigRegistration.objects.get(pk=registration_pk)
        return run_big_check(registration)


@shared_task
def check_pending_big_registrations() -> int:
    """Retry the lookups that could not be done (register unreachable) or were not done yet."""
    with all_tenants():
        waiting = BigRegistration.objects.filter(
            status__in=[BigCheckStatus.PENDING, BigCheckStatus.UNREACHABLE]
        )
        for registration in waiting:
            run_big_check(registration)
        return len(waiting)
