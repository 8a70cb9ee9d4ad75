"""gradbench's ``gmm`` eval: the log posterior of a Gaussian mixture (from ADBench).

Parameters: weights alpha (k), means mu (k, d), and for each component the inverse
covariance factor Q_k, a lower-triangular d x d matrix with diagonal exp(q_k) (q is
(k, d)) and strictly-lower entries l_k (l is (k, d(d-1)/2), filled column by column:
l_k[0] is Q[1, 0], l_k[1] is Q[2, 0], ...).  With the data x (n, d):

    objective = -n d/2 log(2 pi)
                + sum_i logsumexp_k (alpha_k + sum_j q_kj - 1/2 |Q_k (x_i - mu_k)|^2)
                - n logsumexp(alpha)
                + sum_k (-1/2 gamma^2 (|exp(q_k)|^2 + |l_k|^2) + m sum_j q_kj)
                + k C(d, gamma, m),

where the last line is the log of the Wishart prior (gradbench's corrected version of
ADBench's, with C = N d (log gamma - log(2)/2) - log Gamma_d(N/2), N = d + m + 1).  C
depends on the data only (it needs lgamma, which compiled code does not have), so it is
computed in Python when the input is read and passed in as ``wishart_c``.  The gradient
is with respect to alpha, mu, q and l.

Each Q_k is first written out as a full lower-triangular matrix (a (k, d, d) array,
with the prior's Frobenius norms summed on the way); then the log densities of all
points and components go to an (n, k) array, and a second loop over the points takes
their logsumexps (by the index of the maximum, as the ``lse`` eval).  Keeping the two
loops apart means the second one only reads the array: adjit's gradient then reloads
its entries instead of taping them.
"""
import math

import adjit
import numpy as np

from ..problems.gmm import HALF_LOG_2PI
from ..problems.logsumexp import logsumexp
from . import Eval, EvalFunction, floats, to_float, to_list


def gmm_objective(alpha, mu, q, l, x, gamma, m, wishart_c):
    n = x.shape[0]
    d = x.shape[1]
    k = alpha.shape[0]
    lower = np.zeros((k, d, d))
    sum_q = np.empty(k)
    prior = 0.0
    for ik in range(k):
        acc = 0.0
        frobenius = 0.0
        for j in range(d):
            e = math.exp(q[ik, j])
            lower[ik, j, j] = e
            frobenius += e * e
            acc += q[ik, j]
        sum_q[ik] = acc
        idx = 0
        for i in range(d):
            for j in range(i + 1, d):
                lower[ik, j, i] = l[ik, idx]
                frobenius += l[ik, idx] * l[ik, idx]
                idx += 1
        prior += 0.5 * gamma * gamma * frobenius - m * acc
    log_density = np.empty((n, k))
    for ix in range(n):
        for ik in range(k):
            sq = 0.0
            for j in range(d):
                v = 0.0
                for i in range(j + 1):
                    v += lower[ik, j, i] * (x[ix, i] - mu[ik, i])
                sq += v * v
            log_density[ix, ik] = alpha[ik] + sum_q[ik] - 0.5 * sq
    slse = 0.0
    for ix in range(n):
        best = 0
        for ik in range(1, k):
            if log_density[ix, ik] > log_density[ix, best]:
                best = ik
        top = log_density[ix, best]
        se = 0.0
        for ik in range(k):
            se += math.exp(log_density[ix, ik] - top)
        slse += top + math.log(se)
    return -n * d * HALF_LOG_2PI + slse - n * logsumexp(alpha) - prior + k * wishart_c


def wishart_constant(d, gamma, m):
    """C = N d (log gamma - log(2)/2) - log Gamma_d(N/2), N = d + m + 1."""
    big_n = d + m + 1
    log_gamma_d = 0.25 * d * (d - 1) * math.log(math.pi)
    for j in range(1, d + 1):
        log_gamma_d += math.lgamma(0.5 * big_n + 0.5 * (1 - j))
    return big_n * d * (math.log(gamma) - 0.5 * math.log(2.0)) - log_gamma_d


def _matrix(rows, k, width):
    return floats(rows).reshape(k, width)


def _arguments(inp):
    d, k = int(inp["d"]), int(inp["k"])
    gamma, m = float(inp["gamma"]), int(inp["m"])
    return (floats(inp["alpha"]), _matrix(inp["mu"], k, d), _matrix(inp["q"], k, d),
            _matrix(inp["l"], k, d * (d - 1) // 2), _matrix(inp["x"], int(inp["n"]), d),
            gamma, m, wishart_constant(d, gamma, m))


def _jacobian(grads):
    d_alpha, d_mu, d_q, d_l = grads
    return {"alpha": to_list(d_alpha), "mu": to_list(d_mu), "q": to_list(d_q), "l": to_list(d_l)}


def example_input():
    d, k, n = 3, 2, 4
    rng = np.random.default_rng(0)
    return {"d": d, "k": k, "n": n, "m": 0, "gamma": 1.0,
            "alpha": rng.standard_normal(k).tolist(), "mu": rng.standard_normal((k, d)).tolist(),
            "q": rng.standard_normal((k, d)).tolist(),
            "l": rng.standard_normal((k, d * (d - 1) // 2)).tolist(),
            "x": rng.standard_normal((n, d)).tolist()}


EVAL = Eval(
    name="gmm",
    functions={
        "objective": EvalFunction(adjit.jit(gmm_objective), _arguments, to_float),
        "jacobian": EvalFunction(adjit.grad(gmm_objective, argnums=(0, 1, 2, 3)), _arguments, _jacobian),
    },
    example=example_input,
)
