"""chipwar.agents: the decision-makers (Mesa agents)."""

from chipwar.agents.buyer import Buyer
from chipwar.agents.lab import Lab
from chipwar.agents.smuggling import SmugglingNetwork
from chipwar.agents.state import State

__all__ = ["Buyer", "Lab", "SmugglingNetwork", "State"]
