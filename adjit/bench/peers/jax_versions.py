"""The problems in JAX, in two styles.

LOOP: the user's scalar loops, each Python ``for`` turned into ``lax.fori_loop`` and each
array write into ``.at[i].set``.  This is the same algorithm, the way JAX can express it.

IDIOMATIC: what a JAX user would write: ``jnp`` vector operations where the loop is a map
or a reduction, ``lax.fori_loop`` where the computation is a genuine recurrence.

Reverse mode and loops: ``jax.grad`` differentiates ``fori_loop`` only when its trip
count is static (it is then lowered to ``lax.scan``); with a traced trip count it becomes
a ``lax.while_loop``, which JAX cannot reverse-differentiate ("Reverse-mode
differentiation does not work for lax.while_loop").  So the integer arguments (step
counts) are passed as static arguments, and a loop whose trip count depends on the data
(a ``while`` with a data-dependent exit) has no JAX reverse-mode version at all.
"""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402  (after the float64 switch)
from jax import lax  # noqa: E402

from ..engines.shims import rebind  # noqa: E402
from ..problems.gmm import HALF_LOG_2PI  # noqa: E402
from ..problems.logsumexp import logsumexp_vec as _logsumexp_numpy  # noqa: E402
from ..problems.mlp import mlp_loss  # noqa: E402
from ..problems.rnn import rnn_loss  # noqa: E402
from ..problems.rosenbrock import rosenbrock_vec as _rosenbrock_numpy  # noqa: E402


def _max_loop(values, start, stop):
    """max over values[start:stop] by a loop, the first maximum winning ties."""
    return lax.fori_loop(start + 1, stop, lambda k, m: jnp.where(values[k] > m, values[k], m), values[start])


# ---- rosenbrock --------------------------------------------------------------------------
def rosenbrock_loop(x):
    def body(i, total):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        return total + 100.0 * a * a + b * b
    return lax.fori_loop(0, x.shape[0] - 1, body, 0.0)


def rosenbrock_vec(x):
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    return jnp.sum(100.0 * a * a + b * b)


# ---- logistic map and pendulum: recurrences, the same code in both styles ---------------
def logistic_loop(x0, r, n):
    def body(i, carry):
        l, total = carry
        l = r * l * (1.0 - l)
        return l, total + l
    _, total = lax.fori_loop(0, n, body, (x0, jnp.zeros_like(x0)))
    return total / n


def pendulum_loop(theta0, k, n):
    dt = 10.0 / n

    def body(i, carry):
        theta, omega = carry
        return theta + dt * omega, omega - dt * k * jnp.sin(theta)
    theta, omega = lax.fori_loop(0, n, body, (theta0, jnp.zeros_like(theta0)))
    return 0.5 * omega * omega + k * (1.0 - jnp.cos(theta))


# ---- ode ----------------------------------------------------------------------------------
def ode_loop(x, s):
    n = x.shape[0]
    h = 2.0 / s
    c = lax.fori_loop(1, n, lambda i, c: c.at[i].set(c[i - 1] + x[i]), jnp.zeros(n))

    def rhs(y):
        return lax.fori_loop(1, n, lambda i, k: k.at[i].set(c[i] * y[i - 1]), jnp.zeros(n).at[0].set(x[0]))

    def axpy(y, a, k):
        return lax.fori_loop(0, n, lambda i, u: u.at[i].set(y[i] + a * k[i]), jnp.zeros(n))

    def step(_, y):
        k1 = rhs(y)
        k2 = rhs(axpy(y, 0.5 * h, k1))
        k3 = rhs(axpy(y, 0.5 * h, k2))
        k4 = rhs(axpy(y, h, k3))
        return lax.fori_loop(
            0, n,
            lambda i, y_next: y_next.at[i].set(y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])),
            jnp.zeros(n))
    y = lax.fori_loop(0, s, step, jnp.zeros(n))
    return y[n - 1]


def rk4_last(x, c, s):
    """y_(n-1)(2) after s RK4 steps of y_0' = x_0, y_i' = c_i y_(i-1), y(0) = 0."""
    h = 2.0 / s

    def rhs(y):
        return jnp.concatenate([x[:1], c[1:] * y[:-1]])

    def step(_, y):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * h * k1)
        k3 = rhs(y + 0.5 * h * k2)
        k4 = rhs(y + h * k3)
        return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return lax.fori_loop(0, s, step, jnp.zeros_like(x))[-1]


def ode_vec(x, s):
    return rk4_last(x, jnp.concatenate([jnp.zeros(1), jnp.cumsum(x[1:])]), s)


# ---- logsumexp ----------------------------------------------------------------------------
def logsumexp_loop(x):
    n = x.shape[0]
    m = _max_loop(x, 0, n)
    s = lax.fori_loop(0, n, lambda i, s: s + jnp.exp(x[i] - m), 0.0)
    return m + jnp.log(s)


def logsumexp_vec(x):
    m = jnp.max(x)
    return m + jnp.log(jnp.sum(jnp.exp(x - m)))


