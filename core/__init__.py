"""The core: infrastructure every layer shares and that knows no app.

Tenancy scope, tenant-owned base model, field encryption and its data keys, network and IP
helpers, the formula-safe CSV/XLSX writer, the gate markers, the account types and the actor
facts handed to the audit trail. Nothing here imports a first-party app (import-linter holds it).
"""
