"""The background tasks of the retention app, for Celery's autodiscovery: the nightly scan, and
carrying out a deletion a person confirmed.

Defined next to the services they run (retention/scan.py, retention/deletion.py). The scan
marks what is past its term; the deletion task deletes only what a confirmed (and, above the
tenant's threshold, approved) request names."""

from retention.deletion import delete_in_background
from retention.scan import scan_all_tenants

__all__ = ["delete_in_background", "scan_all_tenants"]
