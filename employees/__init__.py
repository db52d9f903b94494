"""Employees: the people whose absence is managed, within their employer and department."""
