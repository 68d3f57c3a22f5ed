"""One run and its files.

The single run, the run folder (one file list, reader and writer), atomic writes, pre-flight
checks, markdown tables and the runner that every batch of runs goes through.
"""
