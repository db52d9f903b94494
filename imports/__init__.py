"""Bulk employee imports: a spreadsheet keyed by our unique key, previewed, then committed."""
