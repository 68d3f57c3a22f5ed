"""Performance harness of chipwar and the reference implementations it measures the kernels
against. Not installed: ``chipwar bench`` loads it from the source checkout (runs/bench.py)."""
