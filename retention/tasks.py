"""The background tasks of the retention app, for Celery's autodiscovery: the nightly scan.

Defined next to the scan it runs (retention/scan.py). It marks what is past its term; no task
deletes anything (deletion needs a person's confirmation)."""

from retention.scan import scan_all_tenants

__all__ = ["scan_all_tenants"]
