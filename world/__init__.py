"""chipwar.world: the environment (model, ledger, market, adoption field, scenarios, data)."""

from __future__ import annotations

from typing import Any

__all__ = ["ChipWarModel"]


def __getattr__(name: str) -> Any:
    # Lazy, so that agents can import world components without importing the model that wires them.
    if name == "ChipWarModel":
        from chipwar.world.model import ChipWarModel

        return ChipWarModel
    raise AttributeError(f"module 'chipwar.world' has no attribute {name!r}")
