"""The background tasks of the employees app, for Celery's autodiscovery.

They are defined next to the service they run (employees/services.py).
"""

from employees.services import refresh_part_time_factors_task

__all__ = ["refresh_part_time_factors_task"]
