"""The 1-D heat equation, explicit finite differences written with slices in a time loop.

    u <- u + r (u[2:] - 2 u[1:-1] + u[:-2])  on the interior, the two ends held fixed,

for 2,000 steps from the initial state u0 (r = 0.25: stable, r <= 1/2); the loss is the
sum of squares of the final state minus a target, differentiated with respect to u0 (an
inverse problem: which initial temperature gives this final one).  The size is the
number of grid points.

The step is linear in u, so its adjoint needs none of the states: the expert runs the
forward steps on two buffers, then the transposed stencil backwards from
2 (u_final - target), saving nothing.
"""
import numba
import numpy as np

from ..problem import Problem

HEAT_STEPS = 2_000
HEAT_R = 0.25


def heat_loss(u0, target, r, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum((u - target) ** 2)


def make_args(n, rng):
    grid = np.linspace(0.0, 1.0, n)
    u0 = np.sin(np.pi * grid) + 0.1 * rng.standard_normal(n)
    target = 0.5 * np.sin(np.pi * grid) + 0.1 * rng.standard_normal(n)
    return (u0, target, HEAT_R, HEAT_STEPS)


@numba.njit(cache=True)
def _transposed_at(u, r, j):
    """Entry j of the transposed step applied to u: column j of the step matrix has 1 - 2r
    on the diagonal of an interior j (1 on a fixed end) and r from each interior
    neighbour."""
    n = u.shape[0]
    value = u[j] if j == 0 or j == n - 1 else (1.0 - 2.0 * r) * u[j]
    if 1 <= j - 1 <= n - 2:
        value += r * u[j - 1]
    if 1 <= j + 1 <= n - 2:
        value += r * u[j + 1]
    return value


@numba.njit(cache=True)
def _stencil_steps(start, r, steps, transposed):
    """`steps` applications of the step (or its transpose) to `start`, on two new
    buffers (both start as copies: the forward step leaves the ends as they are)."""
    n = start.shape[0]
    u = start.copy()
    v = start.copy()
    for t in range(steps):
        if transposed:
            # the four entries next to the ends by the general rule, the rest in one loop
            for j in (0, 1, n - 2, n - 1):
                if 0 <= j < n:
                    v[j] = _transposed_at(u, r, j)
            for j in range(2, n - 2):
                v[j] = (1.0 - 2.0 * r) * u[j] + r * (u[j - 1] + u[j + 1])
        else:
            for i in range(1, n - 1):
                v[i] = u[i] + r * (u[i + 1] - 2.0 * u[i] + u[i - 1])
        u, v = v, u
    return u


@numba.njit(cache=True)
def heat_loss_gradient(u0, target, r, steps):
    """The expert's value and gradient: forward steps, then the transposed
    stencil run backwards from the loss's adjoint; no state saved (the step is linear)."""
    u = _stencil_steps(u0, r, steps, False)
    d_u = 2.0 * (u - target)
    value = 0.0
    for i in range(u.shape[0]):
        value += (u[i] - target[i]) ** 2
    return value, (_stencil_steps(d_u, r, steps, True),)


PROBLEM = Problem(
    name="heat",
    title="1-D heat equation, slices in a 2,000-step time loop",
    summary=f"u[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2]) for {HEAT_STEPS:,} steps "
            f"(r = {HEAT_R}) from u = u0.copy(); loss = np.sum((u - target) ** 2); gradient with "
            "respect to u0.  The expert's reference runs the transposed stencil backwards and saves "
            "no state (the step is linear).",
    function=heat_loss,
    make_args=make_args,
    argnums=(0,),
    hand=heat_loss_gradient,
    size_name="n",
    default_size=500,
    quick_size=100,
    slow_size=200,
    sweep=(50, 500, 5_000),
    test_size=8,
    vectorised=True,
)
