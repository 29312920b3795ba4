"""Stub: being written (issue 2)."""
