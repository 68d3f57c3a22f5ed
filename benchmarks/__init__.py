"""chipwar.benchmarks: the ``chipwar bench`` harness, the reference implementations of the
adoption rule it measures the numba kernels against, and the memory soak.

Installed with the package (the benchmarks/ folder maps to ``chipwar.benchmarks``), so the bench
runs from a wheel install too; runs/cli/bench.py is its command line.
"""
