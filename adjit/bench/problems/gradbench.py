"""gradbench's evals as benchmark problems: the very functions the gradbench tool runs.

The functions live in ``adjit.bench.gradbench_evals`` (see docs/gradbench.md); here they
get inputs of a chosen size and a hand-written Numba adjoint each, the harness's
reference.  gradbench's ``lse`` is the ``logsumexp`` problem itself, so it is not repeated.

* ``gb-llsq``: least-squares polynomial objective, m = 128 coefficients, size n points.
* ``gb-ode``: the eval's RK4 system y_i' = x_i y_(i-1) with n = 32 unknowns, size s steps
  (the eval's own shapes, n >> s, have an exactly zero gradient; see the ``ode`` problem).
* ``gb-gmm``: the full-covariance GMM log posterior, d = 5, k = 10, size n points.
* ``gb-lstm``: the diagonal LSTM loss, 2 layers, b = 14, size c characters.
"""
import math

import numba
import numpy as np

from ..gradbench_evals.gmm import HALF_LOG_2PI, gmm_objective, wishart_constant
from ..gradbench_evals.llsq import llsq_objective
from ..gradbench_evals.lstm import lstm_objective
from ..gradbench_evals.ode import ode_last
from ..problem import Problem
from .ode import rk4_chain_adjoint, rk4_chain_gradient

LLSQ_COEFFICIENTS = 128
ODE_UNKNOWNS = 32
GMM_D, GMM_K = 5, 10
LSTM_LAYERS, LSTM_B = 2, 14


# ---- llsq -------------------------------------------------------------------------------
@numba.njit(cache=True)
def llsq_gradient(x, n):
    """The expert's gradient: each point's powers t^j kept in an m-vector while r is
    summed, so that r's adjoint is one loop without the multiply chain p *= t, which LLVM
    vectorises (measured, CPU time at n = 4096: 0.47 ms against 0.81 ms)."""
    m = x.shape[0]
    d_x = np.zeros(m)
    powers = np.empty(m)
    total = 0.0
    for i in range(n):
        t = -1.0 + i * 2.0 / (n - 1)
        r = np.sign(t)
        p = 1.0
        for j in range(m):
            powers[j] = p
            r -= x[j] * p
            p *= t
        total += r * r
        # d(0.5 r^2)/dx_j = -r t^j
        for j in range(m):
            d_x[j] -= r * powers[j]
    return 0.5 * total, (d_x,)


@numba.njit(cache=True)
def llsq_adjoint(x, n):
    """The adjoint that recomputes the powers for r's adjoint."""
    m = x.shape[0]
    d_x = np.zeros(m)
    total = 0.0
    for i in range(n):
        t = -1.0 + i * 2.0 / (n - 1)
        r = np.sign(t)
        p = 1.0
        for j in range(m):
            r -= x[j] * p
            p *= t
        total += r * r
        # d(0.5 r^2)/dx_j = -r t^j
        p = 1.0
        for j in range(m):
            d_x[j] -= r * p
            p *= t
    return 0.5 * total, (d_x,)


def llsq_args(n, rng):
    return (rng.random(LLSQ_COEFFICIENTS), n)


# ---- ode --------------------------------------------------------------------------------
def _ode_last(chain):
    def gradient(x, s):
        value, d_x0, d_c = chain(x[0], x, s)
        d_x = d_c.copy()        # c is x itself; c_0 is not read
        d_x[0] = d_x0
        return value, (d_x,)
    return numba.njit(cache=True)(gradient)


ode_last_gradient = _ode_last(rk4_chain_gradient)     # the expert's two sweeps per step
ode_last_adjoint = _ode_last(rk4_chain_adjoint)       # the mechanical adjoint


def ode_args(s, rng):
    return (rng.random(ODE_UNKNOWNS), s)


