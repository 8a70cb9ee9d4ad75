"""log(sum(exp(x))) with the max trick, written as loops.

The maximum is found by its index (the first one wins ties), so the value m = x[imax]
is read once: the loop that finds it is integer bookkeeping with nothing to
differentiate, and the gradient needs no tape for it.  This function is also gradbench's
`lse` eval (adjit.bench.gradbench_evals.lse).
"""
import math

import numba
import numpy as np

from ..problem import Problem


def logsumexp(x):
    n = x.shape[0]
    imax = 0
    for i in range(1, n):
        if x[i] > x[imax]:
            imax = i
    m = x[imax]
    s = 0.0
    for i in range(n):
        s += math.exp(x[i] - m)
    return m + math.log(s)


def make_args(n, rng):
    return (3.0 * rng.standard_normal(n),)


@numba.njit(cache=True)
def logsumexp_adjoint(x):
    n = x.shape[0]
    m = x[0]
    i_max = 0
    for i in range(1, n):
        if x[i] > m:
            m = x[i]
            i_max = i
    # the exponentials are kept in the gradient array itself: the reverse sweep only
    # scales them, so they need neither a tape nor a second exp
    d_x = np.empty(n)
    s = 0.0
    for i in range(n):
        e = math.exp(x[i] - m)
        d_x[i] = e
        s += e
    value = m + math.log(s)
    # reverse sweep: d_s = 1 / s; every x[i] gets e_i / s, and m gets
    # 1 - sum(e_i) / s, which is zero up to rounding; it goes to the selected maximum
    d_s = 1.0 / s
    d_m = 1.0
    for i in range(n):
        d_x[i] *= d_s
        d_m -= d_x[i]
    d_x[i_max] += d_m
    return value, (d_x,)


PROBLEM = Problem(
    name="logsumexp",
    title="logsumexp with the max trick, loops",
    summary="m = max x (a loop with an if, over the index of the maximum), then m + log(sum exp(x - m)) "
            "(a loop); "
            "gradient with respect to x (the softmax).",
    function=logsumexp,
    make_args=make_args,
    argnums=(0,),
    hand=logsumexp_adjoint,
    size_name="n",
    default_size=1_000_000,
    quick_size=100_000,
    slow_size=20_000,
    sweep=(10_000, 100_000, 1_000_000, 10_000_000),
    test_size=9,
)
