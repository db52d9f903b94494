"""The Verzuim project: settings, URLs and the gate; loads the Celery app with Django."""

from verzuim.celery import app as celery_app

__all__ = ["celery_app"]
