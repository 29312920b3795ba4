"""Stub CLI (issue 5)."""
def main(argv=None):
    raise SystemExit("careplan: not implemented yet")
