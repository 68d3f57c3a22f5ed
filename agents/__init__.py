"""chipwar.agents."""
