"""Stub: being written (issue 3)."""
class WalkNetwork:
    pass
