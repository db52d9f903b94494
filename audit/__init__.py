"""The audit trail (NEN 7513): who did what to whose data, as a hash-chained, append-only log in
its own database."""
