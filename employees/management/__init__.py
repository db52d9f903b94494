"""Management commands of the employees app."""