# ---- gmm --------------------------------------------------------------------------------
@numba.njit(cache=True)
def gmm_adjoint(alpha, mu, q, l, x, gamma, m, wishart_c):
    n, d = x.shape
    k = alpha.shape[0]
    # Q_k = lower-triangular, diagonal exp(q_k), below it l_k column by column
    lower = np.zeros((k, d, d))
    for ik in range(k):
        for j in range(d):
            lower[ik, j, j] = math.exp(q[ik, j])
        idx = 0
        for i in range(d):
            for j in range(i + 1, d):
                lower[ik, j, i] = l[ik, idx]
                idx += 1
    d_alpha = np.zeros(k)
    d_mu = np.zeros((k, d))
    d_lower = np.zeros((k, d, d))
    d_sumq = np.zeros(k)           # adjoint of sum_j q_kj
    beta = np.empty(k)
    z = np.empty((k, d))
    u = np.empty((k, d))
    slse = 0.0
    for ix in range(n):
        for ik in range(k):
            sq = 0.0
            for j in range(d):
                z[ik, j] = x[ix, j] - mu[ik, j]
            for j in range(d):
                v = 0.0
                for i in range(j + 1):
                    v += lower[ik, j, i] * z[ik, i]
                u[ik, j] = v
                sq += v * v
            beta[ik] = alpha[ik] + q[ik].sum() - 0.5 * sq
        top = beta.max()
        se = 0.0
        for ik in range(k):
            beta[ik] = math.exp(beta[ik] - top)
            se += beta[ik]
        slse += top + math.log(se)
        # reverse for this point: responsibilities w = softmax(beta)
        for ik in range(k):
            w = beta[ik] / se
            d_alpha[ik] += w
            d_sumq[ik] += w
            # beta = ... - 0.5 |u|^2, u = Q z, z = x - mu
            for j in range(d):
                for i in range(j + 1):
                    d_lower[ik, j, i] -= w * u[ik, j] * z[ik, i]
                    d_mu[ik, i] += w * u[ik, j] * lower[ik, j, i]
    a_max = alpha.max()
    a_sum = 0.0
    for ik in range(k):
        a_sum += math.exp(alpha[ik] - a_max)
    lse_alpha = a_max + math.log(a_sum)
    prior = 0.0
    for ik in range(k):
        frobenius = (np.exp(q[ik]) ** 2).sum() + (l[ik] ** 2).sum()
        prior += 0.5 * gamma * gamma * frobenius - m * q[ik].sum()
    value = -n * d * HALF_LOG_2PI + slse - n * lse_alpha - prior + k * wishart_c
    # - n logsumexp(alpha); the prior; Q's entries back to q and l
    d_q = np.empty((k, d))
    d_l = np.empty_like(l)
    for ik in range(k):
        d_alpha[ik] -= n * math.exp(alpha[ik] - a_max) / a_sum
        for j in range(d):
            e = lower[ik, j, j]
            d_q[ik, j] = d_sumq[ik] + d_lower[ik, j, j] * e - gamma * gamma * e * e + m
        idx = 0
        for i in range(d):
            for j in range(i + 1, d):
                d_l[ik, idx] = d_lower[ik, j, i] - gamma * gamma * l[ik, idx]
                idx += 1
    return value, (d_alpha, d_mu, d_q, d_l)


