"""The accounts' manage.py commands."""
