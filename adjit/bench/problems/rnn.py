"""A recurrent tanh cell unrolled over T steps, in whole-array NumPy with a Python loop.

    h_0 = h0,   h_t = tanh(W h_{t-1} + U x_t + b),   loss = sum_t sum(h_t * h_t)

Hidden size 32, input size 16; the size of the problem is the number of steps T.  The
hidden state is an array carried by the loop, so a reverse sweep needs every h_t (taped,
or recomputed).  Vectorised code: engines that run the function on 0-d values (torch's
scalar engine) skip it.
"""
import numba
import numpy as np

from ..problem import Problem

RNN_HIDDEN = 32
RNN_INPUTS = 16


def rnn_loss(W, U, b, h0, xs):
    h = h0
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
        total += np.sum(h * h)
    return total


def make_args(steps, rng):
    n_h, n_in = RNN_HIDDEN, RNN_INPUTS
    W = rng.standard_normal((n_h, n_h)) * (0.9 / np.sqrt(n_h))
    U = rng.standard_normal((n_h, n_in)) * (1.0 / np.sqrt(n_in))
    b = 0.1 * rng.standard_normal(n_h)
    h0 = 0.5 * rng.standard_normal(n_h)
    xs = rng.standard_normal((steps, n_in))
    return (W, U, b, h0, xs)


@numba.njit(cache=True)
def rnn_loss_adjoint(W, U, b, h0, xs):
    steps = xs.shape[0]
    n_h = h0.shape[0]
    # forward, keeping every hidden state: hs[t] is h_t, hs[0] = h0
    hs = np.empty((steps + 1, n_h))
    hs[0] = h0
    total = 0.0
    for t in range(steps):
        a = W @ hs[t] + U @ xs[t] + b
        for j in range(n_h):
            v = np.tanh(a[j])
            hs[t + 1, j] = v
            total += v * v
    # reverse
    d_W = np.zeros_like(W)
    d_U = np.zeros_like(U)
    d_b = np.zeros(n_h)
    d_h = np.zeros(n_h)
    d_a = np.empty(n_h)
    for t in range(steps - 1, -1, -1):
        for j in range(n_h):
            v = hs[t + 1, j]
            d_a[j] = (d_h[j] + 2.0 * v) * (1.0 - v * v)
            d_b[j] += d_a[j]
        for j in range(n_h):
            d_h[j] = 0.0
        for i in range(n_h):
            for j in range(n_h):
                d_W[i, j] += d_a[i] * hs[t, j]
                d_h[j] += W[i, j] * d_a[i]
            for k in range(xs.shape[1]):
                d_U[i, k] += d_a[i] * xs[t, k]
    return total, (d_W, d_U, d_b)


PROBLEM = Problem(
    name="rnn",
    title="recurrent tanh cell over T steps, whole-array NumPy in a loop",
    summary=f"h = tanh(W @ h + U @ x[t] + b) for t < T, loss = sum over t of sum(h * h); "
            f"hidden {RNN_HIDDEN}, input {RNN_INPUTS}; gradient with respect to W, U and b. "
            "The hidden state is an array carried by the loop.",
    function=rnn_loss,
    make_args=make_args,
    argnums=(0, 1, 2),
    hand=rnn_loss_adjoint,
    size_name="T",
    default_size=20,
    quick_size=20,
    slow_size=500,   # a tape records array operations here, not one entry per element:
                     # the slow engines are not slow here, so they run at every size of the sweep
    sweep=(5, 20, 100, 500),
    test_size=6,
    vectorised=True,
)
