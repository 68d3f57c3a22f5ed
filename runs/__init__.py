"""chipwar.runs."""
