"""Tasks: queries with their local candidate lists. catalog.py holds the declarative metadata."""
