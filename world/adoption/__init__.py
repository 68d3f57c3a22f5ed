"""Adoption field: millions of micro-adopters choosing an AI stack, held in numpy arrays.

Why arrays and not Mesa agents: there are 10^5 to 10^7 micro-adopters (firms, agencies, cities),
far too many for Python objects. Each adopter is a few array cells; numba kernels update all of
them per month, and country shares emerge from the kernels.

Update rule (one step = one month), synchronous: every adopter decides from the previous month's
states. Adopter ``i`` in country ``c`` with state ``state_i`` reconsiders with probability
``revision_rate``; if it does, the utility of option ``k`` in {none, us, cn} is

    U_k = country_utility[c, k] + neighbour_weight * share_k(neighbours) [k = us, cn only] + official_weight * (official[c] == k != none) + (+h_i for cn, -h_i for us) - switching_cost * (state_i != none and k != state_i)

where ``share_k(neighbours)`` is the fraction of ``i``'s out-neighbours whose previous state is
``k`` (0 for an adopter without links), and it picks ``k`` with logit probabilities
``exp(U_k) / sum_j exp(U_j)`` (exp evaluated by a vectorisable polynomial, relative error < 1e-11).
Stacks are coded as in ``world/stacks.py`` (none/us/cn = 0/1/2).

The modules, one job each:

- ``field.py``: ``AdoptionConfig`` and ``AdoptionField`` (the arrays, their layout, ``step`` and
  the choice between the serial and parallel kernel);
- ``links.py``: how the links are drawn, the in-link lists the kernels use, out-links on demand;
- ``draws.py``: the counter-based random numbers (splitmix64) and the exp polynomial, which make
  every kernel give the same bits on any number of threads;
- ``incremental.py``: the kernels ``step`` runs (kept neighbour counts, switches pushed to
  followers);
- ``reference.py``: the same rule written directly (each reviser re-reads its neighbours), kept
  as the reference the incremental kernels equal bit for bit, and the per-country tallies;
- ``rule.py``: the per-step utility tables and the work split both kernel families share;
- ``intrinsics.py``: the LLVM cache hints, atomic add and bit cast the kernels call;
- ``cache.py``: forgets numba's cached kernels when any source file here changes (numba alone
  would notice a change to a kernel's own file only, not to the functions it inlines).
"""  # noqa: E501 (the update rule above is kept on one line)

from __future__ import annotations

from chipwar.world.adoption.cache import forget_stale_kernels
from chipwar.world.adoption.draws import revise_threshold
from chipwar.world.adoption.field import PARALLEL_THRESHOLD, AdoptionConfig, AdoptionField
from chipwar.world.adoption.incremental import step_incremental_parallel, step_incremental_serial
from chipwar.world.adoption.reference import (
    counts_kernel_parallel,
    counts_kernel_serial,
    step_kernel_parallel,
    step_kernel_serial,
)
from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

__all__ = [
    "PARALLEL_THRESHOLD",
    "STACK_CN",
    "STACK_NONE",
    "STACK_US",
    "AdoptionConfig",
    "AdoptionField",
    "counts_kernel_parallel",
    "counts_kernel_serial",
    "revise_threshold",
    "step_incremental_parallel",
    "step_incremental_serial",
    "step_kernel_parallel",
    "step_kernel_serial",
]

# numba loads a cached kernel at its first call, never at import: this runs before any can.
forget_stale_kernels()
