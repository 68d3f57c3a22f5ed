"""Experiment grids: the spec as data, sweeps into a resumable Parquet store, analysis, comparisons,
calibration and attribution."""
