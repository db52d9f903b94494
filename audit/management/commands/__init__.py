"""The audit trail's manage.py commands."""
