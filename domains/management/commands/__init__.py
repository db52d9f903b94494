"""The tenant and access layer's manage.py commands."""
