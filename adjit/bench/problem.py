"""What a benchmark problem is: a user function, its inputs, and its hand-written adjoint."""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    ``function`` is written the way a user of adjit would write it (scalar loops over
    ``math`` calls and array elements, or whole-array NumPy).  ``hand`` is its derivative
    as a Numba expert writes it, compiled without fastmath as adjit's code is:
    ``hand(*args) -> (value, grads)`` with one gradient per entry of ``argnums``.  It is
    the speed limit adjit is measured against and the reference every engine is checked
    against.  ``hand_mechanical``, where given, is the textbook adjoint (a forward sweep,
    then a reversed sweep over a tape): what a mechanical transformation of the loop
    gives at best, reported beside the expert's code.
    """

    name: str
    title: str
    summary: str
    function: Callable
    make_args: Callable          # (size, rng) -> tuple of arguments for `function`
    argnums: tuple
    hand: Callable
    size_name: str               # what the size parameter counts, e.g. "n" or "steps"
    default_size: int            # size of a full run
    quick_size: int              # size of a --quick run
    slow_size: int               # largest size slow engines run at in a full run
    sweep: tuple                 # sizes of a --plot run when --sizes is not given
    test_size: int               # size used by the unit tests (finite differences)
    notes: tuple = field(default=())
    hand_mechanical: Optional[Callable] = None
    #: the function is whole-array NumPy code (matrix products, reductions), not scalar
    #: loops: engines that run it on 0-d values (torch's scalar engine) skip it
    vectorised: bool = False
    #: what the engines compute: "gradient" (value_and_grad), "hessian" or "jacobian" (of
    #: the one argument in ``argnums``); ``hand`` then returns ``(value, (H,))`` or
    #: ``(f(x), (J,))``, J shaped ``f(x).shape + x.shape`` (JAX's convention)
    derivative: str = "gradient"

    def args(self, size, seed=0):
        """The inputs at `size`; the same (size, seed) always gives the same inputs."""
        rng = np.random.default_rng([seed, size])
        return self.make_args(size, rng)

    def quick_slow_size(self):
        """Largest size slow engines run at in a --quick run."""
        return max(1, self.slow_size // 10)
