"""Retention (bewaartermijnen): terms per tenant and data category, legal holds."""
