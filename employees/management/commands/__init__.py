"""The employees app's manage.py commands."""
