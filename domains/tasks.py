"""The background tasks of the domains app, for Celery's autodiscovery: the BIG-register checks.

They are defined next to the service they run (domains/services.py), so services and tasks do
not import each other both ways.
"""

from domains.services import check_big_registration, check_pending_big_registrations

__all__ = ["check_big_registration", "check_pending_big_registrations"]
