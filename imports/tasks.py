"""The background tasks of the imports app, for Celery's autodiscovery: checking a file and
writing it. They are defined next to the service they run (imports/services.py)."""

from imports.services import commit_in_background, preview_in_background

__all__ = ["commit_in_background", "preview_in_background"]
