"""Stub: being written (issue 2)."""
def read_areas(*a, **k): raise NotImplementedError
def read_facilities(*a, **k): raise NotImplementedError
def read_candidates(*a, **k): raise NotImplementedError
def read_households(*a, **k): raise NotImplementedError
def aggregate_households(*a, **k): raise NotImplementedError
def estimate_households(*a, **k): raise NotImplementedError
