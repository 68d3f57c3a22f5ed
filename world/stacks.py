"""The AI stacks an adopter or a government can be on: the one encoding used everywhere.

An adopter with no stack yet and a government that hedges share the code ``STACK_NONE``; the
names are what files and reports print (``official_stack`` in ``countries.parquet``).
"""

from __future__ import annotations

STACK_NONE, STACK_US, STACK_CN = 0, 1, 2
STACK_CODES = (STACK_NONE, STACK_US, STACK_CN)
STACK_NAMES = {STACK_NONE: "hedged", STACK_US: "us", STACK_CN: "cn"}
STACK_BY_NAME = {name: code for code, name in STACK_NAMES.items()}
