"""Follow-through: partnership records two organisations keep together (issue 10, item 5)."""
