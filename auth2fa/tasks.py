from celery import shared_task
from django.core.management import call_command


@shared_task
def clear_expired_sessions() -> None:
    """Remove expired sessions from the database (idle sessions end after SESSION_IDLE_MINUTES)."""
    call_command("clearsessions")
