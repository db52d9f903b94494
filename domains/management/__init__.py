"""Management commands of the tenant and access layer."""
