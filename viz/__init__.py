"""chipwar.viz."""