# ---- gmm ------------------------------------------------------------------------------------
def gmm_loop(x, alphas, means, log_sigmas):
    n, dims = x.shape
    kk = alphas.shape[0]
    a_max = _max_loop(alphas, 0, kk)
    a_sum = lax.fori_loop(0, kk, lambda k, s: s + jnp.exp(alphas[k] - a_max), 0.0)
    log_norm = a_max + jnp.log(a_sum)

    def point(i, total):
        def component(k, lp):
            def dimension(j, acc):
                z = (x[i, j] - means[k, j]) * jnp.exp(-log_sigmas[k, j])
                return acc - (log_sigmas[k, j] + 0.5 * z * z + HALF_LOG_2PI)
            return lp.at[k].set(lax.fori_loop(0, dims, dimension, alphas[k] - log_norm))
        lp = lax.fori_loop(0, kk, component, jnp.zeros(kk))
        m = _max_loop(lp, 0, kk)
        s = lax.fori_loop(0, kk, lambda k, s: s + jnp.exp(lp[k] - m), 0.0)
        return total + m + jnp.log(s)
    return lax.fori_loop(0, n, point, 0.0)


def gmm_vec(x, alphas, means, log_sigmas):
    a_max = jnp.max(alphas)
    log_weights = alphas - (a_max + jnp.log(jnp.sum(jnp.exp(alphas - a_max))))
    z = (x[:, None, :] - means[None, :, :]) * jnp.exp(-log_sigmas)[None, :, :]
    lp = log_weights[None, :] - jnp.sum(log_sigmas[None] + 0.5 * z * z + HALF_LOG_2PI, axis=2)
    m = jnp.max(lp, axis=1)
    return jnp.sum(m + jnp.log(jnp.sum(jnp.exp(lp - m[:, None]), axis=1)))


# ---- the whole-array problems: the user's NumPy code itself, with np bound to jax.numpy ----
# (the rnn's Python loop is unrolled by tracing: T is static, it is xs's shape)
mlp_vec = rebind(mlp_loss, {"np": jnp})
rnn_unrolled = rebind(rnn_loss, {"np": jnp})
rosenbrock_numpy = rebind(_rosenbrock_numpy, {"np": jnp})
logsumexp_numpy = rebind(_logsumexp_numpy, {"np": jnp})


# ---- heat: the time loop as lax.fori_loop (tracing 2,000 unrolled steps would take minutes)
def heat_loop(u0, target, r, steps):
    def step(_, u):
        return u.at[1:-1].set(u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2]))
    u = lax.fori_loop(0, steps, step, u0)
    return jnp.sum((u - target) ** 2)


def rnn_scan(W, U, b, h0, xs):
    def step(carry, x):
        h, total = carry
        h = jnp.tanh(W @ h + U @ x + b)
        return (h, total + jnp.sum(h * h)), None
    (_, total), _ = lax.scan(step, (h0, 0.0), xs)
    return total



# ---- jacobian-expansion: y_i = tanh(sum_j x_j sin((j + 1) t_i + x_j)) ----------------------
def expansion_loop(x, m):
    n = x.shape[0]

    def row(i, y):
        t = i / (m - 1)
        s = lax.fori_loop(0, n, lambda j, s: s + x[j] * jnp.sin((j + 1) * t + x[j]), 0.0)
        return y.at[i].set(jnp.tanh(s))
    return lax.fori_loop(0, m, row, jnp.zeros(m))


def expansion_vec(x, m):
    t = jnp.arange(m) / (m - 1)
    u = jnp.arange(1, x.shape[0] + 1)[None, :] * t[:, None] + x[None, :]
    return jnp.tanh(jnp.sum(x[None, :] * jnp.sin(u), axis=1))


LOOP = {
    "rosenbrock": rosenbrock_loop,
    "rosenbrock-pow": rosenbrock_loop,
    "hessian-rosenbrock": rosenbrock_loop,
    "jacobian-expansion": expansion_loop,
    "logistic": logistic_loop,
    "pendulum": pendulum_loop,
    "ode": ode_loop,
    "ode-gradbench": ode_loop,
    "logsumexp": logsumexp_loop,
    "gmm": gmm_loop,
    "rnn": rnn_scan,
}

IDIOMATIC = {
    "rosenbrock": rosenbrock_vec,
    "rosenbrock-pow": rosenbrock_vec,
    "rosenbrock-vec": rosenbrock_numpy,
    "logsumexp-vec": logsumexp_numpy,
    "heat": heat_loop,
    "hessian-rosenbrock": rosenbrock_vec,
    "jacobian-expansion": expansion_vec,
    "logistic": logistic_loop,
    "pendulum": pendulum_loop,
    "ode": ode_vec,
    "ode-gradbench": ode_vec,
    "logsumexp": logsumexp_vec,
    "gmm": gmm_vec,
    "mlp": mlp_vec,
    "rnn": rnn_unrolled,
}

# gradbench's evals (problems gb-*): idiomatic JAX only
from .gradbench_jax import IDIOMATIC as _GRADBENCH  # noqa: E402  (after the float64 switch)

IDIOMATIC.update(_GRADBENCH)
