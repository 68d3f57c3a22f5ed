"""chipwar.world."""
