"""An ODE solved with s steps of classical Runge-Kutta (RK4), after gradbench's `ode` eval.

gradbench (evals/ode/README.md, adapted from cmpad's `an_ode`) states the system as

    y_0'(t) = x_0
    y_i'(t) = sum_{j=1..i} x_j * y_{i-1}(t)      for i > 0,      y(0) = 0,

solved over t in [0, 2] (h = 2 / s), with the gradient of the last output y_{n-1}(2)
with respect to all n inputs x ~ U(0, 1).  We implement that formula (gradbench's C++
reference, cpp/gradbench/evals/ode.hpp, against which tools are validated, uses
x_i * y_{i-1} instead of the sum; the work is the same, and that version is the gradbench
tool's and the ``gb-ode`` problem's, in adjit/bench/gradbench_evals/ode.py).  Both call
`rk4_chain` below, with different coefficients c.  The prefix sums c_i = x_1 + ... + x_i do not change during the solve; the
user function computes them once, as anyone writing the loop by hand would.

Two problems share the function:

* ``ode``: n = 32 unknowns, and the size is the number of steps s.  This is the eval's
  stated challenge, a long sequential loop whose reverse needs a tape, with a nonzero
  answer that the engines can be checked on.
* ``ode-gradbench``: gradbench's own shape, s = 10 and the size is n (gradbench runs
  n in {1e3, 1e4, 1e5}, s in {1, 10, 100}).  Since y_i' depends only on y_{i-1}, one RK4
  step carries information four indices along the chain: for n > 4 s + 1 the last
  output is exactly zero, and so is its gradient, in gradbench as here.  Every engine
  still does all the arithmetic, so the timing is meaningful, but the cross-check only
  confirms the zeros.  (Raising s with n does not rescue it: the RK4 solution at the
  far end of the chain then underflows.)
"""
import numba
import numpy as np

from ..problem import Problem

ODE_UNKNOWNS = 32          # n for the `ode` problem
GRADBENCH_STEPS = 10       # s for the `ode-gradbench` problem


def rk4_chain(x0, c, s, y):
    """s RK4 steps over t in [0, 2] of y_0' = x0, y_i' = c_i y_(i-1) (i > 0).

    `y` (length n) holds y(0) on entry and y(2) on return; c_0 is not read.  A plain
    helper: adjit inlines it into its callers, here and in the gradbench `ode` eval.

    The four RK4 stages are fused into one sweep over i.  Stage m of entry i reads only
    entry i-1 (y_(i-1) and its stage m-1), so the sweep carries entry i-1's old value
    and stages in scalars instead of filling four stage arrays: one pass over y per step
    instead of nine, and a gradient that tapes four numbers per entry and step.
    """
    n = y.shape[0]
    h = 2.0 / s
    for step in range(s):
        y_prev = y[0]
        k1_prev = x0        # at i = 0 every stage is x0
        k2_prev = x0
        k3_prev = x0
        y[0] = y_prev + h * x0
        for i in range(1, n):
            y_old = y[i]
            k1 = c[i] * y_prev
            k2 = c[i] * (y_prev + 0.5 * h * k1_prev)
            k3 = c[i] * (y_prev + 0.5 * h * k2_prev)
            k4 = c[i] * (y_prev + h * k3_prev)
            y[i] = y_old + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            y_prev = y_old
            k1_prev = k1
            k2_prev = k2
            k3_prev = k3


def prefix_sums(x, c):
    """c_i = x_1 + ... + x_i (c_0 = 0): the coefficients of the `ode` problems."""
    acc = 0.0
    c[0] = 0.0
    for i in range(1, x.shape[0]):
        acc += x[i]
        c[i] = acc


def ode_last_output(x, s):
    n = x.shape[0]
    c = np.zeros(n)
    prefix_sums(x, c)
    y = np.zeros(n)
    rk4_chain(x[0], c, s, y)
    return y[n - 1]


def make_args_steps(s, rng):
    """`ode`: the size is the number of steps."""
    return (rng.random(ODE_UNKNOWNS), s)


def make_args_unknowns(n, rng):
    """`ode-gradbench`: the size is the number of unknowns."""
    return (rng.random(n), GRADBENCH_STEPS)


_prefix_sums = numba.njit(cache=True)(prefix_sums)


@numba.njit(cache=True)
def _rhs(x0, c, y, out):
    """out = f(y): out_0 = x_0, out_i = c_i y_{i-1}."""
    out[0] = x0
    for i in range(1, y.shape[0]):
        out[i] = c[i] * y[i - 1]


@numba.njit(cache=True)
def _rhs_adjoint(c, y, d_out, d_c, d_y):
    """Reverse of out = f(y): accumulate into d_c and d_y; returns d_x0."""
    for i in range(1, y.shape[0]):
        d_c[i] += d_out[i] * y[i - 1]
        d_y[i - 1] += d_out[i] * c[i]
    return d_out[0]


