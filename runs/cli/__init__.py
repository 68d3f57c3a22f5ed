"""The command line: argument parsing and one handler per command.

The only layer that uses argparse.
"""

from chipwar.runs.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
