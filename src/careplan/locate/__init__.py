"""Stub: being written (issue 4)."""
