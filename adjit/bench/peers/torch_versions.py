"""Vectorised PyTorch versions of the problems that have one.

The logistic map and the pendulum are recurrences: each step needs the previous one, so
there is nothing to vectorise; PyTorch runs them only as the scalar loop (engine
``torch``).  The ODE keeps its loop over the s RK4 steps and vectorises each step.
"""
import torch

from ..problems.gmm import HALF_LOG_2PI


def rosenbrock_vec(x):
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    return torch.sum(100.0 * a * a + b * b)


def rk4_last(x, c, s):
    """y_(n-1)(2) after s RK4 steps of y_0' = x_0, y_i' = c_i y_(i-1), y(0) = 0."""
    h = 2.0 / s

    def rhs(y):
        return torch.cat([x[:1], c[1:] * y[:-1]])
    y = torch.zeros_like(x)
    for _ in range(s):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * h * k1)
        k3 = rhs(y + 0.5 * h * k2)
        k4 = rhs(y + h * k3)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y[-1]


def ode_vec(x, s):
    return rk4_last(x, torch.cat([x.new_zeros(1), torch.cumsum(x[1:], 0)]), s)


def logsumexp_vec(x):
    m = torch.max(x)
    return m + torch.log(torch.sum(torch.exp(x - m)))


def gmm_vec(x, alphas, means, log_sigmas):
    a_max = torch.max(alphas)
    log_weights = alphas - (a_max + torch.log(torch.sum(torch.exp(alphas - a_max))))
    z = (x[:, None, :] - means[None, :, :]) * torch.exp(-log_sigmas)[None, :, :]
    lp = log_weights[None, :] - torch.sum(log_sigmas[None] + 0.5 * z * z + HALF_LOG_2PI, dim=2)
    m = torch.max(lp, dim=1).values
    return torch.sum(m + torch.log(torch.sum(torch.exp(lp - m[:, None]), dim=1)))


def heat_vec(u0, target, r, steps):
    u = u0.clone()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return torch.sum((u - target) ** 2)


def mlp_vec(W1, b1, W2, b2, X, Y):
    h = torch.relu(X @ W1 + b1)
    log_p = torch.log_softmax(h @ W2 + b2, dim=1)
    return -torch.mean(torch.sum(Y * log_p, dim=1))


def rnn_vec(W, U, b, h0, xs):
    h = h0
    total = 0.0
    for t in range(xs.shape[0]):
        h = torch.tanh(W @ h + U @ xs[t] + b)
        total = total + torch.sum(h * h)
    return total


VECTORISED = {
    "rosenbrock": rosenbrock_vec,
    "rosenbrock-pow": rosenbrock_vec,
    "rosenbrock-vec": rosenbrock_vec,
    "logsumexp-vec": logsumexp_vec,
    "heat": heat_vec,
    "ode": ode_vec,
    "ode-gradbench": ode_vec,
    "logsumexp": logsumexp_vec,
    "gmm": gmm_vec,
    "mlp": mlp_vec,
    "rnn": rnn_vec,
}

# gradbench's evals (problems gb-*)
from .gradbench_torch import VECTORISED as _GRADBENCH  # noqa: E402

VECTORISED.update(_GRADBENCH)
