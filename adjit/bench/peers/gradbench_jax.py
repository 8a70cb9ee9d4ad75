"""JAX versions of the gradbench problems (``gb-*``), written the idiomatic JAX way:
whole-array jax.numpy, lax.fori_loop / lax.scan for the recurrences (static trip counts).
Imported by jax_versions, after it has switched JAX to float64."""
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..problems.gmm import HALF_LOG_2PI


def llsq_vec(x, n):
    t = -1.0 + 2.0 * jnp.arange(n) / (n - 1)
    powers = t[:, None] ** jnp.arange(x.shape[0])[None, :]
    r = jnp.sign(t) - powers @ x
    return 0.5 * jnp.sum(r * r)


def ode_vec(x, s):
    from .jax_versions import rk4_last     # not at the top: jax_versions imports this module at its end
    return rk4_last(x, x, s)


def _logsumexp(a, axis=None):
    top = lax.stop_gradient(jnp.max(a, axis=axis, keepdims=True))
    return jnp.squeeze(top, axis=axis) + jnp.log(jnp.sum(jnp.exp(a - top), axis=axis))


def gmm_vec(alpha, mu, q, l, x, gamma, m, wishart_c):
    n, d = x.shape
    k = alpha.shape[0]
    rows, cols = np.triu_indices(d, 1)          # (i, j), i < j, in l's order; the entry is Q[j, i]
    lower = jnp.zeros((k, d, d)).at[:, cols, rows].set(l) + jnp.exp(q)[:, :, None] * jnp.eye(d)
    z = x[:, None, :] - mu[None, :, :]
    u = jnp.einsum("kji,nki->nkj", lower, z)
    beta = alpha + jnp.sum(q, axis=1) - 0.5 * jnp.sum(u * u, axis=2)
    prior = jnp.sum(0.5 * gamma * gamma * (jnp.sum(jnp.exp(q) ** 2, axis=1) + jnp.sum(l * l, axis=1))
                    - m * jnp.sum(q, axis=1))
    return (-n * d * HALF_LOG_2PI + jnp.sum(_logsumexp(beta, axis=1)) - n * _logsumexp(alpha)
            - prior + k * wishart_c)


def lstm_vec(main_params, extra_params, state, sequence):
    layers = main_params.shape[0] // 2
    b = main_params.shape[1] // 4
    weights, biases = main_params[0::2].reshape(layers, 4, b), main_params[1::2].reshape(layers, 4, b)
    hidden0, cell0 = state[0::2], state[1::2]

    def step(carry, t):
        hidden, cell = carry
        v = sequence[t] * extra_params[0]
        new_h, new_c = [], []
        for j in range(layers):
            w, bias = weights[j], biases[j]
            f = jax_sigmoid(v * w[0] + bias[0])
            g = jax_sigmoid(hidden[j] * w[1] + bias[1])
            o = jax_sigmoid(v * w[2] + bias[2])
            ch = jnp.tanh(hidden[j] * w[3] + bias[3])
            cl = cell[j] * f + g * ch
            v = o * jnp.tanh(cl)
            new_h.append(v)
            new_c.append(cl)
        y = v * extra_params[1] + extra_params[2]
        score = jnp.sum(sequence[t + 1] * (y - jnp.log(jnp.sum(jnp.exp(y)) + 2.0)))
        return (jnp.stack(new_h), jnp.stack(new_c)), score
    c = sequence.shape[0]
    _, scores = lax.scan(step, (hidden0, cell0), jnp.arange(c - 1))
    return -jnp.sum(scores) / ((c - 1) * b)


def jax_sigmoid(v):
    return 1.0 / (1.0 + jnp.exp(-v))


IDIOMATIC = {
    "gb-llsq": llsq_vec,
    "gb-ode": ode_vec,
    "gb-gmm": gmm_vec,
    "gb-lstm": lstm_vec,
}
