"""Derivatives beyond the gradient (issue 13): a Hessian and a Jacobian of loop code.

* ``hessian-rosenbrock``: the Hessian of the extended Rosenbrock function (the `rosenbrock`
  problem's scalar loop) at n = 100: adjit.hessian (forward over reverse), against an
  analytic tridiagonal Hessian in one loop (O(n): it knows the sparsity) and jax.hessian.
  `rosenbrock_hessian_dense` is the dense forward-over-reverse Hessian written by hand
  (O(n^2), what dense AD can reach), measured beside them in the report of issue 13.
* ``jacobian-expansion``: the Jacobian of a 20 -> m vector function written with two
  loops, y_i = tanh(sum_j x_j sin((j + 1) t_i + x_j)), at m = 100 outputs: adjit.jacfwd
  against the analytic Jacobian in one double loop and jax.jacfwd.

Their ``hand`` functions return ``(value, (derivative,))`` like the gradient problems'
(the value of a vector function is its output array), so the harness checks and times
every engine the same way; ``derivative`` says which derivative the engines compute.
"""
import math

import numba
import numpy as np

from ..problem import Problem
from .rosenbrock import rosenbrock

JACOBIAN_INPUTS = 20


# ---- Hessian ------------------------------------------------------------------------------
@numba.njit(cache=True)
def rosenbrock_hessian(x):
    """The value and the analytic Hessian, tridiagonal, filled in one loop."""
    n = x.shape[0]
    H = np.zeros((n, n))
    total = 0.0
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        total += 100.0 * a * a + b * b
        # d2/dx_i2 of 100 a^2 + b^2 = 1200 x_i^2 - 400 x_(i+1) + 2
        H[i, i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] -= 400.0 * x[i]
        H[i + 1, i] -= 400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return total, (H,)


@numba.njit(cache=True)
def rosenbrock_hessian_dense(x):
    """The value and the Hessian as generic code computes it, by hand: forward mode over the
    fused gradient loop with all n basis directions at once (an inner loop over them), no
    use of the tridiagonal structure.  What dense AD can reach; adjit's is this program."""
    n = x.shape[0]
    E = np.eye(n)                 # the directions: the tangent of x[i] in direction q is E[i, q]
    H = np.zeros((n, n))          # the tangent of the gradient: H[:, q] = H e_q
    total = 0.0
    for i in range(n - 1):
        xi = x[i]
        a = x[i + 1] - xi * xi
        b = 1.0 - xi
        total += 100.0 * a * a + b * b
        # gradient: g[i] += -400 a x_i - 2 b, g[i+1] += 200 a; their tangents along E[:, q]
        for q in range(n):
            dxi = E[i, q]
            da = E[i + 1, q] - 2.0 * xi * dxi
            H[i, q] += -400.0 * (da * xi + a * dxi) + 2.0 * dxi
            H[i + 1, q] += 200.0 * da
    return total, (H,)


def hessian_args(n, rng):
    return (rng.uniform(-1.2, 1.2, n),)


HESSIAN_PROBLEM = Problem(
    name="hessian-rosenbrock",
    title="Hessian of the Rosenbrock function, scalar loop",
    summary="the n x n Hessian of sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2 (the rosenbrock "
            "problem's loop); adjit.hessian is forward mode over reverse mode, one gradient sweep "
            "carrying all n directions; the hand-written reference fills the tridiagonal Hessian "
            "in one loop (O(n): it knows the sparsity, which adjit's dense Hessian does not use).",
    function=rosenbrock,
    make_args=hessian_args,
    argnums=(0,),
    hand=rosenbrock_hessian,
    size_name="n",
    default_size=100,
    quick_size=100,
    slow_size=100,
    sweep=(10, 30, 100, 300),
    test_size=6,
    derivative="hessian",
)


# ---- Jacobian -----------------------------------------------------------------------------
def expansion(x, m):
    n = x.shape[0]
    y = np.zeros(m)
    for i in range(m):
        t = i / (m - 1)
        s = 0.0
        for j in range(n):
            s += x[j] * math.sin((j + 1) * t + x[j])
        y[i] = math.tanh(s)
    return y


@numba.njit(cache=True)
def expansion_jacobian(x, m):
    """The value and the analytic Jacobian, in one double loop."""
    n = x.shape[0]
    y = np.empty(m)
    J = np.empty((m, n))
    for i in range(m):
        t = i / (m - 1)
        s = 0.0
        for j in range(n):
            u = (j + 1) * t + x[j]
            sn, cs = math.sin(u), math.cos(u)
            s += x[j] * sn
            J[i, j] = sn + x[j] * cs          # d s / d x_j, scaled below
        yi = math.tanh(s)
        y[i] = yi
        scale = 1.0 - yi * yi
        for j in range(n):
            J[i, j] *= scale
    return y, (J,)


def jacobian_args(m, rng):
    return (rng.uniform(-0.3, 0.3, JACOBIAN_INPUTS), m)


JACOBIAN_PROBLEM = Problem(
    name="jacobian-expansion",
    title="Jacobian of a 20 -> m vector function, two loops",
    summary="y_i = tanh(sum_j x_j sin((j + 1) t_i + x_j)), t_i = i / (m - 1), 20 inputs x, m outputs; "
            "the m x 20 Jacobian: adjit.jacfwd (one forward sweep carrying the 20 directions) against the "
            "analytic Jacobian in one double loop and jax.jacfwd.",
    function=expansion,
    make_args=jacobian_args,
    argnums=(0,),
    hand=expansion_jacobian,
    size_name="m",
    default_size=100,
    quick_size=100,
    slow_size=100,
    sweep=(20, 100, 1_000, 10_000),
    test_size=7,
    derivative="jacobian",
)
