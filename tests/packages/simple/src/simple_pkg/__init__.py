"""A test package."""
