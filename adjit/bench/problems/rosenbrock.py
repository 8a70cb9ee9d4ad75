"""Rosenbrock's function as a scalar loop over an n-element array.

    f(x) = sum_{i=0}^{n-2} 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2
"""
import numba
import numpy as np

from ..problem import Problem


def rosenbrock(x):
    n = x.shape[0]
    total = 0.0
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        total += 100.0 * a * a + b * b
    return total


def make_args(n, rng):
    return (rng.uniform(-1.2, 1.2, n),)


@numba.njit(cache=True)
def rosenbrock_adjoint(x):
    n = x.shape[0]
    # forward sweep: nothing to save, x is never written
    total = 0.0
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        total += 100.0 * a * a + b * b
    # reverse sweep: the residuals a, b are recomputed from x, which is cheaper than
    # reading them back from a tape
    d_x = np.zeros(n)
    for i in range(n - 2, -1, -1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        d_a = 200.0 * a
        d_x[i + 1] += d_a
        d_x[i] += -2.0 * x[i] * d_a - 2.0 * b
    return total, (d_x,)


PROBLEM = Problem(
    name="rosenbrock",
    title="Rosenbrock function, scalar loop",
    summary="sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2 over an n-element array; "
            "gradient with respect to x.",
    function=rosenbrock,
    make_args=make_args,
    argnums=(0,),
    hand=rosenbrock_adjoint,
    size_name="n",
    default_size=200_000,
    quick_size=20_000,
    slow_size=10_000,
    sweep=(2_000, 20_000, 200_000, 2_000_000),
    test_size=7,
)
