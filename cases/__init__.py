"""Absence cases: sick reports, recovery, the Poortwachter milestones, notes and (medical)
documents."""
