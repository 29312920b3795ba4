"""Stub: being written (issue 5)."""
class LayoutPlan:
    pass
def plan_layout(*a, **k): raise NotImplementedError
