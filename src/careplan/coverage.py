"""Stub: being written (issue 3)."""