@numba.njit(cache=True)
def rk4_chain_gradient(x0, c, s):
    """The expert's version of `rk4_chain_adjoint`: the same result, each step's reverse in
    two sweeps over i instead of nine.

    Forward: `rk4_chain`'s fused sweep, taping y at the start of each step.  Reverse, per
    step: the stages k1..k3 recomputed upwards (k_m at i reads k_(m-1) at i - 1), then
    one downward sweep: stage m at i gets its adjoint from y'_i and from stage m + 1 at
    i + 1, carried in scalars, like the forward sweep carries i - 1.  Measured (CPU time,
    min of 10): 3.5 ms against 5.1 ms at n = 32, s = 2e4; 10 ms against 17 ms at n = 1e5,
    s = 10.
    """
    n = c.shape[0]
    h = 2.0 / s
    w = h / 6.0
    ys = np.empty((s, n))
    y = np.zeros(n)
    for step in range(s):
        ys[step] = y
        y_prev = y[0]
        k1_prev = x0
        k2_prev = x0
        k3_prev = x0
        y[0] = y_prev + h * x0
        for i in range(1, n):
            y_old = y[i]
            k1 = c[i] * y_prev
            k2 = c[i] * (y_prev + 0.5 * h * k1_prev)
            k3 = c[i] * (y_prev + 0.5 * h * k2_prev)
            k4 = c[i] * (y_prev + h * k3_prev)
            y[i] = y_old + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            y_prev = y_old
            k1_prev = k1
            k2_prev = k2
            k3_prev = k3
    value = y[n - 1]

    d_y = np.zeros(n)
    d_y[n - 1] = 1.0
    d_c = np.zeros(n)
    d_x0 = 0.0
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    for step in range(s - 1, -1, -1):
        y0 = ys[step]
        k1[0] = x0
        k2[0] = x0
        k3[0] = x0
        for i in range(1, n):
            k1[i] = c[i] * y0[i - 1]
            k2[i] = c[i] * (y0[i - 1] + 0.5 * h * k1[i - 1])
            k3[i] = c[i] * (y0[i - 1] + 0.5 * h * k2[i - 1])
        # D_m is the adjoint of stage m at i: w (2w for m = 2, 3) times d y'_i, plus what
        # stage m + 1 at i + 1 (u_(m+1) = y_i + a_m h k_m) sends back; `carry` is what the
        # stages at i + 1 send to y_i (old), added after y'_i's own adjoint is read
        d2_next = 0.0
        d3_next = 0.0
        d4_next = 0.0
        c_next = 0.0
        carry = 0.0
        for i in range(n - 1, 0, -1):
            dyp = d_y[i]
            d4 = w * dyp
            d3 = 2.0 * w * dyp + h * c_next * d4_next
            d2 = 2.0 * w * dyp + 0.5 * h * c_next * d3_next
            d1 = w * dyp + 0.5 * h * c_next * d2_next
            ym = y0[i - 1]
            d_c[i] += (d1 * ym + d2 * (ym + 0.5 * h * k1[i - 1]) + d3 * (ym + 0.5 * h * k2[i - 1])
                       + d4 * (ym + h * k3[i - 1]))
            d_y[i] = dyp + carry
            c_next = c[i]
            carry = c_next * (d1 + d2 + d3 + d4)
            d2_next = d2
            d3_next = d3
            d4_next = d4
        # i = 0: every stage is x0 itself
        dyp = d_y[0]
        d_x0 += (6.0 * w * dyp + h * c_next * d4_next + 0.5 * h * c_next * d3_next
                 + 0.5 * h * c_next * d2_next)
        d_y[0] = dyp + carry
    return value, d_x0, d_c

