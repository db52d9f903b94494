"""Tenants, employers and who may see what: roles in domains, their scopes and the access rules."""