def gmm_args(n, rng):
    d, k = GMM_D, GMM_K
    gamma, m = 1.0, 0
    return (rng.standard_normal(k), rng.standard_normal((k, d)), 0.3 * rng.standard_normal((k, d)),
            0.3 * rng.standard_normal((k, d * (d - 1) // 2)), rng.standard_normal((n, d)),
            gamma, m, wishart_constant(d, gamma, m))


# ---- lstm -------------------------------------------------------------------------------
@numba.njit(cache=True)
def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


@numba.njit(cache=True)
def lstm_gradient(main_params, extra_params, state, sequence):
    """The expert's gradient: `lstm_adjoint` with the gates saved in the forward sweep
    instead of recomputed (measured, CPU time at c = 1024: 2.1 ms against 3.3 ms)."""
    layers = main_params.shape[0] // 2
    b = main_params.shape[1] // 4
    c = sequence.shape[0]
    hidden = np.empty((c, layers, b))
    cell = np.empty((c, layers, b))
    for j in range(layers):
        hidden[0, j] = state[2 * j]
        cell[0, j] = state[2 * j + 1]
    # the gates and tanh(cell) of every step, layer and entry are saved (5 c l b floats):
    # the reverse sweep then reads them instead of recomputing five transcendentals
    gates = np.empty((c, layers, 5, b))
    ypred = np.empty((c, b))
    exp_y = np.empty((c, b))
    lse = np.empty(c)
    total = 0.0
    for t in range(c - 1):
        sum_exp = 0.0
        for i in range(b):
            v = sequence[t, i] * extra_params[0, i]
            for j in range(layers):
                w, bias = main_params[2 * j], main_params[2 * j + 1]
                h = hidden[t, j, i]
                f = _sigmoid(v * w[i] + bias[i])
                g = _sigmoid(h * w[b + i] + bias[b + i])
                o = _sigmoid(v * w[2 * b + i] + bias[2 * b + i])
                ch = math.tanh(h * w[3 * b + i] + bias[3 * b + i])
                cl = cell[t, j, i] * f + g * ch
                tc = math.tanh(cl)
                v = o * tc
                gates[t, j, 0, i] = f
                gates[t, j, 1, i] = g
                gates[t, j, 2, i] = o
                gates[t, j, 3, i] = ch
                gates[t, j, 4, i] = tc
                cell[t + 1, j, i] = cl
                hidden[t + 1, j, i] = v
            y = v * extra_params[1, i] + extra_params[2, i]
            ypred[t, i] = y
            e = math.exp(y)
            exp_y[t, i] = e
            sum_exp += e
        lse[t] = math.log(sum_exp + 2.0)
        for i in range(b):
            total += sequence[t + 1, i] * (ypred[t, i] - lse[t])
    count = (c - 1) * b
    # reverse: d_total = -1 / count
    d_main = np.zeros_like(main_params)
    d_extra = np.zeros_like(extra_params)
    d_h = np.zeros((layers, b))       # adjoints of hidden[t + 1] and cell[t + 1] from step t + 1
    d_c = np.zeros((layers, b))
    d_total = -1.0 / count
    for t in range(c - 2, -1, -1):
        weight = 0.0
        for i in range(b):
            weight += sequence[t + 1, i]
        softmax_scale = 1.0 / (exp_y[t].sum() + 2.0)
        for i in range(b):
            d_y = d_total * (sequence[t + 1, i] - weight * exp_y[t, i] * softmax_scale)
            top = hidden[t + 1, layers - 1, i]
            d_extra[1, i] += d_y * top
            d_extra[2, i] += d_y
            d_v = d_y * extra_params[1, i]
            for j in range(layers - 1, -1, -1):
                w = main_params[2 * j]
                v_in = hidden[t + 1, j - 1, i] if j > 0 else sequence[t, i] * extra_params[0, i]
                h = hidden[t, j, i]
                cp = cell[t, j, i]
                f = gates[t, j, 0, i]
                g = gates[t, j, 1, i]
                o = gates[t, j, 2, i]
                ch = gates[t, j, 3, i]
                tc = gates[t, j, 4, i]
                d_hn = d_v + d_h[j, i]
                d_cn = d_c[j, i] + d_hn * o * (1.0 - tc * tc)
                a_f = d_cn * cp * f * (1.0 - f)
                a_g = d_cn * ch * g * (1.0 - g)
                a_o = d_hn * tc * o * (1.0 - o)
                a_c = d_cn * g * (1.0 - ch * ch)
                d_main[2 * j, i] += a_f * v_in
                d_main[2 * j + 1, i] += a_f
                d_main[2 * j, b + i] += a_g * h
                d_main[2 * j + 1, b + i] += a_g
                d_main[2 * j, 2 * b + i] += a_o * v_in
                d_main[2 * j + 1, 2 * b + i] += a_o
                d_main[2 * j, 3 * b + i] += a_c * h
                d_main[2 * j + 1, 3 * b + i] += a_c
                d_h[j, i] = a_g * w[b + i] + a_c * w[3 * b + i]
                d_c[j, i] = d_cn * f
                d_v = a_f * w[i] + a_o * w[2 * b + i]
            d_extra[0, i] += d_v * sequence[t, i]
    return -total / count, (d_main, d_extra)


@numba.njit(cache=True)
def lstm_adjoint(main_params, extra_params, state, sequence):
    """The adjoint that recomputes every gate in the reverse sweep from the saved states."""
    layers = main_params.shape[0] // 2
    b = main_params.shape[1] // 4
    c = sequence.shape[0]
    hidden = np.empty((c, layers, b))
    cell = np.empty((c, layers, b))
    for j in range(layers):
        hidden[0, j] = state[2 * j]
        cell[0, j] = state[2 * j + 1]
    ypred = np.empty((c, b))
    lse = np.empty(c)
    total = 0.0
    for t in range(c - 1):
        sum_exp = 0.0
        for i in range(b):
            v = sequence[t, i] * extra_params[0, i]
            for j in range(layers):
                w, bias = main_params[2 * j], main_params[2 * j + 1]
                h = hidden[t, j, i]
                f = _sigmoid(v * w[i] + bias[i])
                g = _sigmoid(h * w[b + i] + bias[b + i])
                o = _sigmoid(v * w[2 * b + i] + bias[2 * b + i])
                ch = math.tanh(h * w[3 * b + i] + bias[3 * b + i])
                cl = cell[t, j, i] * f + g * ch
                v = o * math.tanh(cl)
                cell[t + 1, j, i] = cl
                hidden[t + 1, j, i] = v
            y = v * extra_params[1, i] + extra_params[2, i]
            ypred[t, i] = y
            sum_exp += math.exp(y)
        lse[t] = math.log(sum_exp + 2.0)
        for i in range(b):
            total += sequence[t + 1, i] * (ypred[t, i] - lse[t])
    count = (c - 1) * b
    # reverse: d_total = -1 / count
    d_main = np.zeros_like(main_params)
    d_extra = np.zeros_like(extra_params)
    d_h = np.zeros((layers, b))       # adjoints of hidden[t + 1] and cell[t + 1] from step t + 1
    d_c = np.zeros((layers, b))
    d_total = -1.0 / count
    for t in range(c - 2, -1, -1):
        weight = 0.0
        for i in range(b):
            weight += sequence[t + 1, i]
        softmax_scale = math.exp(-lse[t])
        for i in range(b):
            y = ypred[t, i]
            d_y = d_total * (sequence[t + 1, i] - weight * math.exp(y) * softmax_scale)
            top = hidden[t + 1, layers - 1, i]
            d_extra[1, i] += d_y * top
            d_extra[2, i] += d_y
            d_v = d_y * extra_params[1, i]
            for j in range(layers - 1, -1, -1):
                w, bias = main_params[2 * j], main_params[2 * j + 1]
                v_in = hidden[t + 1, j - 1, i] if j > 0 else sequence[t, i] * extra_params[0, i]
                h = hidden[t, j, i]
                cp = cell[t, j, i]
                f = _sigmoid(v_in * w[i] + bias[i])
                g = _sigmoid(h * w[b + i] + bias[b + i])
                o = _sigmoid(v_in * w[2 * b + i] + bias[2 * b + i])
                ch = math.tanh(h * w[3 * b + i] + bias[3 * b + i])
                tc = math.tanh(cell[t + 1, j, i])
                d_hn = d_v + d_h[j, i]
                d_cn = d_c[j, i] + d_hn * o * (1.0 - tc * tc)
                a_f = d_cn * cp * f * (1.0 - f)
                a_g = d_cn * ch * g * (1.0 - g)
                a_o = d_hn * tc * o * (1.0 - o)
                a_c = d_cn * g * (1.0 - ch * ch)
                d_main[2 * j, i] += a_f * v_in
                d_main[2 * j + 1, i] += a_f
                d_main[2 * j, b + i] += a_g * h
                d_main[2 * j + 1, b + i] += a_g
                d_main[2 * j, 2 * b + i] += a_o * v_in
                d_main[2 * j + 1, 2 * b + i] += a_o
                d_main[2 * j, 3 * b + i] += a_c * h
                d_main[2 * j + 1, 3 * b + i] += a_c
                d_h[j, i] = a_g * w[b + i] + a_c * w[3 * b + i]
                d_c[j, i] = d_cn * f
                d_v = a_f * w[i] + a_o * w[2 * b + i]
            d_extra[0, i] += d_v * sequence[t, i]
    return -total / count, (d_main, d_extra)


def lstm_args(c, rng):
    layers, b = LSTM_LAYERS, LSTM_B
    return (rng.random((2 * layers, 4 * b)) - 0.5, rng.random((3, b)) - 0.5, rng.random((2 * layers, b)) - 0.5,
            np.eye(b)[rng.integers(0, b, c)])


PROBLEMS = (
    Problem(
        name="gb-llsq",
        title="gradbench llsq: least-squares polynomial fit",
        summary=f"1/2 sum_i (sign(t_i) - sum_j x_j t_i^j)^2 over n points t_i in [-1, 1], "
                f"m = {LLSQ_COEFFICIENTS} coefficients; gradient with respect to x.",
        function=llsq_objective, make_args=llsq_args, argnums=(0,), hand=llsq_gradient,
        hand_mechanical=llsq_adjoint,
        size_name="n", default_size=4096, quick_size=512, slow_size=64,
        sweep=(256, 1024, 4096, 16384), test_size=9),
    Problem(
        name="gb-ode",
        title="gradbench ode: y_i' = x_i y_(i-1), RK4",
        summary=f"the eval's system with n = {ODE_UNKNOWNS} unknowns and s RK4 steps (the size); "
                "gradient of the last output with respect to x.",
        function=ode_last, make_args=ode_args, argnums=(0,), hand=ode_last_gradient,
        hand_mechanical=ode_last_adjoint,
        size_name="s", default_size=20_000, quick_size=2_000, slow_size=200,
        sweep=(200, 2_000, 20_000, 200_000), test_size=10),
    Problem(
        name="gb-gmm",
        title="gradbench gmm: full-covariance GMM with a Wishart prior",
        summary=f"ADBench's GMM log posterior, d = {GMM_D}, k = {GMM_K}, n points (the size); "
                "gradient with respect to alpha, mu, q and l.",
        function=gmm_objective, make_args=gmm_args, argnums=(0, 1, 2, 3), hand=gmm_adjoint,
        size_name="n", default_size=10_000, quick_size=1_000, slow_size=100,
        sweep=(100, 1_000, 10_000, 100_000), test_size=4),
    Problem(
        name="gb-lstm",
        title="gradbench lstm: ADBench's diagonal LSTM",
        summary=f"{LSTM_LAYERS} layers, b = {LSTM_B}, c characters (the size); gradient of the "
                "loss with respect to main_params and extra_params.",
        function=lstm_objective, make_args=lstm_args, argnums=(0, 1), hand=lstm_gradient,
        hand_mechanical=lstm_adjoint,
        size_name="c", default_size=1024, quick_size=256, slow_size=32,
        sweep=(64, 256, 1024, 4096), test_size=4),
)