@numba.njit(cache=True)
def rk4_chain_adjoint(x0, c, s):
    """y_(n-1)(2) of `rk4_chain` from y(0) = 0, and its adjoints (d_x0, d_c); d_c[0] = 0.
    The mechanical adjoint: the stages as arrays, each reversed in its own loop."""
    n = c.shape[0]
    h = 2.0 / s
    # forward sweep: only y at the start of each step is taped (s * n floats); the
    # stages are recomputed from it in the reverse sweep, which costs one more
    # evaluation of the step but saves taping four more vectors per step
    ys = np.empty((s, n))
    y = np.zeros(n)
    u = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    for step in range(s):
        ys[step] = y
        _rhs(x0, c, y, k1)
        for i in range(n):
            u[i] = y[i] + 0.5 * h * k1[i]
        _rhs(x0, c, u, k2)
        for i in range(n):
            u[i] = y[i] + 0.5 * h * k2[i]
        _rhs(x0, c, u, k3)
        for i in range(n):
            u[i] = y[i] + h * k3[i]
        _rhs(x0, c, u, k4)
        for i in range(n):
            y[i] = y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
    value = y[n - 1]

    # reverse sweep
    d_y = np.zeros(n)
    d_y[n - 1] = 1.0
    d_c = np.zeros(n)
    d_x0 = 0.0
    u2 = np.empty(n)
    u3 = np.empty(n)
    u4 = np.empty(n)
    d_k1 = np.empty(n)
    d_k2 = np.empty(n)
    d_k3 = np.empty(n)
    d_k4 = np.empty(n)
    d_u = np.empty(n)
    for step in range(s - 1, -1, -1):
        y0 = ys[step]
        # recompute the stage inputs of this step
        _rhs(x0, c, y0, k1)
        for i in range(n):
            u2[i] = y0[i] + 0.5 * h * k1[i]
        _rhs(x0, c, u2, k2)
        for i in range(n):
            u3[i] = y0[i] + 0.5 * h * k2[i]
        _rhs(x0, c, u3, k3)
        for i in range(n):
            u4[i] = y0[i] + h * k3[i]
        # y_next = y0 + h/6 (k1 + 2 k2 + 2 k3 + k4); d_y carries over to y0 unchanged
        w = h / 6.0
        for i in range(n):
            d_k1[i] = w * d_y[i]
            d_k2[i] = 2.0 * w * d_y[i]
            d_k3[i] = 2.0 * w * d_y[i]
            d_k4[i] = w * d_y[i]
            d_u[i] = 0.0
        # k4 = f(u4), u4 = y0 + h k3
        d_x0 += _rhs_adjoint(c, u4, d_k4, d_c, d_u)
        for i in range(n):
            d_y[i] += d_u[i]
            d_k3[i] += h * d_u[i]
            d_u[i] = 0.0
        # k3 = f(u3), u3 = y0 + h/2 k2
        d_x0 += _rhs_adjoint(c, u3, d_k3, d_c, d_u)
        for i in range(n):
            d_y[i] += d_u[i]
            d_k2[i] += 0.5 * h * d_u[i]
            d_u[i] = 0.0
        # k2 = f(u2), u2 = y0 + h/2 k1
        d_x0 += _rhs_adjoint(c, u2, d_k2, d_c, d_u)
        for i in range(n):
            d_y[i] += d_u[i]
            d_k1[i] += 0.5 * h * d_u[i]
        # k1 = f(y0)
        d_x0 += _rhs_adjoint(c, y0, d_k1, d_c, d_y)
    return value, d_x0, d_c


def _ode_last_output(chain):
    """The gradient of `ode_last_output` over `chain` (rk4_chain_gradient or _adjoint)."""
    def gradient(x, s):
        n = x.shape[0]
        c = np.zeros(n)
        _prefix_sums(x, c)
        value, d_x0, d_c = chain(x[0], c, s)
        # c_i = x_1 + ... + x_i, so d_x_j = sum_{i >= j} d_c_i: a suffix sum
        d_x = np.empty(n)
        acc = 0.0
        for j in range(n - 1, 0, -1):
            acc += d_c[j]
            d_x[j] = acc
        d_x[0] = d_x0
        return value, (d_x,)
    return numba.njit(cache=True)(gradient)


ode_last_output_gradient = _ode_last_output(rk4_chain_gradient)
ode_last_output_adjoint = _ode_last_output(rk4_chain_adjoint)


PROBLEM = Problem(
    name="ode",
    title="ODE, RK4, long integration",
    summary=f"gradbench's `ode` system, y_0' = x_0, y_i' = (x_1 + ... + x_i) y_(i-1), y(0) = 0, "
            f"with n = {ODE_UNKNOWNS} unknowns x ~ U(0, 1) and s RK4 steps over t in [0, 2]; "
            "gradient of y_(n-1)(2) with respect to x.  The size is s: a long sequential loop "
            "whose reverse needs a tape.",
    function=ode_last_output,
    make_args=make_args_steps,
    argnums=(0,),
    hand=ode_last_output_gradient,
    hand_mechanical=ode_last_output_adjoint,
    size_name="s",
    default_size=20_000,
    quick_size=2_000,
    slow_size=200,
    sweep=(200, 2_000, 20_000, 200_000),
    test_size=10,
)

GRADBENCH_PROBLEM = Problem(
    name="ode-gradbench",
    title="ODE, RK4, gradbench's shape",
    summary=f"the same function with gradbench's shape: s = {GRADBENCH_STEPS} RK4 steps, the size is n.  "
            f"For n > {4 * GRADBENCH_STEPS + 1} the last output and its gradient are exactly zero (one "
            "RK4 step moves information four indices along the chain), in gradbench as here: the "
            "timing is meaningful, the cross-check only confirms the zeros.",
    function=ode_last_output,
    make_args=make_args_unknowns,
    argnums=(0,),
    hand=ode_last_output_gradient,
    hand_mechanical=ode_last_output_adjoint,
    size_name="n",
    default_size=100_000,
    quick_size=10_000,
    slow_size=500,
    sweep=(1_000, 10_000, 100_000, 1_000_000),
    test_size=6,
)
